"""What the fitted attributes that inference reads must look like.

A loaded estimator predicts from its fitted attributes as much as from its
weights, so each one that ``transform``, ``predict`` or a score reads is
checked against the type and shape that ``fit`` gives it, before the
estimator is handed back. Other fitted attributes are kept as plain data.
"""

import importlib.util
import math
from numbers import Integral, Real

import numpy as np

# Most axes of one sample (a multichannel volume), and the widest axis.
_MAX_SAMPLE_AXES = 5
_MAX_AXIS = 2**31 - 1
_OUTPUT_CONFIGS = {"default", "pandas", "polars"}
_OUTPUT_METHODS = {"transform", "fit_transform"}


def _fail(est, name, what):
    raise ValueError(f"The file's {type(est).__name__}.{name} is not {what}.")


def _is_int(value, low=1):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= low


def _is_float(value):
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _shape(est, name, value):
    if not (isinstance(value, tuple) and 1 <= len(value) <= _MAX_SAMPLE_AXES
            and all(_is_int(n) and n <= _MAX_AXIS for n in value)):
        _fail(est, name, f"a sample shape (a tuple of 1 to {_MAX_SAMPLE_AXES} positive ints)")


def _array(est, name, value, kinds, shape):
    """``value`` must be an array of a dtype kind in ``kinds`` and of
    ``shape`` (None: any length on that axis)."""
    if not (isinstance(value, np.ndarray) and value.dtype.kind in kinds
            and value.ndim == len(shape)
            and all(want is None or got == want for got, want in zip(value.shape, shape))):
        axes = ", ".join("n" if n is None else str(n) for n in shape)
        _fail(est, name, f"an array of shape ({axes}) of kind {kinds!r}")


def _positive(est, name, value):
    if not _is_int(value):
        _fail(est, name, "a positive int")


def _required(est):
    """The attributes a fitted ``est`` must have, by its class."""
    from .._nvc import NebulaBase
    from ..cluster import NebulaVariationalClusterer
    from ..disentangle import LabelDisentangledVAE
    from ..embedding import VariationalJointEmbedding

    names = ["input_shape_", "n_features_in_", "batch_size_"]
    if isinstance(est, NebulaBase):
        names += ["n_anchors_", "anchors_", "reconstruction_"]
    if isinstance(est, NebulaVariationalClusterer):
        names += ["n_clusters_", "anchor_labels_", "weights_"]
    if isinstance(est, LabelDisentangledVAE):
        names += ["classes_", "class_means_", "reconstruction_"]
    if isinstance(est, VariationalJointEmbedding):
        names += ["embeddings_", "posterior_log_vars_", "features_", "offset_",
                  "anomaly_score_", "score_neighbors_"]
    return names


def upgrade(est):
    """Give a fitted estimator from a file of an earlier release what this
    one reads (format 1 files are still read): a VJE fixes its score at fit
    since 0.1.0's files, whose threshold_ was on the score_samples scale."""
    from ..embedding import VariationalJointEmbedding

    if isinstance(est, VariationalJointEmbedding) and not hasattr(est, "anomaly_score_"):
        est.anomaly_score_ = est.anomaly_score
        if hasattr(est, "features_") and hasattr(est, "score_neighbors"):
            n = len(est.features_) if isinstance(est.features_, np.ndarray) else 2
            est.score_neighbors_ = min(est.score_neighbors, max(n - 1, 1))
        if hasattr(est, "offset_") and getattr(est, "threshold_", None) == est.offset_:
            est.threshold_ = -est.offset_


