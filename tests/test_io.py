"""sknebula.io: model files that load without running code, ONNX export."""

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)
from sknebula import io as skio

pytest.importorskip("safetensors")

TINY = dict(hidden_dims=(16,), max_epochs=3, random_state=0)
ESTIMATORS = {
    "clusterer": lambda: NebulaVariationalClusterer(n_anchors=3, latent_dim=3, **TINY),
    "autoencoder": lambda: NebulaAutoencoder(n_anchors=3, latent_dim=3, **TINY),
    "disentangled": lambda: LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2, **TINY),
    "simsiam": lambda: VariationalSimSiam(latent_dim=4, batch_size=16, **TINY),
    "vje": lambda: VariationalJointEmbedding(latent_dim=4, batch_size=16, **TINY),
}


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=36, n_features=5, centers=3, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return {name: make().fit(X, y) for name, make in ESTIMATORS.items()}


# What a loaded estimator must reproduce exactly, where it has it.
METHODS = ("transform", "predict", "predict_proba", "predict_concentration", "score_samples")


def _outputs(est, X):
    return {m: getattr(est, m)(X) for m in METHODS if hasattr(est, m)}


# ------------------------------------------------------------ round trips
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_round_trip_in_process(name, fitted, data, tmp_path):
    X, _ = data
    est = fitted[name]
    path = tmp_path / "model.safetensors"
    skio.dump(est, path)
    restored = skio.load(path)
    assert type(restored) is type(est)
    assert restored.get_params().keys() == est.get_params().keys()
    for key, value in _outputs(est, X).items():
        np.testing.assert_array_equal(_outputs(restored, X)[key], value)
    assert len(restored.history_) == len(est.history_)
    assert restored.history_[-1, "train_loss"] == est.history_[-1, "train_loss"]
    assert restored.net_.device == "cpu"


def test_round_trip_into_a_fresh_process(fitted, data, tmp_path):
    """Every estimator, loaded in a new interpreter, gives identical
    transform and predict."""
    X, _ = data
    np.save(tmp_path / "X.npy", X)
    for name, est in fitted.items():
        skio.dump(est, tmp_path / f"{name}.safetensors")
    threads = torch.get_num_threads()
    code = textwrap.dedent(f"""
        import numpy as np, torch
        torch.set_num_threads({threads})
        from sknebula.io import load
        X = np.load({str(tmp_path / "X.npy")!r})
        for name in {list(fitted)!r}:
            est = load({str(tmp_path)!r} + "/" + name + ".safetensors")
            for method in {METHODS!r}:
                if hasattr(est, method):
                    out = getattr(est, method)(X)
                    np.save({str(tmp_path)!r} + f"/{{name}}_{{method}}.npy", out)
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    for name, est in fitted.items():
        outputs = _outputs(est, X)
        assert "transform" in outputs
        for method, expected in outputs.items():
            np.testing.assert_array_equal(np.load(tmp_path / f"{name}_{method}.npy"), expected)


def test_unfitted_estimator_and_file_objects_round_trip(tmp_path):
    import io

    est = NebulaVariationalClusterer(n_anchors=4, optimizer=torch.optim.SGD,
                                     random_state=np.random.RandomState(3), device="cpu")
    buffer = io.BytesIO()
    skio.dump(est, buffer)
    restored = skio.load(io.BytesIO(buffer.getvalue()))
    assert restored.optimizer is torch.optim.SGD
    assert not hasattr(restored, "net_")
    assert restored.random_state.randint(1000) == np.random.RandomState(3).randint(1000)
    assert skio.load(buffer.getvalue()).n_anchors == 4


def test_fitted_attributes_keep_their_types(data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.array(["a", "b", "c"])[y]
    est = LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2, **TINY).fit(frame, labels)
    est.set_output(transform="pandas")
    skio.dump(est, tmp_path / "m.safetensors")
    restored = skio.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(restored.classes_, est.classes_)
    assert restored.classes_.dtype == est.classes_.dtype
    np.testing.assert_array_equal(restored.feature_names_in_, est.feature_names_in_)
    assert restored.input_shape_ == est.input_shape_
    assert list(restored.predict(frame)) == list(est.predict(frame))
    assert list(restored.transform(frame).columns) == list(est.transform(frame).columns)


def test_a_gpu_model_loads_on_cpu(fitted, data, tmp_path):
    """A file that says its net ran on CUDA loads on the CPU."""
    X, _ = data
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["clusterer"], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    doc["net"]["device"] = "cuda:0"
    _rewrite(path, metadata, doc, tensors)
    restored = skio.load(path)
    assert restored.net_.device == "cpu"
    assert all(p.device.type == "cpu" for p in restored.net_.module_.parameters())
    np.testing.assert_array_equal(restored.predict(X), fitted["clusterer"].predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fitted_on_gpu_loads_in_a_cpu_only_process(data, tmp_path):
    X, _ = data
    est = NebulaVariationalClusterer(n_anchors=3, latent_dim=3, device="cuda", **TINY).fit(X)
    skio.dump(est, tmp_path / "m.safetensors")
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(f"""
        import numpy as np, torch
        assert not torch.cuda.is_available()
        from sknebula.io import load
        est = load({str(tmp_path / "m.safetensors")!r})
        np.save({str(tmp_path / "y.npy")!r}, est.predict(np.load({str(tmp_path / "X.npy")!r})))
    """)
    import os

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert np.load(tmp_path / "y.npy").shape == (len(X),)


# -------------------------------------------------------- what is refused
class _WritesAFile:
    """Unpickling this creates ``path``: the proof that a pickle ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps(_WritesAFile(marker))
    path = tmp_path / "model.pkl"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="pickle"):
        skio.load(path)
    with pytest.raises(ValueError, match="pickle"):
        skio.load(pickle.dumps(_WritesAFile(marker), protocol=0))
    assert not marker.exists()
    # The payload is live: unpickling it would have written the file.
    pickle.loads(payload).close()
    assert marker.exists()


