"""Fuzz ``sknebula.io.load`` with mutated model files.

Run by ``tests/test_io_fuzz.py``, or by hand::

    python tests/fuzz_model_files.py --examples 2000

Real files of every estimator (with the optimizer, encoder class, partner
distance, views and callbacks that a file may name) have their JSON header
mutated by hypothesis: an import name replaced by one found by walking the
attributes of the allowed packages' modules (private names and the modules
they import included) to a depth of 4, a scalar, dtype or shape perturbed,
a key added, removed or retyped. Each mutated file must either load into a
model whose inference methods run, or raise ``ValueError``; a string that
a gadget would run as a shell command names a marker file, which must stay
absent. Prints one JSON line: the examples tried, how many loaded, and the
largest rise of the process's resident memory that one example caused, in
MB (its peak above the memory in use before it, Linux's VmHWM after a
reset).
"""

import argparse
import copy
import importlib
import inspect
import json
import os
import pkgutil
import resource
import sys
import tempfile
import warnings

# Attribute names read per object while walking, and names kept in all.
_PER_OBJECT = 80
_MAX_NAMES = 20_000
METHODS = ("transform", "predict", "predict_proba", "predict_concentration",
           "score_samples", "decision_function", "inverse_transform")


def _modules():
    """Every importable module of the packages a file may name code from."""
    import skorch.callbacks
    import torch.optim

    import sknebula

    names = []
    for package in (sknebula, torch.optim, skorch.callbacks):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    modules = []
    for name in sorted(set(names)):
        try:
            modules.append(importlib.import_module(name))
        except Exception:  # noqa: BLE001  (an optional dependency missing)
            continue
    return modules


def gadget_names(depth=4):
    """Dotted names reached from the allowed modules by attributes, to
    ``depth`` attributes: what a crafted file could name."""
    names = []
    frontier = [(module.__name__, module) for module in _modules()]
    seen = set()
    for _ in range(depth):
        following = []
        for name, obj in frontier:
            try:
                attributes = sorted(dir(obj))[:_PER_OBJECT]
            except Exception:  # noqa: BLE001
                continue
            for attribute in attributes:
                try:
                    with warnings.catch_warnings():  # deprecated namespaces
                        warnings.simplefilter("ignore")
                        value = getattr(obj, attribute)
                except Exception:  # noqa: BLE001
                    continue
                dotted = f"{name}.{attribute}"
                names.append(dotted)
                if (inspect.ismodule(value) or inspect.isclass(value)) and id(value) not in seen:
                    seen.add(id(value))
                    following.append((dotted, value))
        frontier = following
        if len(names) > _MAX_NAMES:
            break
    return [*LIVE_GADGETS, *names[:_MAX_NAMES]]


def real_files(workdir):
    """``{name: (bytes, X)}``: a small fitted model of every estimator."""
    import numpy as np
    import torch
    from sklearn.datasets import make_blobs
    from skorch.callbacks import GradientNormClipping, LRScheduler
    from torch.optim.lr_scheduler import StepLR

    from sknebula import (LabelDisentangledVAE, NebulaAutoencoder, NebulaVariationalClusterer,
                          VariationalJointEmbedding, VariationalSimSiam)
    from sknebula.augment import VectorAugment
    from sknebula.io import dump
    from sknebula.nn import MLPEncoder
    from sknebula.series import paired_sbd

    X, y = make_blobs(n_samples=24, n_features=4, centers=3, random_state=0)
    tiny = dict(hidden_dims=(8,), max_epochs=1, random_state=0)
    callbacks = [("clip", GradientNormClipping(1.0)),
                 ("step", LRScheduler(policy=StepLR, step_size=1))]
    estimators = {
        "clusterer": NebulaVariationalClusterer(
            n_anchors=3, latent_dim=2, optimizer=torch.optim.AdamW, callbacks=callbacks,
            views=VectorAugment(), n_init=1, **tiny),
        "autoencoder": NebulaAutoencoder(n_anchors=3, latent_dim=2, encoder=MLPEncoder,
                                         n_init=1, **tiny),
        "disentangled": LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2, **tiny),
        "simsiam": VariationalSimSiam(latent_dim=3, batch_size=8, **tiny),
        "vje": VariationalJointEmbedding(latent_dim=3, batch_size=8, **tiny),
    }
    files = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, est in estimators.items():
            est.fit(X, y)
            path = os.path.join(workdir, f"{name}.safetensors")
            dump(est, path)
            with open(path, "rb") as f:
                files[name] = (f.read(), X)
        # A partner distance in its slot (series data; unfitted is enough).
        series = NebulaVariationalClusterer(encoder="sequence", metric=paired_sbd)
        path = os.path.join(workdir, "series.safetensors")
        dump(series, path)
        with open(path, "rb") as f:
            files["series"] = (f.read(), None)
    return files


