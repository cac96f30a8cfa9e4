"""Model files that load without running code, and ONNX export.

:func:`dump` writes a fitted (or unfitted) sknebula estimator to one
`safetensors <https://huggingface.co/docs/safetensors>`_ file: every tensor
and array as a safetensors tensor, and the constructor parameters, the
fitted attributes and the training history as JSON in the file's metadata
header. :func:`load` reads it back without unpickling anything: a pickle,
a joblib file or a ``torch.save`` archive is refused before any of its
content is interpreted. Classes and functions among the parameters (the
optimizer, an encoder class, a partner metric) are stored by their import
name, and only names under ``torch.optim``, ``sknebula`` and
``skorch.callbacks`` are written or imported.

:func:`to_onnx` exports what ``transform`` computes (and, for the
clusterer, ``predict`` and ``predict_proba``) as an ONNX model that
onnxruntime serves without torch or sknebula.
"""

import copy
import importlib
import inspect
import json
import logging
import warnings
from contextlib import contextmanager
from io import BytesIO  # the standard library's io

import numpy as np
import torch
from skorch.history import History

from ._net import NebulaNet
from ._random import global_state_kept

__all__ = ["dump", "load", "to_onnx"]

# The layout of the file; load reads only this version.
FORMAT_VERSION = 1
# The metadata key that marks a file as written by dump.
FORMAT_NAME = "sknebula.io"
# Classes, functions and callback types stored by import name only from
# these modules (a prefix ending in "." covers its submodules).
ALLOWED_MODULES = ("torch.optim.", "sknebula.", "skorch.callbacks.")
# Bytes a safetensors file starts with: the header's length, then "{".
_HEADER_LENGTH_BYTES = 8


def _library_version():
    from . import __version__

    return __version__


def _estimator_classes():
    """The public estimators, by class name."""
    import sknebula

    return {name: getattr(sknebula, name) for name in sknebula.__all__
            if inspect.isclass(getattr(sknebula, name))}


