"""Python values to the JSON of a model file and back, within bounds.

Arrays and tensors go to the file's tensors, everything else to JSON.
Reading accepts only what writing produces: numeric dtypes of at most 8
bytes, strings of bounded width, each tensor used once, nesting of bounded
depth, and code (a class, a function, an object) only in the slot of a
parameter that takes it, resolved by :mod:`._names`. What the file says
thus never allocates much more than the file holds.
"""

import inspect
import re

import numpy as np
import torch

from . import _names

# Deepest nesting of lists, tuples and dicts a file may hold.
MAX_DEPTH = 32
# Widest string (characters) of a string array, and the most bytes an
# array rebuilt from JSON items may take.
MAX_STRING_WIDTH = 4096
MAX_ITEMS_BYTES = 16 * 2**20
# Numeric dtypes as numpy writes them: byte order, kind, item size.
_NUMERIC_DTYPE = re.compile(r"[<>|=]?[biuf][1248]")
_STRING_DTYPE = re.compile(r"(?:[<>|=]?U[0-9]{1,5}|\|O)")
# Slots of values that are no code: the random state and a device.
RANDOM_STATE = "random_state"
DEVICE = "device"


def unsupported(value, where):
    """The error of :func:`sknebula.io.dump` for a value it cannot store."""
    return ValueError(
        f"sknebula.io.dump cannot store {where} = {value!r}: only JSON values, arrays, "
        "tensors, and, where a parameter takes them, torch.optim optimizers, sknebula's "
        "encoder classes, partner distances and view generators, and a few skorch "
        "callbacks are stored, so that loading the file never runs code of the file's "
        "choosing. Use a named option, or pickle/joblib (which run code when they load)."
    )


class Writer:
    """Turns Python values into JSON, moving arrays and tensors aside.

    ``slot`` says what code a value may be (see :mod:`._names`); None: none.
    """

    def __init__(self):
        self.tensors = {}
        self.n_arrays = 0

    def tensor(self, value):
        key = f"array/{self.n_arrays}"
        self.n_arrays += 1
        self.tensors[key] = value.detach().cpu().contiguous().clone()
        return key

    def encode(self, value, where, slot=None):
        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) in (int, float):
            return value
        if isinstance(value, np.generic):
            if not _NUMERIC_DTYPE.fullmatch(value.dtype.str):
                raise unsupported(value, where)
            return {"__kind__": "scalar", "dtype": value.dtype.str, "value": value.item()}
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]", slot) for i, v in enumerate(value)]
        if isinstance(value, tuple):
            items = [self.encode(v, f"{where}[{i}]", slot) for i, v in enumerate(value)]
            return {"__kind__": "tuple", "items": items}
        if isinstance(value, dict):
            items = [[self.encode(k, f"{where} key"),
                      self.encode(v, f"{where}[{k!r}]" if where else str(k), slot)]
                     for k, v in value.items()]
            return {"__kind__": "dict", "items": items}
        if isinstance(value, np.ndarray):
            return self._array(value, where)
        if isinstance(value, torch.Tensor):
            return {"__kind__": "tensor", "key": self.tensor(value)}
        if isinstance(value, torch.device) and slot == DEVICE:
            return {"__kind__": "device", "value": str(value)}
        if isinstance(value, np.random.RandomState) and slot == RANDOM_STATE:
            _, keys, pos, has_gauss, cached = value.get_state(legacy=True)
            return {
                "__kind__": "RandomState",
                "keys": self._array(keys, where),
                "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached),
            }
        if inspect.isclass(value) or inspect.isfunction(value):
            name = _names.name_of(value, slot)
            if name is None:
                raise unsupported(value, where)
            return {"__kind__": "import", "name": name}
        name = _names.name_of(type(value), slot)
        if name is None or not hasattr(value, "get_params"):
            raise unsupported(value, where)
        # Arguments left at their defaults are not stored (skorch's defaults
        # include functions that no slot takes).
        signature = inspect.signature(type(value)).parameters
        params = {
            k: v for k, v in value.get_params(deep=False).items()
            if k not in signature or signature[k].default is not v
        }
        items = [[k, self.encode(v, f"{where}.params[{k!r}]", _object_slot(k))]
                 for k, v in params.items()]
        return {"__kind__": "object", "class": name, "params": {"__kind__": "dict", "items": items}}

    def _array(self, value, where):
        if _NUMERIC_DTYPE.fullmatch(value.dtype.str):
            # Wide unsigned ints as int64 (torch's are partial); native byte order.
            dtype = np.int64 if value.dtype.kind == "u" and value.dtype.itemsize > 1 else (
                value.dtype.newbyteorder("="))
            stored = torch.from_numpy(value.astype(dtype, order="C"))
            return {"__kind__": "array", "dtype": value.dtype.str, "key": self.tensor(stored)}
        if _STRING_DTYPE.fullmatch(value.dtype.str):
            if value.dtype.kind == "U" and value.dtype.itemsize > 4 * MAX_STRING_WIDTH:
                raise unsupported(value, where)
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value.ravel().tolist())]
            if any(isinstance(v, (dict, list)) for v in items):
                raise unsupported(value, where)  # object arrays of plain values only
            return {"__kind__": "object_array", "dtype": value.dtype.str,
                    "shape": list(value.shape), "items": items}
        raise unsupported(value, where)


