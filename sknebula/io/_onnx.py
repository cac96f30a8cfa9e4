"""ONNX export of a fitted estimator's inference."""

import copy
import logging
import warnings
from contextlib import contextmanager
from io import BytesIO  # the standard library's io

import numpy as np
import torch

from ._format import estimator_classes, library_version

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
        from ..objectives.reconstruction import decoder_mean

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
    from ..autoencoder import NebulaAutoencoder
    from ..cluster import NebulaVariationalClusterer
    from ..disentangle import LabelDisentangledVAE
    from ..embedding import VariationalSimSiam

    module = copy.deepcopy(est.net_.module_).eval().float().cpu()
    if isinstance(est, NebulaVariationalClusterer):
        return _NebulaGraph(est, module), ["latent", "label", "probabilities"]
    if isinstance(est, NebulaAutoencoder):
        return _NebulaGraph(est, module), ["latent", "reconstruction"]
    if isinstance(est, LabelDisentangledVAE):
        graph = _DisentangledGraph(est, module)
        return graph, ["latent", "label" if graph.numeric else "label_index", "probabilities"]
    if isinstance(est, VariationalSimSiam):
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

    classes = estimator_classes()
    if classes.get(type(estimator).__name__) is not type(estimator):
        raise ValueError(f"to_onnx exports sknebula's estimators, not {type(estimator).__name__}.")
    if dynamo not in (True, False, "auto"):
        raise ValueError(f"dynamo must be True, False or 'auto', got {dynamo!r}.")
    check_is_fitted(estimator)
    if getattr(estimator, "images_centred_", False):
        raise ValueError(
            "This estimator centres every image on its centre of mass before its "
            "network reads it (images_centred_), which the exported graph would not "
            "do; export is not supported for it yet. Centre the images yourself "
            "(sknebula.nn.centring.centred) before fitting and exporting."
        )
    X = estimator._validate_X(X, reset=False)
    rows = np.asarray(X[:8], dtype=np.float32)
    if len(rows) < 2:  # a batch of one would fix the batch axis at 1
        rows = np.concatenate([rows, rows])
    graph, names = _graph(estimator)
    model = _export(graph, torch.from_numpy(rows), names, dynamo)
    model.doc_string = (
        f"sknebula {library_version()} {type(estimator).__name__}: input X "
        f"(n_samples, {', '.join(map(str, estimator.input_shape_))}), float32; outputs "
        f"{', '.join(names)}."
    )
    return model