def test_a_torch_save_archive_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(2), "payload": _WritesAFile(marker)}, path)
    with pytest.raises(ValueError, match="zip archive"):
        skio.load(path)
    assert not marker.exists()


def test_joblib_files_are_refused(fitted, tmp_path):
    joblib = pytest.importorskip("joblib")
    joblib.dump(fitted["vje"], tmp_path / "m.joblib")
    with pytest.raises(ValueError, match="pickle"):
        skio.load(tmp_path / "m.joblib")
    joblib.dump(fitted["vje"], tmp_path / "m.joblib.gz", compress=3)
    with pytest.raises(ValueError, match="Not a sknebula model file"):
        skio.load(tmp_path / "m.joblib.gz")


def _rewrite(path, metadata, doc, tensors):
    from safetensors.torch import save

    metadata = {**metadata, "estimator": json.dumps(doc)}
    path.write_bytes(save(tensors, metadata=metadata))


def _dumped_with_metadata(estimator, path, **changes):
    """A model file of ``estimator`` whose metadata entries ``changes`` replace."""
    skio.dump(estimator, path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    _rewrite(path, {**metadata, **changes}, doc, tensors)
    return path


def test_unknown_format_version_is_refused(fitted, tmp_path):
    path = _dumped_with_metadata(fitted["autoencoder"], tmp_path / "m.safetensors",
                                 format_version="99")
    with pytest.raises(ValueError, match="format version '99'"):
        skio.load(path)


def test_another_library_version_warns(fitted, tmp_path):
    path = _dumped_with_metadata(fitted["autoencoder"], tmp_path / "m.safetensors",
                                 sknebula_version="0.0.1")
    with pytest.warns(UserWarning, match="written by sknebula 0.0.1"):
        skio.load(path)


@pytest.mark.parametrize("keep", [0.99, 0.5, 0.01, 0.0])
def test_truncated_files_are_refused(fitted, tmp_path, keep):
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["clusterer"], path)
    data = path.read_bytes()
    with pytest.raises(ValueError, match="truncated|too short"):
        skio.load(data[: int(len(data) * keep)])


def test_other_safetensors_files_are_refused(tmp_path):
    from safetensors.torch import save

    with pytest.raises(ValueError, match="not a sknebula model file"):
        skio.load(save({"w": torch.zeros(3)}))


def test_tensors_that_do_not_match_the_parameters_are_refused(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["clusterer"], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    # The parameters say hidden layers of 16 and the weights hold them: now say 24.
    params = dict(doc["params"]["items"])
    hidden = params["hidden_dims"]
    assert hidden == {"__kind__": "tuple", "items": [16]}
    wider = {"__kind__": "tuple", "items": [24]}
    doc["params"]["items"] = [[k, wider if k == "hidden_dims" else v]
                              for k, v in doc["params"]["items"]]
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match="tensors do not match its parameters"):
        skio.load(path)
    # The latent width that the anchors_ attribute holds is checked as well.
    doc["params"]["items"] = [[k, 5 if k == "latent_dim" else hidden if k == "hidden_dims" else v]
                              for k, v in doc["params"]["items"]]
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match="anchors_ is not an array of shape \\(3, 5\\)"):
        skio.load(path)
    # A tensor missing from the file.
    doc["params"]["items"] = [[k, 3 if k == "latent_dim" else v] for k, v in doc["params"]["items"]]
    tensors.pop("module/anchors")
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match="tensors do not match its parameters"):
        skio.load(path)