def _plain(value, what):
    """``value`` if it is a JSON scalar, else ValueError."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise ValueError(f"The file's {what} is {type(value).__name__}, not a plain value.")


def _int(value, what, low=0, high=2**63 - 1):
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"The file's {what} is {str(value)[:100]!r}, not an int in "
                         f"[{low}, {high}].")
    return value


class Reader:
    """Turns the JSON of a file back into Python values."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.used = set()

    def tensor(self, key):
        if not isinstance(key, str) or key not in self.tensors or key.startswith("module/"):
            raise ValueError(f"The file lacks the tensor {str(key)[:100]!r} its metadata "
                             "refers to.")
        if key in self.used:
            raise ValueError(f"The file's metadata refers to the tensor {key!r} twice.")
        self.used.add(key)
        return self.tensors[key]

    def decode(self, value, slot=None, depth=0):
        """The Python value of JSON ``value``; code only where ``slot`` says."""
        if depth > MAX_DEPTH:
            raise ValueError(f"The file's metadata nests deeper than {MAX_DEPTH} levels.")
        if isinstance(value, list):
            return [self.decode(v, slot, depth + 1) for v in value]
        if not isinstance(value, dict):
            return _plain(value, "entry")
        kind = value.get("__kind__")
        if kind == "tuple":
            return tuple(self.decode(v, slot, depth + 1) for v in _list(value, "items"))
        if kind == "dict":
            out = {}
            for pair in _list(value, "items"):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ValueError("A dict entry of the file is not a key-value pair.")
                key = self.decode(pair[0], None, depth + 1)
                if not isinstance(key, (str, int, float, bool, type(None))):
                    raise ValueError(f"The file has a dict key of type {type(key).__name__}.")
                out[key] = self.decode(pair[1], slot, depth + 1)
            return out
        if kind == "scalar":
            return _scalar(value)
        if kind == "array":
            dtype = _dtype(value.get("dtype"), _NUMERIC_DTYPE)
            tensor = self.tensor(value.get("key"))
            if tensor.dtype not in _TENSOR_DTYPES or dtype.itemsize > tensor.element_size():
                raise ValueError(f"The file stores an array of {dtype} as {tensor.dtype}.")
            return tensor.numpy().astype(dtype, copy=True)
        if kind == "object_array":
            return self._object_array(value)
        if kind == "tensor":
            return self.tensor(value.get("key")).clone()
        if kind == "device" and slot == DEVICE:
            return _device(value.get("value"))
        if kind == "RandomState" and slot == RANDOM_STATE:
            return self._random_state(value)
        if kind == "import":
            return _names.resolve(value.get("name"), slot)
        if kind == "object" and slot in (_names.AUGMENTATION, _names.CALLBACK):
            cls = _names.resolve(value.get("class"), slot)
            entries = pairs(value.get("params"), f"parameters of {value.get('class')!r}")
            params = {k: self.decode(v, _object_slot(k), depth + 1) for k, v in entries}
            try:
                return cls(**params)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"The file's {cls.__name__} does not build: {exc}") from None
        raise ValueError(f"Unexpected entry {str(kind)[:100]!r} in the file's metadata.")

    def _object_array(self, value):
        dtype = _dtype(value.get("dtype"), _STRING_DTYPE)
        shape = _list(value, "shape")
        items = [_plain(v, "array item") for v in _list(value, "items")]
        if len(shape) > MAX_DEPTH or any(type(n) is not int or not 0 <= n <= 2**31
                                         for n in shape) or (
                int(np.prod(shape, dtype=np.float64)) != len(items)):
            raise ValueError(f"The file's array of {len(items)} items has shape {shape}.")
        if dtype.itemsize > 4 * MAX_STRING_WIDTH or len(items) * dtype.itemsize > MAX_ITEMS_BYTES:
            raise ValueError(f"The file's string array ({dtype}, {len(items)} items) is "
                             "wider than sknebula writes.")
        if dtype.kind == "U" and not all(isinstance(v, str) for v in items):
            raise ValueError("The file's string array holds other values than strings.")
        out = np.empty(len(items), dtype=dtype)
        out[:] = items
        return out.reshape(shape)

    def _random_state(self, value):
        keys = self.decode(value.get("keys"))
        if not isinstance(keys, np.ndarray) or keys.shape != (624,) or keys.dtype.kind not in "iu":
            raise ValueError("The file's random state is not a Mersenne Twister state.")
        try:
            state = np.random.RandomState()
            state.set_state(("MT19937", keys.astype(np.uint32), _int(value.get("pos"), "pos"),
                             _int(value.get("has_gauss"), "has_gauss", 0, 1),
                             float(_plain(value.get("cached"), "cached"))))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"The file's random state is corrupt: {exc}") from None
        return state