# ------------------------------------------------------------------ names
def _import_name(obj):
    """``module.qualname`` of a class or function, or None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if module is None or qualname is None or "<" in qualname:
        return None
    return f"{module}.{qualname}"


def _allowed(name):
    return any(name.startswith(p) for p in ALLOWED_MODULES)


def _resolve(name):
    """The object that import name ``name`` refers to, if allowed."""
    if not isinstance(name, str) or not _allowed(name):
        raise ValueError(
            f"The file refers to {name!r}, which is outside the modules sknebula.io "
            f"imports from ({', '.join(p.rstrip('.') for p in ALLOWED_MODULES)})."
        )
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
            return obj
        break
    raise ValueError(f"The file refers to {name!r}, which cannot be imported here.")


# --------------------------------------------------------------- encoding
class _Writer:
    """Turns Python values into JSON, moving arrays and tensors aside."""

    def __init__(self):
        self.tensors = {}
        self.n_arrays = 0

    def tensor(self, value):
        key = f"array/{self.n_arrays}"
        self.n_arrays += 1
        self.tensors[key] = value.detach().cpu().contiguous().clone()
        return key

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and type(value) in (int, float):
            return value
        if isinstance(value, np.generic):
            if value.dtype.kind not in "biuf":
                raise _unsupported(value, where)
            return {"__kind__": "scalar", "dtype": value.dtype.str, "value": value.item()}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return {"__kind__": "tuple", "items": items}
        if isinstance(value, dict):
            items = [[self.encode(k, f"{where} key"),
                      self.encode(v, f"{where}[{k!r}]" if where else str(k))]
                     for k, v in value.items()]
            return {"__kind__": "dict", "items": items}
        if isinstance(value, np.ndarray):
            return self._array(value, where)
        if isinstance(value, torch.Tensor):
            return {"__kind__": "tensor", "key": self.tensor(value)}
        if isinstance(value, torch.device):
            return {"__kind__": "device", "value": str(value)}
        if isinstance(value, np.random.RandomState):
            _, keys, pos, has_gauss, cached = value.get_state(legacy=True)
            return {
                "__kind__": "RandomState",
                "keys": self._array(keys, where),
                "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached),
            }
        if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
            name = _import_name(value)
            if name is None or not _allowed(name) or _resolve_quiet(name) is not value:
                raise _unsupported(value, where)
            return {"__kind__": "import", "name": name}
        if _is_callback(value) or _is_augmentation(type(value)):
            name = _import_name(type(value))
            if name is None or not _allowed(name) or _resolve_quiet(name) is not type(value):
                raise _unsupported(value, where)
            if not hasattr(value, "get_params"):
                raise _unsupported(value, where)
            # Arguments left at their defaults are not stored (skorch's
            # defaults include functions from outside the allowed modules).
            signature = inspect.signature(type(value)).parameters
            params = {
                k: v for k, v in value.get_params(deep=False).items()
                if k not in signature or signature[k].default is not v
            }
            return {"__kind__": "object", "class": name,
                    "params": self.encode(dict(params), f"{where}.params")}
        raise _unsupported(value, where)

    def _array(self, value, where):
        if value.dtype.kind in "biuf":
            if value.dtype.itemsize > 8:  # long double: no tensor dtype holds it
                raise _unsupported(value, where)
            # Wide unsigned ints as int64 (torch's are partial); native byte order.
            dtype = np.int64 if value.dtype.kind == "u" and value.dtype.itemsize > 1 else (
                value.dtype.newbyteorder("="))
            stored = torch.from_numpy(value.astype(dtype, order="C"))
            return {"__kind__": "array", "dtype": value.dtype.str, "key": self.tensor(stored)}
        if value.dtype.kind in "OU":
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value.ravel().tolist())]
            return {"__kind__": "object_array", "dtype": value.dtype.str,
                    "shape": list(value.shape), "items": items}
        raise _unsupported(value, where)


def _resolve_quiet(name):
    try:
        return _resolve(name)
    except ValueError:
        return None


def _is_callback(value):
    try:
        from skorch.callbacks import Callback
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, Callback)


def _unsupported(value, where):
    return ValueError(
        f"sknebula.io.dump cannot store {where} = {value!r}: only JSON values, arrays, "
        "tensors, sknebula augmentations, and classes, functions and skorch callbacks "
        "importable from "
        f"{', '.join(p.rstrip('.') for p in ALLOWED_MODULES)} are stored, so that "
        "loading the file never runs code of the file's choosing. Use a named option, "
        "or pickle/joblib (which run code when they load)."
    )


class _Reader:
    """Turns the JSON of a file back into Python values."""

    def __init__(self, tensors):
        self.tensors = tensors

    def tensor(self, key):
        if key not in self.tensors:
            raise ValueError(f"The file lacks the tensor {key!r} its metadata refers to.")
        return self.tensors[key]

    def decode(self, value):
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        kind = value.get("__kind__")
        if kind == "tuple":
            return tuple(self.decode(v) for v in value["items"])
        if kind == "dict":
            return {self.decode(k): self.decode(v) for k, v in value["items"]}
        if kind == "scalar":
            return np.dtype(value["dtype"]).type(value["value"])
        if kind == "array":
            dtype = np.dtype(value["dtype"])
            if dtype.kind not in "biuf":
                raise ValueError(f"Unknown array dtype {dtype} in the file.")
            return self.tensor(value["key"]).numpy().astype(dtype, copy=True)
        if kind == "object_array":
            dtype = np.dtype(value["dtype"])
            if dtype.kind not in "OU":
                raise ValueError(f"Unknown array dtype {dtype} in the file.")
            items = [self.decode(v) for v in value["items"]]
            out = np.empty(len(items), dtype=dtype)
            out[:] = items
            return out.reshape(value["shape"])
        if kind == "tensor":
            return self.tensor(value["key"]).clone()
        if kind == "device":
            return torch.device(value["value"])
        if kind == "RandomState":
            state = np.random.RandomState()
            keys = self.decode(value["keys"]).astype(np.uint32)
            state.set_state(("MT19937", keys, value["pos"], value["has_gauss"], value["cached"]))
            return state
        if kind == "import":
            return _resolve(value["name"])
        if kind == "object":
            cls = _resolve(value["class"])
            if not (inspect.isclass(cls) and (_is_callback_class(cls) or _is_augmentation(cls))):
                raise ValueError(
                    f"{value['class']!r} is not a skorch callback or a sknebula augmentation."
                )
            return cls(**self.decode(value["params"]))
        raise ValueError(f"Unknown entry {kind!r} in the file's metadata.")


def _is_augmentation(cls):
    from .augment import Augmentation

    return inspect.isclass(cls) and issubclass(cls, Augmentation)


def _is_callback_class(cls):
    from skorch.callbacks import Callback

    return issubclass(cls, Callback)


# ----------------------------------------------------------- the modules
def _nebula_module(est, tensors):
    from .nn import NebulaVAE, build_encoder_decoder

    shape = tuple(est.input_shape_)
    target_shape = tuple(getattr(est, "target_shape_", shape))
    encoder, decoder = build_encoder_decoder(
        est.encoder, shape, target_shape, est.latent_dim, est._hidden_dims(shape),
        est.encoder_params,
    )
    # The anchors trained (n_anchors_), where the estimator records them.
    n_anchors = getattr(est, "n_anchors_", est.n_anchors)
    return NebulaVAE(encoder, decoder, est.latent_dim, int(n_anchors))


def _disentangled_module(est, tensors):
    from .nn import build_encoder_decoder
    from .nn.disentangle import LabelDisentangledModule

    shape = tuple(est.input_shape_)
    build = dict(
        encoder=est.encoder, input_shape=shape, output_shape=shape,
        latent_dim=int(est.relevant_dim) + int(est.irrelevant_dim),
        hidden_dims=est._hidden_dims(shape), encoder_params=est.encoder_params,
    )
    encoder_s, decoder = build_encoder_decoder(**build)
    encoder_u, _ = build_encoder_decoder(**build)
    # The adversary's width is the stored one (none when it was not trained).
    adversary = tensors.get("module/adversary.0.weight")
    return LabelDisentangledModule(
        encoder_s, encoder_u, decoder, int(est.relevant_dim), int(est.irrelevant_dim),
        len(est.classes_), adversary_hidden=None if adversary is None else adversary.shape[0],
    )


def _siamese_module(est, tensors):
    from .nn import build_encoder
    from .nn.siamese import VISimSiamNet, VJENet

    shape = tuple(est.input_shape_)
    encoder = build_encoder(est.encoder, shape, est._hidden_dims(shape), est.encoder_params)
    net_cls = VJENet if type(est).__name__ == "VariationalJointEmbedding" else VISimSiamNet
    return net_cls(encoder, est.latent_dim)


_MODULE_BUILDERS = {
    "NebulaVariationalClusterer": _nebula_module,
    "NebulaAutoencoder": _nebula_module,
    "LabelDisentangledVAE": _disentangled_module,
    "VariationalSimSiam": _siamese_module,
    "VariationalJointEmbedding": _siamese_module,
}

# Net parameters stored beside the module (the rest are skorch defaults).
_NET_PARAMS = ("criterion", "optimizer", "lr", "max_epochs", "batch_size", "iterator_train",
               "train_split")
_NET_PARAM_PREFIXES = ("criterion__", "optimizer__", "iterator_train__")


def _history_values(value):
    """History entries with 0-d tensors as floats."""
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        return value.item()
    if isinstance(value, dict):
        return {k: _history_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_history_values(v) for v in value)
    return value


def _encode_net(net, writer):
    if type(net) is not NebulaNet:
        raise ValueError(
            f"sknebula.io.dump stores the NebulaNet that fit builds, not {type(net).__name__}."
        )
    params = {
        k: v for k, v in net.get_params(deep=False).items()
        if k in _NET_PARAMS or k.startswith(_NET_PARAM_PREFIXES)
    }
    for key, tensor in net.module_.state_dict().items():
        writer.tensors[f"module/{key}"] = tensor.detach().cpu().contiguous().clone()
    return {
        "params": writer.encode(params, "net_"),
        "device": str(net.device),
        "history": writer.encode(_history_values(list(net.history)), "history_"),
    }


def _decode_net(est, doc, reader, device):
    tensors = reader.tensors
    build = _MODULE_BUILDERS[type(est).__name__]
    with global_state_kept():
        try:
            module = build(est, tensors)
        except Exception as exc:
            raise ValueError(
                f"The file's parameters do not build a {type(est).__name__} module: {exc}"
            ) from exc
    state = {k[len("module/"):]: v for k, v in tensors.items() if k.startswith("module/")}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"The file's tensors do not match its parameters ({type(est).__name__} with "
            f"{est.get_params(deep=False)!r} builds another module):\n{exc}"
        ) from None
    params = reader.decode(doc["params"])
    net = NebulaNet(module=module, device=device, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.initialize()
    net.history = History(reader.decode(doc["history"]))
    net.module_.eval()
    return net


# --------------------------------------------------------------- dump/load
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
        function or object from outside ``torch.optim``, ``sknebula`` and
        ``skorch.callbacks`` (a user's own encoder class or metric); use a
        named option, or pickle/joblib, which run code on load.

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

    classes = _estimator_classes()
    cls = type(estimator)
    if classes.get(cls.__name__) is not cls:
        raise ValueError(
            f"sknebula.io.dump writes sknebula's estimators "
            f"({', '.join(sorted(classes))}), not {cls.__name__}."
        )
    writer = _Writer()
    params = estimator.get_params(deep=False)
    fitted = {}
    for name, value in vars(estimator).items():
        if name in params or name == "net_":
            continue
        fitted[name] = writer.encode(value, name)
    doc = {
        "estimator": cls.__name__,
        "params": writer.encode(params, ""),
        "attributes": fitted,
        "net": _encode_net(estimator.net_, writer) if hasattr(estimator, "net_") else None,
    }
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "sknebula_version": _library_version(),
        "torch_version": torch.__version__.split("+")[0],
        "estimator": json.dumps(doc),
    }
    data = save(writer.tensors, metadata=metadata)
    if hasattr(file, "write"):
        file.write(data)
    else:
        with open(file, "wb") as f:
            f.write(data)


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


def _read(data):
    """The metadata and the tensors of a model file's bytes."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    size = _refuse_foreign(data)
    try:
        header = json.loads(data[_HEADER_LENGTH_BYTES:_HEADER_LENGTH_BYTES + size])
    except ValueError:
        raise ValueError("The file's header is not valid JSON (truncated or corrupt).") from None
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            "A safetensors file, but not a sknebula model file (written by "
            "sknebula.io.dump)."
        )
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise ValueError(
            f"The file has format version {version!r}, written by sknebula "
            f"{metadata.get('sknebula_version')!r}; this sknebula "
            f"({_library_version()}) reads format version {FORMAT_VERSION}."
        )
    ends = [entry["data_offsets"][1] for key, entry in header.items()
            if key != "__metadata__"]
    held = len(data) - _HEADER_LENGTH_BYTES - size
    if max(ends, default=0) != held:
        raise ValueError(
            f"The file is truncated or corrupt: its header describes {max(ends, default=0)} "
            f"bytes of tensors, and it holds {held}."
        )
    try:
        tensors = load_tensors(bytes(data))
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ValueError(f"The file's tensors cannot be read (corrupt?): {exc}") from None
    try:
        doc = json.loads(metadata["estimator"])
    except (KeyError, ValueError):
        raise ValueError("The file's estimator description is missing or corrupt.") from None
    return metadata, doc, tensors