def _paths(node, path=()):
    """Every path into the JSON tree ``node``."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _get(node, path):
    for key in path:
        node = node[key]
    return node


def _set(root, path, value):
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


DTYPES = ["|V200000000", "<U100000000", "<U4096", "|O", "<f16", "<c16", "<M8[s]", ">i8",
          "|b1", "<u8", "|S9", "not-a-dtype", 5, None]


def _replacement(draw, st, names, marker, current):
    """A value to put where ``current`` stood."""
    shell = f"touch {marker}"
    choices = [
        st.sampled_from(names).map(lambda n: {"__kind__": "import", "name": n}),
        st.sampled_from(names).map(lambda n: {"__kind__": "object", "class": n, "params": {
            "__kind__": "dict", "items": [["command", shell], ["path", str(marker)]]}}),
        st.sampled_from(names),
        st.sampled_from(DTYPES),
        st.just(shell),
        st.integers(-2**70, 2**70),
        st.sampled_from([0, -1, 1, 2**31, 2**62, 10**9]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.just([]),
        st.just({}),
        st.lists(st.integers(-3, 10**8), max_size=4),
        st.just({"__kind__": "tuple", "items": [20_000_000]}),
        st.just({"__kind__": "array", "dtype": "<f8", "key": "array/0"}),
        st.just({"__kind__": "object_array", "dtype": "<U4096", "shape": [100_000],
                 "items": [""]}),
        st.just({"__kind__": "RandomState", "keys": [1, 2], "pos": 2**40}),
        st.just({"__kind__": "device", "value": "cuda:99"}),
    ]
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        choices.append(st.just(-current))
        choices.append(st.just(current * 1000))
    if isinstance(current, list) and current:
        choices.append(st.just(current[:-1]))
        choices.append(st.just(current + current))
    return draw(st.one_of(choices))


# Live gadgets: names that walk from an allowed module to a function that
# runs its argument, which the "gadget" mutation pairs with a shell command.
LIVE_GADGETS = ("sknebula._base.torch.os.system", "sknebula.io._format.inspect.os.system")
# Keys an encoded dict may gain.
EXTRA_KEYS = ("criterion__command", "criterion__path", "optimizer__foo", "callbacks", "module",
              "iterator_train__x", "extra_", "__class__", "predict", "_private", "n_anchors")


def _code_nodes(doc):
    """Paths of the entries that name code."""
    return [path for path in _paths(doc)
            if isinstance(_get(doc, path), dict)
            and _get(doc, path).get("__kind__") in ("import", "object")]


def _pair_lists(doc):
    """Paths of the encoded dicts' ``[[key, value], ...]`` lists."""
    return [path for path in _paths(doc)
            if isinstance(_get(doc, path), list) and path and path[-1] == "items"
            and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                    for p in _get(doc, path))]


def _gadget(draw, st, doc, marker):
    """Name a live gadget where the file names code, and hand it a shell
    command where its arguments would come from."""
    shell = f"touch {marker}"
    nodes = _code_nodes(doc)
    if not nodes:
        return
    criterion = [p for p in nodes if p[-2:] == (0, 1) and "net" in p]
    if criterion and draw(st.booleans()):
        nodes = criterion  # the net's criterion, the route that ran a command
    node = _get(doc, draw(st.sampled_from(nodes)))
    gadget = draw(st.sampled_from(LIVE_GADGETS))
    if node["__kind__"] == "import":
        node["name"] = gadget
    else:
        node["class"] = gadget
        node["params"] = {"__kind__": "dict", "items": [["command", shell]]}
    net = doc.get("net")
    if isinstance(net, dict) and isinstance(net.get("params"), dict):
        items = net["params"].get("items")
        if isinstance(items, list):
            # The criterion's own arguments go: the gadget takes one alone.
            items[:] = [p for p in items if not (isinstance(p, list) and p
                                                 and str(p[0]).startswith("criterion__"))]
            items.append(["criterion__command", shell])