_TENSOR_DTYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32,
                  torch.int64, torch.float16, torch.float32, torch.float64)


def pairs(entries, what):
    """The ``[name, value]`` pairs of an encoded dict whose keys are names
    (parameters); a ValueError for anything else."""
    if not (isinstance(entries, dict) and entries.get("__kind__") == "dict"
            and isinstance(entries.get("items"), list)
            and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                    for p in entries["items"])):
        raise ValueError(f"The file's {what} are not a dict of names.")
    return entries["items"]


def _object_slot(param):
    """What a parameter of a stored callback or view generator may name:
    an LRScheduler's ``policy`` a scheduler class, the rest nothing."""
    return _names.LR_POLICY if param == "policy" else None


def _list(value, key):
    items = value.get(key)
    if not isinstance(items, list):
        raise ValueError(f"The file's {value.get('__kind__')!r} entry lacks its {key!r} list.")
    return items


def _dtype(text, pattern):
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise ValueError(f"The file names the dtype {str(text)[:50]!r}, which sknebula "
                         "does not write.")
    try:
        return np.dtype(text)
    except TypeError:
        raise ValueError(f"The file names the dtype {text!r}, which numpy lacks.") from None


def _scalar(value):
    dtype = _dtype(value.get("dtype"), _NUMERIC_DTYPE)
    number = value.get("value")
    if type(number) not in (bool, int, float):
        raise ValueError(f"The file's {dtype} scalar is {str(number)[:50]!r}.")
    try:
        return dtype.type(number)
    except (OverflowError, ValueError, TypeError) as exc:
        raise ValueError(f"The file's {dtype} scalar {number!r}: {exc}") from None


def _device(text):
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError(f"The file's device {str(text)[:50]!r} is no device name.")
    try:
        return torch.device(text)
    except RuntimeError as exc:
        raise ValueError(f"The file's device {text!r}: {exc}") from None