def load(file, device="cpu"):
    """Read an estimator written by :func:`dump`, without running its code.

    The file is checked before anything in it is used: a pickle, a joblib
    file or a ``torch.save`` archive is refused (and so never unpickled), as
    are a file of an unknown format version, a truncated one and one whose
    tensors do not match its parameters. The only code that runs is
    sknebula's own (building the module from the stored parameters) and
    the import of the classes named in the file, which must come from
    ``torch.optim``, ``sknebula`` or ``skorch.callbacks``.

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
        file, has another format version, is truncated or its tensors do
        not match its parameters.

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
    metadata, doc, tensors = _read(data)
    if metadata.get("sknebula_version") != _library_version():
        warnings.warn(
            f"The file was written by sknebula {metadata.get('sknebula_version')}; this "
            f"is sknebula {_library_version()}. Check its predictions before relying on "
            "them.",
            UserWarning,
            stacklevel=2,
        )
    try:
        return _rebuild(doc, _Reader(tensors), device)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"The file's estimator description is corrupt: {exc!r}") from None


def _rebuild(doc, reader, device):
    """The estimator that the JSON ``doc`` describes."""
    classes = _estimator_classes()
    cls = classes.get(doc.get("estimator"))
    if cls is None:
        raise ValueError(f"Unknown estimator {doc.get('estimator')!r} in the file.")
    params = reader.decode(doc["params"])
    est = cls()
    unknown = set(params) - set(est.get_params(deep=False))
    if unknown:
        raise ValueError(f"Unknown parameters {sorted(unknown)} for {cls.__name__} in the file.")
    est.set_params(**params)
    for name, value in doc["attributes"].items():
        # Data attributes only: nothing may stand in for a method.
        if not name.isidentifier() or name.startswith("__") or hasattr(cls, name):
            raise ValueError(f"The file sets {cls.__name__}.{name}, which is no fitted attribute.")
        setattr(est, name, reader.decode(value))
    if doc.get("net") is not None:
        est.net_ = _decode_net(est, doc["net"], reader, str(torch.device(device)))
    return est


# ------------------------------------------------------------------- ONNX
class _NebulaGraph(torch.nn.Module):
    """Latent means, then the clusterer's labels and memberships, or the
    autoencoder's reconstruction."""

    def __init__(self, est, module):
        super().__init__()
        self.module = module
        self.clusters = hasattr(est, "anchor_labels_")
        self.reconstruction = est.reconstruction_
        if self.clusters:
            labels = np.asarray(est.anchor_labels_, dtype=np.int64)
            self.register_buffer("anchors", torch.tensor(est.anchors_, dtype=torch.float32))
            self.register_buffer("anchor_labels", torch.from_numpy(labels))
            members = np.eye(est.n_clusters_, dtype=np.float32)[labels]
            self.register_buffer("members", torch.from_numpy(members))

    def forward(self, x):
        from .objectives.reconstruction import decoder_mean

        mu = self.module.encode(x)[0]
        if not self.clusters:
            return mu, decoder_mean(self.reconstruction, self.module.decode(mu))
        d = ((mu[:, None, :] - self.anchors[None]) ** 2).sum(-1)
        labels = self.anchor_labels[d.argmin(1)]
        proba = torch.softmax(-0.5 * d, dim=1) @ self.members
        return mu, labels, proba