def check_fitted(est):
    """ValueError unless the fitted attributes that inference reads fit
    each other and the parameters (checked before anything is built from
    them; :func:`check_module` checks them against the network)."""
    from ..objectives.reconstruction import RECONSTRUCTIONS

    missing = [name for name in _required(est) if not hasattr(est, name)]
    if missing:
        raise ValueError(f"The file's fitted {type(est).__name__} lacks {missing}.")
    _shape(est, "input_shape_", est.input_shape_)
    _positive(est, "n_features_in_", est.n_features_in_)
    if est.n_features_in_ != est.input_shape_[0]:  # validate_data counts axis 1
        _fail(est, "n_features_in_", f"input_shape_[0] = {est.input_shape_[0]}")
    if hasattr(est, "feature_names_in_"):
        _array(est, "feature_names_in_", est.feature_names_in_, "OU", (est.n_features_in_,))
        if not all(isinstance(name, str) for name in est.feature_names_in_.tolist()):
            _fail(est, "feature_names_in_", "an array of strings")
    _positive(est, "batch_size_", est.batch_size_)
    if hasattr(est, "target_shape_"):
        _shape(est, "target_shape_", est.target_shape_)
    if hasattr(est, "reconstruction_") and est.reconstruction_ not in RECONSTRUCTIONS:
        _fail(est, "reconstruction_", f"one of {sorted(RECONSTRUCTIONS)}")
    if hasattr(est, "n_anchors_"):
        _positive(est, "n_anchors_", est.n_anchors_)
        _array(est, "anchors_", est.anchors_, "f", (est.n_anchors_, est.latent_dim))
    if hasattr(est, "anchor_labels_"):
        _positive(est, "n_clusters_", est.n_clusters_)
        _array(est, "anchor_labels_", est.anchor_labels_, "iu", (est.n_anchors_,))
        if est.anchor_labels_.size and not (
                0 <= est.anchor_labels_.min() and est.anchor_labels_.max() < est.n_clusters_):
            _fail(est, "anchor_labels_", f"labels in [0, {est.n_clusters_})")
        _array(est, "weights_", est.weights_, "f", (est.n_anchors_,))
    if hasattr(est, "class_means_"):
        _array(est, "classes_", est.classes_, "biufOU", (None,))
        _array(est, "class_means_", est.class_means_, "f", (len(est.classes_), est.relevant_dim))
    if hasattr(est, "embeddings_"):
        n_samples = len(est.embeddings_) if isinstance(est.embeddings_, np.ndarray) else None
        for name in ("embeddings_", "posterior_log_vars_"):
            _array(est, name, getattr(est, name), "f", (n_samples, est.latent_dim))
        _array(est, "features_", est.features_, "f", (None, None))
        if len(est.features_) == 0 or n_samples == 0:
            _fail(est, "features_", "a non-empty reference set")
        if est.anomaly_score_ not in ("knn", "likelihood"):
            _fail(est, "anomaly_score_", "'knn' or 'likelihood'")
        most = max(len(est.features_) - 1, 1)
        if not (_is_int(est.score_neighbors_) and est.score_neighbors_ <= most):
            _fail(est, "score_neighbors_", f"an int in [1, {most}]")
    if hasattr(est, "images_centred_"):
        if not isinstance(est.images_centred_, (bool, np.bool_)):
            _fail(est, "images_centred_", "a bool")
        kind = est._sample_kind()  # a ValueError where sample_shape does not fit
        if est.images_centred_ and not (kind.name == "image" and len(kind.layout) in (2, 3)):
            _fail(est, "images_centred_", f"False for samples of kind {kind.name!r}")
    for name in ("offset_", "threshold_"):
        if hasattr(est, name) and not _is_float(getattr(est, name)):
            _fail(est, name, "a number")
    config = getattr(est, "_sklearn_output_config", {})
    if not (isinstance(config, dict) and all(
            k in _OUTPUT_METHODS and v in _OUTPUT_CONFIGS for k, v in config.items())):
        _fail(est, "_sklearn_output_config", f"a set_output configuration ({_OUTPUT_CONFIGS})")
    missing = [v for v in config.values()
               if v != "default" and importlib.util.find_spec(v) is None]
    if missing:
        raise ValueError(f"The file's model returns {missing[0]} data frames, and "
                         f"{missing[0]} is not installed here.")


def check_module(est, module):
    """ValueError unless the fitted attributes fit ``module``, the network
    the parameters build (on the meta device, so shapes only)."""
    if hasattr(est, "features_"):
        width = getattr(module.encoder, "out_features", None)
        _array(est, "features_", est.features_, "f", (None, width))


def check_name(est, name, params):
    """ValueError unless ``name`` may be a fitted attribute of ``est``: a
    public name ending in ``_`` (or set_output's configuration) that is
    neither a parameter nor anything of the class (a method above all)."""
    allowed = isinstance(name, str) and name.isidentifier() and (
        (name.endswith("_") and not name.startswith("_")) or name == "_sklearn_output_config"
    )
    if not allowed or name in params or hasattr(type(est), name):
        raise ValueError(
            f"The file sets {type(est).__name__}.{str(name)[:100]}, which is no fitted "
            "attribute."
        )
