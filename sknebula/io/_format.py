"""The model file: write it, check it, read it back without running its code."""

import inspect
import json
import math
import warnings

import torch
from skorch.history import History

from .._data import batch_loader
from .._net import NebulaNet
from .._random import global_state_kept
from . import _attributes, _names, _values

# The layout of the file; load reads only this version.
FORMAT_VERSION = 1
# The metadata key that marks a file as written by dump.
FORMAT_NAME = "sknebula.io"
# Bytes a safetensors file starts with: the header's length, then "{".
_HEADER_LENGTH_BYTES = 8
# What a constructor parameter may hold beyond plain values (see _names).
_PARAM_SLOTS = {
    "optimizer": _names.OPTIMIZER,
    "encoder": _names.ENCODER,
    "metric": _names.METRIC,
    "views": _names.AUGMENTATION,
    "augmentation": _names.AUGMENTATION,
    "callbacks": _names.CALLBACK,
    "random_state": _values.RANDOM_STATE,
    "device": _values.DEVICE,
}
# Net parameters stored beside the module: the net's code is the
# estimator's own (named in the file only as a check), its numbers are the
# file's. Training alone reads the rest.
_NET_CODE = ("criterion", "optimizer", "iterator_train")
_NET_NUMBERS = ("lr", "max_epochs", "batch_size")
_CRITERION_PREFIX = "criterion__"


def library_version():
    from .. import __version__

    return __version__


def estimator_classes():
    """The public estimators, by class name."""
    import sknebula

    return {name: getattr(sknebula, name) for name in sknebula.__all__
            if inspect.isclass(getattr(sknebula, name))}


# -------------------------------------------------------------------- net
def _net_code(est):
    """The import names of the code the estimator's net runs."""
    return {
        "criterion": _names.import_name(est._criterion),
        "optimizer": _names.import_name(est.optimizer),
        "iterator_train": _names.import_name(batch_loader),
    }


def _history_values(value):
    """History entries with 0-d tensors as floats."""
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        return value.item()
    if isinstance(value, dict):
        return {k: _history_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_history_values(v) for v in value)
    return value


def _encode_net(est, writer):
    net = est.net_
    if type(net) is not NebulaNet:
        raise ValueError(
            f"sknebula.io.dump stores the NebulaNet that fit builds, not {type(net).__name__}."
        )
    code = _net_code(est)
    items = [[key, {"__kind__": "import", "name": code[key]}] for key in _NET_CODE]
    params = net.get_params(deep=False)
    items += [[key, writer.encode(params[key], f"net_.{key}")] for key in _NET_NUMBERS]
    items.append(["train_split", None])
    items += [[key, writer.encode(value, f"net_.{key}")] for key, value in params.items()
              if key.startswith(_CRITERION_PREFIX)]
    for key, tensor in net.module_.state_dict().items():
        writer.tensors[f"module/{key}"] = tensor.detach().cpu().contiguous().clone()
    return {
        "params": {"__kind__": "dict", "items": items},
        "device": str(net.device),
        "history": writer.encode(_history_values(list(net.history)), "history_"),
    }


def _net_params(est, entries):
    """The numbers and criterion parameters of the file's net, checked
    against what the estimator's own net takes; anything else is refused."""
    code = _net_code(est)
    takes = set(inspect.signature(est._criterion).parameters)
    numbers, criterion = {}, {}
    for key, value in _values.pairs(entries, "net parameters"):
        if key in code:
            if value != {"__kind__": "import", "name": code[key]}:
                raise ValueError(
                    f"The file's net names {str(value)[:200]} as its {key}; a "
                    f"{type(est).__name__} with these parameters runs {code[key]!r}."
                )
        elif key == "train_split":
            if value is not None:
                raise ValueError("The file's net has a train_split; sknebula's has none.")
        elif key in _NET_NUMBERS:
            valid = (type(value) in (int, float) and math.isfinite(value) and value > 0
                     if key == "lr" else type(value) is int and value >= 1)
            if not valid:
                raise ValueError(f"The file's net has {key}={str(value)[:50]!r}.")
            numbers[key] = value
        elif key.startswith(_CRITERION_PREFIX) and key[len(_CRITERION_PREFIX):] in takes:
            if value is not None and type(value) not in (bool, int, float, str):
                raise ValueError(f"The file's net has {key}={str(value)[:50]!r}, "
                                 "not a plain value.")
            criterion[key] = value
        else:
            raise ValueError(
                f"The file's net has the parameter {str(key)[:100]!r}, which sknebula does "
                "not write."
            )
    return numbers, criterion