def _with_param(path, est, name, value):
    """Write ``est`` to ``path`` with the encoded parameter ``name`` replaced."""
    skio.dump(est, path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    doc["params"]["items"] = [[k, value if k == name else v] for k, v in doc["params"]["items"]]
    _rewrite(path, metadata, doc, tensors)
    return path


def test_imports_outside_the_tables_are_refused_at_load(tmp_path):
    path = _with_param(tmp_path / "m.safetensors", NebulaAutoencoder(), "optimizer",
                       {"__kind__": "import", "name": "os.system"})
    with pytest.raises(ValueError, match="'os.system' as optimizer, which is not a torch.optim"):
        skio.load(path)


# A name that walks from an allowed module through its imports to
# os.system: the route by which a file ran a shell command on load.
GADGET = "sknebula._base.torch.os.system"


def _gadget_is_live():
    import functools
    import importlib
    import os

    parts = GADGET.split(".")
    return functools.reduce(getattr, parts[2:], importlib.import_module(".".join(parts[:2]))) \
        is os.system


def _shell(marker):
    return f"touch {marker}"


def test_a_criterion_that_walks_to_os_system_never_runs(fitted, tmp_path):
    """The route that ran a shell command: the net's criterion named as a
    gadget, its argument among the criterion's parameters."""
    assert _gadget_is_live()
    marker = tmp_path / "ran"
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["clusterer"], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    items = [[k, {"__kind__": "import", "name": GADGET} if k == "criterion" else v]
             for k, v in doc["net"]["params"]["items"] if not k.startswith("criterion__")]
    doc["net"]["params"]["items"] = items + [["criterion__command", _shell(marker)]]
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match="as its criterion"):
        skio.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("param, value", [
    ("optimizer", {"__kind__": "import", "name": GADGET}),
    ("encoder", {"__kind__": "import", "name": GADGET}),
    ("metric", {"__kind__": "import", "name": GADGET}),
    ("encoder_params", {"__kind__": "dict", "items": [
        ["command", {"__kind__": "import", "name": GADGET}]]}),
    ("callbacks", [{"__kind__": "object", "class": GADGET, "params": {
        "__kind__": "dict", "items": [["command", "touch {marker}"]]}}]),
    ("callbacks", [{"__kind__": "object", "class": "skorch.callbacks.training.LoadInitState",
                    "params": {"__kind__": "dict", "items": [["checkpoint", "{marker}"]]}}]),
    ("views", {"__kind__": "object", "class": "skorch.callbacks.scoring.EpochScoring",
               "params": {"__kind__": "dict", "items": [["scoring", "{marker}"]]}}),
    ("random_state", {"__kind__": "import", "name": "numpy.random.RandomState"}),
], ids=["optimizer", "encoder", "metric", "encoder_params", "callback-gadget",
        "callback-not-listed", "views-callback", "random-state-class"])
def test_every_parameter_route_is_refused(param, value, tmp_path):
    marker = tmp_path / "ran"
    value = json.loads(json.dumps(value).replace("{marker}", str(marker)))
    path = _with_param(tmp_path / "m.safetensors", NebulaVariationalClusterer(), param, value)
    with pytest.raises(ValueError, match="names|not a plain|Unexpected entry"):
        skio.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("name", [
    "torch.optim.Adam",  # an alias: Adam's own name is torch.optim.adam.Adam
    "torch.optim.adam.Adam.__init__",
    "torch.optim.adam.Adam.__class__",
    "torch.optim.optimizer.Optimizer",  # the base, no optimizer of its own
    "sknebula._data.batch_loader",
    "sknebula.series.paired_dtw",  # a metric, not an optimizer
])
def test_names_resolve_only_by_identity_in_their_slot(name, tmp_path):
    path = _with_param(tmp_path / "m.safetensors", NebulaAutoencoder(), "optimizer",
                       {"__kind__": "import", "name": name})
    with pytest.raises(ValueError, match="as optimizer, which is not"):
        skio.load(path)