class _DisentangledGraph(torch.nn.Module):
    """``[mu_s, mu_u]``, then the class (an index into ``classes_`` where
    the classes are not numbers) and the class probabilities."""

    def __init__(self, est, module):
        super().__init__()
        self.module = module
        self.register_buffer("class_means", torch.tensor(est.class_means_, dtype=torch.float32))
        self.numeric = est.classes_.dtype.kind in "biuf"
        if self.numeric:
            self.register_buffer("classes", torch.from_numpy(est.classes_.astype(np.int64)
                                                             if est.classes_.dtype.kind != "f"
                                                             else est.classes_.astype(np.float32)))

    def forward(self, x):
        mu_s, _, mu_u, _ = self.module.encode(x)
        d = ((mu_s[:, None, :] - self.class_means[None]) ** 2).sum(-1)
        proba = torch.softmax(-0.5 * d, dim=1)
        index = proba.argmax(1)
        return torch.cat([mu_s, mu_u], dim=1), self.classes[index] if self.numeric else index, proba


class _SiameseGraph(torch.nn.Module):
    """The embedding ``transform`` returns (VI-SimSiam also its
    concentration)."""

    def __init__(self, est, module):
        super().__init__()
        self.module = module
        self.backbone = est.representation == "backbone"
        self.simsiam = hasattr(module, "embed")

    def forward(self, x):
        if self.simsiam:
            h = self.module.encoder(x) if self.backbone else None
            _, p, kappa = self.module.embed(x)
            latent = h if self.backbone else torch.nn.functional.normalize(p, dim=1)
            return latent, kappa
        if self.backbone:
            return (self.module.encoder(x),)
        return (self.module.posterior(x)[0],)