def _check_shapes(est, tensors):
    """ValueError unless the network that the file's parameters build (on
    the meta device: no memory) has exactly the file's weights' shapes."""
    try:
        with global_state_kept(), torch.device("meta"):
            module = est._build_module()
        planned = module.state_dict()
    except Exception as exc:  # noqa: BLE001  (any failure of the build is the file's)
        raise ValueError(
            f"The file's parameters do not build a {type(est).__name__} module: {exc}"
        ) from None
    held = {k[len("module/"):]: v for k, v in tensors.items() if k.startswith("module/")}
    differ = sorted(
        set(planned) ^ set(held)
        | {k for k in set(planned) & set(held) if planned[k].shape != held[k].shape}
    )
    if differ:
        raise ValueError(
            f"The file's tensors do not match its parameters ({type(est).__name__} with "
            f"{est.get_params(deep=False)!r} builds another module); they differ in "
            f"{differ[:5]}{' ...' if len(differ) > 5 else ''}."
        )
    return module, held


def _decode_net(est, doc, reader, device):
    numbers, criterion = _net_params(est, doc.get("params"))
    _attributes.upgrade(est)
    _attributes.check_fitted(est)
    planned, state = _check_shapes(est, reader.tensors)
    _attributes.check_module(est, planned)
    try:
        with global_state_kept():
            module = est._build_module()
        module.load_state_dict(state, strict=True)
    except (RuntimeError, MemoryError) as exc:
        raise ValueError(f"The file's tensors do not fit its module: {exc}") from None
    history = reader.decode(doc.get("history"))
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise ValueError("The file's training history is not a list of epochs.")
    net = NebulaNet(
        module=module, criterion=est._criterion, optimizer=est.optimizer,
        iterator_train=batch_loader, train_split=None, device=device,
        **numbers, **criterion,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net.initialize()
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        raise ValueError(f"The file's net does not initialise: {exc!r}") from None
    net.history = History(history)
    net.module_.eval()
    return net


# ---------------------------------------------------------------- writing
def dump(estimator, file):
    """Write a sknebula estimator to a file that loads without running code.

    One `safetensors` file: the module's weights and every array (anchors,
    labels, ...) as tensors, and the constructor parameters, the other
    fitted attributes and the training history (``history_``) as JSON in
    its metadata header, with the file format's version and sknebula's.
    Tensors are written from wherever they are (a model fitted on a GPU is
    written as CPU tensors).

    Parameters
    ----------
    estimator : estimator
        One of sknebula's estimators, fitted or not.
    file : str, path-like or binary file object
        Where to write.

    Raises
    ------
    ValueError
        If a parameter or attribute cannot be stored without code: a class,
        function or object other than a ``torch.optim`` optimizer, one of
        sknebula's encoder classes, partner distances (``sknebula.series``)
        or view generators (``sknebula.augment``), or one of a few skorch
        callbacks, each in the parameter that takes it (a user's own
        encoder class or metric is not stored); use a named option, or
        pickle/joblib, which run code on load.

    See Also
    --------
    load : Read the file back.
    to_onnx : Export inference to ONNX, for serving without torch.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.io import dump, load
    >>> X, _ = make_blobs(n_samples=40, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, max_epochs=4, random_state=0).fit(X)
    >>> file = io.BytesIO()  # or a path, e.g. "model.safetensors"
    >>> dump(est, file)
    >>> restored = load(file.getvalue())
    >>> bool((restored.predict(X) == est.predict(X)).all())
    True
    """
    from safetensors.torch import save

    classes = estimator_classes()
    cls = type(estimator)
    if classes.get(cls.__name__) is not cls:
        raise ValueError(
            f"sknebula.io.dump writes sknebula's estimators "
            f"({', '.join(sorted(classes))}), not {cls.__name__}."
        )
    writer = _values.Writer()
    params = estimator.get_params(deep=False)
    encoded = [[name, writer.encode(value, name, _PARAM_SLOTS.get(name))]
               for name, value in params.items()]
    fitted = {}
    for name, value in vars(estimator).items():
        if name in params or name == "net_":
            continue
        fitted[name] = writer.encode(value, name)
    doc = {
        "estimator": cls.__name__,
        "params": {"__kind__": "dict", "items": encoded},
        "attributes": fitted,
        "net": _encode_net(estimator, writer) if hasattr(estimator, "net_") else None,
    }
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "sknebula_version": library_version(),
        "torch_version": torch.__version__.split("+")[0],
        "estimator": json.dumps(doc),
    }
    data = save(writer.tensors, metadata=metadata)
    if hasattr(file, "write"):
        file.write(data)
    else:
        with open(file, "wb") as f:
            f.write(data)