def mutate(draw, st, doc, names, marker):
    """``doc`` with one to three mutations drawn by hypothesis."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(
            ["replace", "replace", "rename", "gadget", "add-pair", "add", "remove"]))
        if action == "gadget":
            _gadget(draw, st, doc, marker)
            continue
        if action == "rename" and _code_nodes(doc):
            node = _get(doc, draw(st.sampled_from(_code_nodes(doc))))
            node["name" if node["__kind__"] == "import" else "class"] = draw(
                st.sampled_from(names))
            continue
        if action == "add-pair" and _pair_lists(doc):
            items = _get(doc, draw(st.sampled_from(_pair_lists(doc))))
            items.append([draw(st.sampled_from(EXTRA_KEYS)),
                          _replacement(draw, st, names, marker, None)])
            continue
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        node = _get(doc, path)
        if action == "add" and isinstance(node, dict):
            node[draw(st.sampled_from(EXTRA_KEYS))] = _replacement(draw, st, names, marker, None)
        elif action == "add" and isinstance(node, list):
            node.append(_replacement(draw, st, names, marker, None))
        elif action == "remove" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        else:
            doc = _set(doc, path, _replacement(draw, st, names, marker, node))
    return doc


def _status(field):
    """A field of /proc/self/status in MB (Linux), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def peak_mb():
    """The process's peak resident memory since the last reset, in MB."""
    peak = _status("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 if peak is None else peak


def start_measuring():
    """Reset the peak to the memory in use now (Linux), and return that."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    now = _status("VmRSS")
    return peak_mb() if now is None else now


def run(examples, seed_files_dir, files=None):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from safetensors.torch import save

    from sknebula.io import load
    from sknebula.io._format import read

    files = real_files(seed_files_dir) if files is None else files
    names = gadget_names()
    marker = os.path.join(seed_files_dir, "gadget-ran")
    parsed = {name: (read(data), X) for name, (data, X) in files.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data, X in files.values():  # warm-up: every path once
            est = load(data)
            if X is not None:
                for method in METHODS:
                    if hasattr(est, method):
                        getattr(est, method)(X if method != "inverse_transform"
                                             else est.transform(X))
    counts = {"examples": 0, "loaded": 0, "refused": 0}
    jumps = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        name = data.draw(st.sampled_from(sorted(parsed)))
        (metadata, doc, tensors), X = parsed[name]
        mutated = mutate(data.draw, st, doc, names, marker)
        blob = save(tensors, metadata={**metadata, "estimator": json.dumps(mutated)})
        counts["examples"] += 1
        before = start_measuring()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                est = load(blob)
            except ValueError:
                counts["refused"] += 1
                jumps.append(peak_mb() - before)
                return
            counts["loaded"] += 1
            if hasattr(est, "net_") and X is not None:
                for method in METHODS:
                    if hasattr(est, method):
                        getattr(est, method)(X if method != "inverse_transform"
                                             else est.transform(X))
        assert not os.path.exists(marker), "a gadget ran"
        jumps.append(peak_mb() - before)

    check()
    return {**counts, "names": len(names), "largest_peak_mb": round(max(jumps, default=0), 1),
            "marker": os.path.exists(marker)}


def crafted(files):
    """``{route: file bytes}``: each way a few KB of header could ask for
    hundreds of MB, written into a real clusterer file."""
    import torch
    from safetensors.torch import save

    from sknebula.io._format import read

    metadata, doc, tensors = read(files["clusterer"][0])

    def with_doc(change, extra=None):
        mutated = copy.deepcopy(doc)
        change(mutated)
        return save({**tensors, **(extra or {})},
                    metadata={**metadata, "estimator": json.dumps(mutated)})

    def attribute(value):
        return lambda d: d["attributes"].__setitem__("extra_", value)

    def hidden(d):
        d["params"]["items"] = [[k, {"__kind__": "tuple", "items": [20_000_000]}
                                 if k == "hidden_dims" else v] for k, v in d["params"]["items"]]

    def reuse(d):
        for i in range(400):
            d["attributes"][f"copy{i}_"] = {"__kind__": "array", "dtype": "<f8", "key": "array/big"}

    big = {"array/big": torch.zeros(2**17, dtype=torch.float64)}  # 1 MB
    return {
        "void scalar": with_doc(attribute(
            {"__kind__": "scalar", "dtype": "|V200000000", "value": 0})),
        "wide strings": with_doc(attribute(
            {"__kind__": "object_array", "dtype": "<U100000000", "shape": [1], "items": ["x"]})),
        "many wide strings": with_doc(attribute(
            {"__kind__": "object_array", "dtype": "<U4096", "shape": [50_000],
             "items": [""] * 50_000})),
        "huge hidden_dims": with_doc(hidden),
        "one tensor read 400 times": with_doc(reuse, big),
        "bytes widened to float64": with_doc(attribute(
            {"__kind__": "array", "dtype": "<f8", "key": "array/bytes"}),
            {"array/bytes": torch.zeros(2**20, dtype=torch.bool)}),
    }


def routes(workdir, files=None):
    """Load each crafted file; ``{route: [outcome, peak rise in MB]}``, and
    the rise of a 100 MB allocation, which shows the measure works."""
    import numpy as np

    from sknebula.io import load

    files = real_files(workdir) if files is None else files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load(files["clusterer"][0])  # warm-up
        result = {}
        for route, data in crafted(files).items():
            before = start_measuring()
            try:
                load(data)
                outcome = "loaded"
            except ValueError:
                outcome = "ValueError"
            except Exception as exc:  # noqa: BLE001
                outcome = type(exc).__name__
            result[route] = [outcome, round(peak_mb() - before, 1)]
    before = start_measuring()
    block = np.ones(100 * 2**20, dtype=np.uint8)
    result["control: 100 MB array"] = ["allocated", round(peak_mb() - before, 1)]
    del block
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--routes", action="store_true",
                        help="load the crafted files of each memory route instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        result = routes(workdir) if args.routes else run(args.examples, workdir)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