def _graph(est):
    """The export module and its output names."""
    module = copy.deepcopy(est.net_.module_).eval().float().cpu()
    name = type(est).__name__
    if name == "NebulaVariationalClusterer":
        return _NebulaGraph(est, module), ["latent", "label", "probabilities"]
    if name == "NebulaAutoencoder":
        return _NebulaGraph(est, module), ["latent", "reconstruction"]
    if name == "LabelDisentangledVAE":
        graph = _DisentangledGraph(est, module)
        return graph, ["latent", "label" if graph.numeric else "label_index", "probabilities"]
    if name == "VariationalSimSiam":
        return _SiameseGraph(est, module), ["latent", "concentration"]
    return _SiameseGraph(est, module), ["latent"]


@contextmanager
def _quiet_exporter():
    """Silence the exporter's notes on operators of packages not installed."""
    logger = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _export(graph, x, names, dynamo):
    """``graph`` as an ONNX ModelProto with a dynamic batch axis, from the
    torch.export-based exporter (``dynamo=True``), the TorchScript-based one
    (``False``), or the first, then the second where it fails ("auto")."""
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "to_onnx needs the onnx package: pip install 'sknebula[onnx]' (onnx, "
            "onnxscript, and onnxruntime to run the model)."
        ) from None

    with _quiet_exporter():
        first = None
        if dynamo in (True, "auto"):
            try:
                import onnxscript  # noqa: F401  (the exporter's dependency)

                program = torch.onnx.export(
                    graph, (x,), dynamo=True, input_names=["X"], output_names=names,
                    dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False,
                )
                return program.model_proto
            except Exception as exc:  # noqa: BLE001  (any failure: try the other one)
                if dynamo is True:
                    raise
                first = exc
        buffer = BytesIO()
        try:
            torch.onnx.export(
                graph, (x,), buffer, dynamo=False, input_names=["X"], output_names=names,
                dynamic_axes={n: {0: "batch"} for n in ["X", *names]},
            )
        except Exception:  # noqa: BLE001
            if first is not None:
                raise first from None
            raise
        return onnx.load_from_string(buffer.getvalue())