# ---------------------------------------------------------------- reading
def _refuse_foreign(data):
    """The header length of a safetensors file's bytes ``data``; a clear
    ValueError for anything else (pickles and zip archives above all),
    which is never interpreted further."""
    n = _HEADER_LENGTH_BYTES
    if len(data) <= n or data[n:n + 1] != b"{":
        if data[:4] == b"PK\x03\x04":
            raise ValueError(
                "This is a zip archive (as torch.save and some joblib files write), "
                "which may hold a pickle; sknebula.io.load reads only files written by "
                "sknebula.io.dump and never unpickles. Load a trusted archive with "
                "torch.load or joblib.load yourself."
            )
        if data[:1] == b"\x80" or data[:1] in (b"(", b"c", b"]", b"}", b"I", b"S", b"N"):
            raise ValueError(
                "This is a pickle (as pickle, joblib and torch.save write), which runs "
                "code when it loads; sknebula.io.load never unpickles. Load a trusted "
                "pickle with joblib.load yourself, and write shareable files with "
                "sknebula.io.dump."
            )
        if len(data) <= n:
            raise ValueError(
                f"The file holds {len(data)} bytes: too short for a sknebula model file "
                "(truncated?)."
            )
        raise ValueError("Not a sknebula model file (no safetensors header).")
    size = int.from_bytes(data[:n], "little")
    if size > len(data) - n:
        raise ValueError(
            f"The file is truncated: its header alone should take {size} bytes, and "
            f"{len(data) - n} follow its length."
        )
    return size


def _json(text, what):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"The file's {what} is not valid JSON (truncated or corrupt).") from None


