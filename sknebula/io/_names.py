"""The classes and functions a model file may name, one table per slot.

A model file names an optimizer, an encoder class, a partner metric, a view
generator, a training callback or a learning-rate policy by its import name.
Such a name is looked up in a table built from the objects themselves (the
key of each is its own ``__module__`` and ``__qualname__``), the table of
the slot the name stands in; nothing is imported and no attribute is
followed. So a name reaches only an object that has that very name, of the
type its slot needs, public (no part of the name starts with ``_``). A name
such as ``sknebula.<module>.os.system`` matches no key.
"""

import functools
import inspect

# The slots of a model file that may name code, and what each accepts.
OPTIMIZER = "optimizer"
ENCODER = "encoder"
METRIC = "metric"
AUGMENTATION = "augmentation"
CALLBACK = "callback"
LR_POLICY = "lr_policy"

# skorch callbacks a file may hold: those that neither read nor write files
# nor take functions, and whose parameters are plain values.
_CALLBACKS = (
    "BatchScoring", "EarlyStopping", "EpochScoring", "EpochTimer",
    "GradientNormClipping", "LRScheduler", "PassthroughScoring", "PrintLog",
    "ProgressBar", "WarmRestartLR",
)


def import_name(obj):
    """``module.qualname`` of a class or function, or None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return f"{module}.{qualname}"


def _public(name):
    return name is not None and all(
        part.isidentifier() and not part.startswith("_") for part in name.split(".")
    )


def _subclasses_in(namespace, base, names=None):
    """The classes of ``namespace`` (a dict) that subclass ``base``, other
    than ``base`` itself, among ``names`` where given."""
    return [
        value for key, value in namespace.items()
        if (names is None or key in names)
        and inspect.isclass(value) and issubclass(value, base) and value is not base
    ]


def _optimizers():
    import torch

    return _subclasses_in(vars(torch.optim), torch.optim.Optimizer)


def _encoders():
    from torch import nn

    from .. import nn as sknebula_nn

    names = {n for n in sknebula_nn.__all__ if n.endswith("Encoder")}
    return _subclasses_in(vars(sknebula_nn), nn.Module, names)


def _metrics():
    from ..series import paired_dtw, paired_sbd

    return [paired_dtw, paired_sbd]


def _augmentations():
    from .. import augment

    return _subclasses_in(vars(augment), augment.Augmentation)


def _callbacks():
    import skorch.callbacks

    return _subclasses_in(vars(skorch.callbacks), skorch.callbacks.Callback, _CALLBACKS)


def _lr_policies():
    from torch.optim import lr_scheduler

    return _subclasses_in(vars(lr_scheduler), lr_scheduler.LRScheduler)


_SLOTS = {
    OPTIMIZER: (_optimizers, "a torch.optim optimizer class"),
    ENCODER: (_encoders, "one of sknebula.nn's encoder classes"),
    METRIC: (_metrics, "one of sknebula.series' partner distances"),
    AUGMENTATION: (_augmentations, "one of sknebula.augment's view generators"),
    CALLBACK: (_callbacks, f"one of the skorch callbacks {', '.join(_CALLBACKS)}"),
    LR_POLICY: (_lr_policies, "a torch.optim.lr_scheduler class"),
}


@functools.lru_cache(maxsize=None)
def table(slot):
    """``{import name: object}`` of what ``slot`` accepts."""
    objects, _ = _SLOTS[slot]
    return {import_name(obj): obj for obj in objects() if _public(import_name(obj))}


def name_of(obj, slot):
    """The import name under which ``obj`` is stored in ``slot``, or None
    where the slot does not accept it (then it cannot be stored)."""
    if slot not in _SLOTS:
        return None
    name = import_name(obj)
    return name if table(slot).get(name) is obj else None


def resolve(name, slot):
    """The object that ``name`` stands for in ``slot``; ValueError for any
    other name, and for any name in a slot that names no code."""
    if slot not in _SLOTS:
        raise ValueError(
            f"The file names {str(name)[:200]!r} where only a value may stand."
        )
    obj = table(slot).get(name) if isinstance(name, str) else None
    if obj is None:
        raise ValueError(
            f"The file names {str(name)[:200]!r} as {slot}, which is not "
            f"{_SLOTS[slot][1]}; sknebula.io.load resolves no other names."
        )
    return obj