def to_onnx(estimator, X, *, dynamo="auto"):
    """Export a fitted estimator's inference to an ONNX model.

    The graph takes a float32 input ``"X"`` of shape ``(n_samples,
    *input_shape_)`` (any number of rows) and returns, in float32:

    - ``"latent"``: what ``transform`` returns (latent means, embeddings or
      backbone features, as the estimator's ``representation`` says);
    - ``NebulaVariationalClusterer``: ``"label"`` (``predict``, int64) and
      ``"probabilities"`` (``predict_proba``);
    - ``NebulaAutoencoder``: ``"reconstruction"`` (``predict``);
    - ``LabelDisentangledVAE``: ``"label"`` (``predict``, for numeric
      classes; ``"label_index"`` into ``classes_`` otherwise) and
      ``"probabilities"``;
    - ``VariationalSimSiam``: ``"concentration"`` (``predict_concentration``).

    The estimator computes in float64 on the CPU and the graph in float32,
    so outputs agree to about 1e-6 relative to their size. Input conversion (data frames, lists of
    series of unequal lengths) stays with the caller: pass arrays of the
    training sample shape. Needs the ``onnx`` extra (``onnx``,
    ``onnxscript``; ``onnxruntime`` to run the model).

    Parameters
    ----------
    estimator : estimator
        A fitted sknebula estimator.
    X : array-like of shape (n_samples, ...)
        A few input samples, to trace the graph with.
    dynamo : bool or "auto", default="auto"
        The exporter: True for torch's ``torch.export``-based one (needs
        ``onnxscript``), False for the older TorchScript-based one (faster
        to export, deprecated by torch), "auto" for the first, then the
        second where the first is missing or fails.

    Returns
    -------
    model : onnx.ModelProto
        The model; ``model.SerializeToString()`` is what an
        ``onnxruntime.InferenceSession`` takes.

    See Also
    --------
    dump : Save the estimator itself, for later use with sknebula.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.io import to_onnx
    >>> X, _ = make_blobs(n_samples=40, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, max_epochs=4, random_state=0).fit(X)
    >>> model = to_onnx(est, X[:5])
    >>> [o.name for o in model.graph.output]
    ['latent', 'label', 'probabilities']
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> latent, label, proba = session.run(None, {"X": X.astype(np.float32)})
    >>> bool((label == est.predict(X)).all())
    True
    """
    from sklearn.utils.validation import check_is_fitted

    classes = _estimator_classes()
    if classes.get(type(estimator).__name__) is not type(estimator):
        raise ValueError(f"to_onnx exports sknebula's estimators, not {type(estimator).__name__}.")
    if dynamo not in (True, False, "auto"):
        raise ValueError(f"dynamo must be True, False or 'auto', got {dynamo!r}.")
    check_is_fitted(estimator)
    X = estimator._validate_X(X, reset=False)
    rows = np.asarray(X[:8], dtype=np.float32)
    if len(rows) < 2:  # a batch of one would fix the batch axis at 1
        rows = np.concatenate([rows, rows])
    graph, names = _graph(estimator)
    model = _export(graph, torch.from_numpy(rows), names, dynamo)
    model.doc_string = (
        f"sknebula {_library_version()} {type(estimator).__name__}: input X "
        f"(n_samples, {', '.join(map(str, estimator.input_shape_))}), float32; outputs "
        f"{', '.join(names)}."
    )
    return model