def read(data):
    """The metadata, the estimator description and the tensors of a model
    file's bytes, after checking its format, version and length."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    size = _refuse_foreign(data)
    header = _json(data[_HEADER_LENGTH_BYTES:_HEADER_LENGTH_BYTES + size], "header")
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            "A safetensors file, but not a sknebula model file (written by "
            "sknebula.io.dump)."
        )
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise ValueError(
            f"The file has format version {version!r}, written by sknebula "
            f"{metadata.get('sknebula_version')!r}; this sknebula "
            f"({library_version()}) reads format version {FORMAT_VERSION}. Load it with "
            "the sknebula that wrote it and save it again with this one's dump."
        )
    try:
        ends = [entry["data_offsets"][1] for key, entry in header.items()
                if key != "__metadata__"]
    except (KeyError, TypeError, IndexError):
        raise ValueError("The file's tensor table is corrupt.") from None
    held = len(data) - _HEADER_LENGTH_BYTES - size
    if max(ends, default=0) != held:
        raise ValueError(
            f"The file is truncated or corrupt: its header describes {max(ends, default=0)} "
            f"bytes of tensors, and it holds {held}."
        )
    try:
        tensors = load_tensors(bytes(data))
    except (SafetensorError, ValueError, RuntimeError, TypeError) as exc:
        raise ValueError(f"The file's tensors cannot be read (corrupt?): {exc}") from None
    doc = _json(metadata.get("estimator") or "", "estimator description")
    if not isinstance(doc, dict):
        raise ValueError("The file's estimator description is missing or corrupt.")
    return metadata, doc, tensors


def load(file, device="cpu"):
    """Read an estimator written by :func:`dump`, without running its code.

    The file is checked before anything in it is used: a pickle, a joblib
    file or a ``torch.save`` archive is refused (and so never unpickled), as
    are a file of an unknown format version, a truncated one and one whose
    tensors do not match its parameters. The only code that runs is
    sknebula's own: the file names code (an optimizer, an encoder class, a
    partner distance, a view generator, a callback) only in the parameters
    that take it, and each name must be one of a fixed table's (see
    :func:`dump`), found by the object's own module and name; the
    parameters are validated as ``fit`` validates them, the network's
    shapes are checked against the weights before it is built, and the
    fitted attributes that inference reads against what ``fit`` gives them.

    Parameters
    ----------
    file : str, path-like, bytes or binary file object
        A file written by :func:`dump`.
    device : str or torch.device, default="cpu"
        Where the loaded model runs (``net_.device``); a model fitted on a
        GPU loads on a CPU-only machine. The estimator's ``device``
        parameter, which a refit uses, is kept as it was saved.

    Returns
    -------
    estimator : estimator
        The estimator, with its fitted attributes, ``net_`` (module weights,
        criterion and ``history_``; the optimizer state and the training
        callbacks are not saved) when it was fitted.

    Raises
    ------
    ValueError
        If the file is a pickle or a zip archive, is not a sknebula model
        file, has another format version, is truncated, names code that
        sknebula does not store, holds parameters that ``fit`` would refuse,
        or its tensors or fitted attributes do not match its parameters.

    See Also
    --------
    dump : Write the file.

    Examples
    --------
    >>> import io, pickle
    >>> from sknebula.io import load
    >>> load(io.BytesIO(pickle.dumps([1, 2, 3])))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: This is a pickle (as pickle, joblib and torch.save write), ...
    """
    if isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(file)
    elif hasattr(file, "read"):
        data = file.read()
    else:
        with open(file, "rb") as f:
            data = f.read()
    metadata, doc, tensors = read(data)
    if metadata.get("sknebula_version") != library_version():
        warnings.warn(
            f"The file was written by sknebula {metadata.get('sknebula_version')}; this "
            f"is sknebula {library_version()}. Check its predictions before relying on "
            "them.",
            UserWarning,
            stacklevel=2,
        )
    try:
        return _rebuild(doc, _values.Reader(tensors), str(torch.device(device)))
    except (KeyError, TypeError, IndexError, AttributeError, RecursionError,
            ArithmeticError) as exc:
        raise ValueError(f"The file's estimator description is corrupt: {exc!r}") from None


def _rebuild(doc, reader, device):
    """The estimator that the JSON ``doc`` describes."""
    from .._base import _hidden_dims_ok

    cls = estimator_classes().get(doc.get("estimator"))
    if cls is None:
        raise ValueError(f"Unknown estimator {str(doc.get('estimator'))[:100]!r} in the file.")
    est = cls()
    known = est.get_params(deep=False)
    params = {}
    for name, value in _values.pairs(doc.get("params"), "parameters"):
        if name not in known or name in params:
            raise ValueError(f"Unknown parameter {name[:100]!r} for {cls.__name__} in the file.")
        params[name] = reader.decode(value, _PARAM_SLOTS.get(name))
    est.set_params(**params)
    est._validate_params()  # InvalidParameterError is a ValueError
    est._device()  # a ValueError for an unknown device name
    if est.hidden_dims != "auto" and not _hidden_dims_ok(est.hidden_dims):
        raise ValueError(f"The file's hidden_dims={est.hidden_dims!r} are not positive ints.")
    attributes = doc.get("attributes")
    if not isinstance(attributes, dict):
        raise ValueError("The file's fitted attributes are not a dict.")
    for name, value in attributes.items():
        _attributes.check_name(est, name, known)
        setattr(est, name, reader.decode(value))
    net = doc.get("net")
    if net is not None:
        if not isinstance(net, dict):
            raise ValueError("The file's net is not a dict.")
        est.net_ = _decode_net(est, net, reader, device)
    elif any(name.endswith("_") for name in attributes):
        # Fitted attributes without weights would pass check_is_fitted.
        raise ValueError(f"The file's {cls.__name__} has fitted attributes but no network.")
    return est