@pytest.mark.parametrize("key, value", [
    ("callbacks", []),
    ("optimizer__weight_decay", 0.1),
    ("criterion__not_a_parameter", 1.0),
    ("criterion__beta", {"__kind__": "import", "name": "torch.optim.adam.Adam"}),
    ("iterator_train", {"__kind__": "import", "name": "sknebula.io._format.dump"}),
    ("optimizer", {"__kind__": "import", "name": "torch.optim.sgd.SGD"}),
    ("lr", float("inf")),
    ("max_epochs", -1),
    ("train_split", {"__kind__": "import", "name": "torch.optim.adam.Adam"}),
])
def test_net_parameters_the_writer_would_not_write_are_refused(key, value, fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["autoencoder"], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    items = [[k, v] for k, v in doc["net"]["params"]["items"] if k != key]
    doc["net"]["params"]["items"] = items + [[key, value]]
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match="net"):
        skio.load(path)


@pytest.mark.parametrize("param, value, match", [
    ("n_anchors", -3, "n_anchors"),
    ("lr", "fast", "lr"),
    ("hidden_dims", {"__kind__": "tuple", "items": [16, -2]}, "hidden_dims"),
    ("device", "cuda:x", "device"),
    ("encoder", "not-an-encoder", "encoder"),
])
def test_parameters_are_validated_as_fit_validates_them(param, value, match, tmp_path):
    path = _with_param(tmp_path / "m.safetensors", NebulaVariationalClusterer(), param, value)
    with pytest.raises(ValueError, match=match):
        skio.load(path)


@pytest.mark.parametrize("name, value", [
    ("anchors_", {"__kind__": "scalar", "dtype": "<f8", "value": 1.0}),
    ("anchor_labels_", "abc"),
    ("n_clusters_", 0),
    ("input_shape_", {"__kind__": "tuple", "items": [5, 0]}),
    ("n_features_in_", 7),
    ("batch_size_", None),
    ("reconstruction_", "os.system"),
])
def test_fitted_attributes_inference_reads_are_checked(name, value, fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["clusterer"], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    doc["attributes"][name] = value
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match=name):
        skio.load(path)
    del doc["attributes"][name]
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError, match=f"lacks \\['{name}'\\]"):
        skio.load(path)


class _MyEncoder(torch.nn.Module):
    def __init__(self, input_shape, hidden_dims=(8,)):
        super().__init__()
        self.layer = torch.nn.Linear(int(np.prod(input_shape)), hidden_dims[-1])
        self.out_features = hidden_dims[-1]

    def forward(self, x):
        return self.layer(x.flatten(1))


@pytest.mark.parametrize(
    "params",
    [
        {"encoder": _MyEncoder},
        {"metric": lambda a, b: float(np.abs(a - b).sum())},
        {"optimizer": type("MyOptimizer", (torch.optim.SGD,), {})},
        {"callbacks": [object()]},
    ],
    ids=["encoder-class", "metric", "optimizer", "callback"],
)
def test_code_outside_the_allow_list_is_refused_at_dump(params, tmp_path):
    with pytest.raises(ValueError, match="cannot store"):
        skio.dump(NebulaVariationalClusterer(**params), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_allowed_callables_and_callbacks_are_stored(tmp_path):
    from skorch.callbacks import EpochScoring

    from sknebula.series import paired_dtw

    est = NebulaVariationalClusterer(
        metric=paired_dtw, optimizer=torch.optim.AdamW,
        callbacks=[("score", EpochScoring("train_loss", name="again", on_train=True))],
    )
    skio.dump(est, tmp_path / "m.safetensors")
    restored = skio.load(tmp_path / "m.safetensors")
    assert restored.metric is paired_dtw and restored.optimizer is torch.optim.AdamW
    name, callback = restored.callbacks[0]
    assert name == "score" and isinstance(callback, EpochScoring)
    assert callback.name == "again"


def test_only_sknebula_estimators_are_written(tmp_path):
    from sklearn.cluster import KMeans

    with pytest.raises(ValueError, match="writes sknebula's estimators"):
        skio.dump(KMeans(), tmp_path / "m.safetensors")


# ------------------------------------------------------------------- ONNX
def _onnx_outputs(model, X):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": np.asarray(X, dtype=np.float32)})))


@pytest.fixture(scope="module")
def digits_models():
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    settings = dict(n_anchors=10, hidden_dims=(32,), latent_dim=6, max_epochs=3, random_state=0)
    return X, {
        "clusterer": NebulaVariationalClusterer(**settings).fit(X),
        "autoencoder": NebulaAutoencoder(**settings).fit(X),
    }


def test_onnx_clusterer_on_digits_matches_predict(digits_models):
    pytest.importorskip("onnxscript")
    X, models = digits_models
    est = models["clusterer"]
    model = skio.to_onnx(est, X[:5], dynamo=True)
    out = _onnx_outputs(model, X)
    assert list(out) == ["latent", "label", "probabilities"]
    np.testing.assert_allclose(out["latent"], est.transform(X), atol=1e-4)
    np.testing.assert_array_equal(out["label"], est.predict(X))
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), atol=1e-4)
    assert len(np.unique(out["label"])) > 1


def test_onnx_autoencoder_on_digits_matches_transform_and_predict(digits_models):
    pytest.importorskip("onnx")
    X, models = digits_models
    est = models["autoencoder"]
    out = _onnx_outputs(skio.to_onnx(est, X[:5], dynamo=False), X)
    np.testing.assert_allclose(out["latent"], est.transform(X), atol=1e-4)
    np.testing.assert_allclose(out["reconstruction"], est.predict(X), atol=1e-4)


def _structured(encoder):
    rng = np.random.RandomState(0)
    if encoder == "conv2d":
        base = rng.rand(3, 1, 8, 8)
    else:
        base = np.sin(np.linspace(0, 6, 24) * np.arange(1, 4)[:, None])[:, None]
    X = np.repeat(base, 10, axis=0) + 0.05 * rng.rand(30, *base.shape[1:])
    return X


@pytest.mark.parametrize("encoder", ["conv2d", "sequence"])
def test_onnx_structured_encoders(encoder):
    pytest.importorskip("onnx")
    X = _structured(encoder)
    est = NebulaVariationalClusterer(n_anchors=3, encoder=encoder, hidden_dims=(4, 8),
                                     latent_dim=3, max_epochs=3, random_state=0).fit(X)
    out = _onnx_outputs(skio.to_onnx(est, X[:2], dynamo=False), X)
    np.testing.assert_allclose(out["latent"], est.transform(X), atol=1e-4)
    np.testing.assert_array_equal(out["label"], est.predict(X))
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("name", ["disentangled", "simsiam", "vje"])
def test_onnx_other_estimators_match_transform(name, fitted, data):
    pytest.importorskip("onnx")
    X, _ = data
    est = fitted[name]
    out = _onnx_outputs(skio.to_onnx(est, X[:1], dynamo=False), X)
    np.testing.assert_allclose(out["latent"], est.transform(X), atol=1e-4)
    if name == "disentangled":
        np.testing.assert_array_equal(out["label"], est.predict(X))
        np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), atol=1e-4)
    if name == "simsiam":
        np.testing.assert_allclose(out["concentration"], est.predict_concentration(X),
                                   rtol=1e-4)


def test_onnx_refuses_unfitted_and_foreign_estimators(data):
    pytest.importorskip("onnx")
    from sklearn.cluster import KMeans
    from sklearn.exceptions import NotFittedError

    X, _ = data
    with pytest.raises(NotFittedError):
        skio.to_onnx(NebulaVariationalClusterer(), X)
    with pytest.raises(ValueError, match="sknebula's estimators"):
        skio.to_onnx(KMeans(n_clusters=2).fit(X), X)


def test_attributes_that_would_replace_methods_are_refused(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skio.dump(fitted["vje"], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    for name in ("predict", "__class__", "_private_", "latent_dim"):
        attributes = {**doc["attributes"], name: 1}
        _rewrite(path, metadata, {**doc, "attributes": attributes}, tensors)
        with pytest.raises(ValueError, match=f"VariationalJointEmbedding.{name}, which is no"):
            skio.load(path)
    _rewrite(path, metadata, {k: v for k, v in doc.items() if k != "params"}, tensors)
    with pytest.raises(ValueError, match="parameters are not a dict"):
        skio.load(path)
    _rewrite(path, metadata, {**doc, "net": None}, tensors)
    with pytest.raises(ValueError, match="fitted attributes but no network"):
        skio.load(path)


def test_arrays_of_every_kind_keep_shape_and_dtype(tmp_path):
    values = {
        "zero_d_": np.array(3.0),
        "empty_": np.zeros((0, 4)),
        "big_endian_": np.arange(5, dtype=">f8"),
        "strided_": np.arange(6).reshape(2, 3)[:, ::2],
        "unsigned_": np.arange(3, dtype=np.uint32),
        "flags_": np.array([True, False]),
        "names_": np.array(["x", "yy"]),
        "objects_": np.array(["a", 1, None], dtype=object),
        "scalar_": np.float32(2.5),
        "nested_": {"k": [1, (2.0, "three")], 4: None},
    }
    est = NebulaAutoencoder(**TINY).fit(np.random.RandomState(0).rand(20, 3))
    for name, value in values.items():
        setattr(est, name, value)
    skio.dump(est, tmp_path / "m.safetensors")
    restored = skio.load(tmp_path / "m.safetensors")
    for name, value in values.items():
        got = getattr(restored, name)
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and got.shape == value.shape, name
            assert got.tolist() == value.tolist(), name
        else:
            assert got == value and type(got) is type(value), name


# ------------------------------------------------- files of earlier releases
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_files_written_by_the_previous_release_still_load(name):
    """Format 1 files written by sknebula before names resolved by
    identity (tests/data, with what the saved models returned) load and
    predict as they did."""
    est = skio.load(DATA / f"format1-{name}.safetensors")
    outputs = np.load(DATA / "format1-outputs.npz")
    X = outputs["X"]
    np.testing.assert_allclose(est.transform(X), outputs[f"{name}_transform"], rtol=1e-6,
                               atol=1e-9)
    if f"{name}_predict" in outputs:
        np.testing.assert_array_equal(est.predict(X), outputs[f"{name}_predict"])
    if name == "vje":  # its threshold_ now on the scale of decision_scores_
        assert est.anomaly_score_ == est.anomaly_score
        np.testing.assert_array_equal(est.decision_scores_ > est.threshold_, est.predict(X) == -1)


# What a reviewer's crafted files found (each loaded, or escaped load as
# another error than ValueError, before these checks).
@pytest.mark.parametrize("name, where, value", [
    ("clusterer", "foo_", {"__kind__": "object_array", "dtype": "|O", "shape": [2**1100],
                           "items": []}),
    ("clusterer", "images_centred_", True),
    ("clusterer", "feature_names_in_", {"__kind__": "object_array", "dtype": "|O",
                                        "shape": [5], "items": [1, 2, None, True, "e"]}),
    ("clusterer", "_sklearn_output_config", {"__kind__": "dict", "items": [["predict", "pandas"]]}),
    ("clusterer", "threshold_", float("nan")),
    ("vje", "offset_", {"__kind__": "scalar", "dtype": "<f2", "value": 1e9}),
], ids=["huge-shape", "centred-vectors", "mixed-feature-names", "output-config",
        "nan-threshold", "inf-offset"])
def test_crafted_attributes_are_refused(name, where, value, fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skio.dump(fitted[name], path)
    metadata, doc, tensors = skio._format.read(path.read_bytes())
    doc["attributes"][where] = value
    _rewrite(path, metadata, doc, tensors)
    with pytest.raises(ValueError):
        skio.load(path)


def test_a_random_state_of_huge_keys_is_refused(tmp_path):
    keys = {"__kind__": "object_array", "dtype": "|O", "shape": [624], "items": [2**70] * 624}
    path = _with_param(tmp_path / "m.safetensors", NebulaAutoencoder(), "random_state",
                       {"__kind__": "RandomState", "keys": keys, "pos": 0, "has_gauss": 0,
                        "cached": 0.0})
    with pytest.raises(ValueError, match="random state"):
        skio.load(path)


def test_callback_parameters_name_no_code_but_a_policy(tmp_path):
    from skorch.callbacks import LRScheduler, PrintLog
    from torch.optim.lr_scheduler import StepLR

    est = NebulaAutoencoder(callbacks=[("lr", LRScheduler(policy=StepLR, step_size=2))])
    skio.dump(est, tmp_path / "ok.safetensors")
    assert skio.load(tmp_path / "ok.safetensors").callbacks[0][1].policy is StepLR
    policy = {"__kind__": "import", "name": "torch.optim.lr_scheduler.LambdaLR"}
    printer = {"__kind__": "object", "class": "skorch.callbacks.logging.PrintLog",
               "params": {"__kind__": "dict", "items": [["sink", policy]]}}
    path = _with_param(tmp_path / "m.safetensors", NebulaAutoencoder(), "callbacks", [printer])
    with pytest.raises(ValueError, match="only a value may stand"):
        skio.load(path)
    assert PrintLog  # the class the crafted file names
