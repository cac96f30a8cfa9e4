"""Bad input is refused before training, with an error that names the problem."""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import NotFittedError

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)

TINY = dict(hidden_dims=(8,), latent_dim=2, max_epochs=2, batch_size=16, random_state=0)

# Every unsupervised estimator, built small.
FACTORIES = {
    "clusterer": lambda **kw: NebulaVariationalClusterer(**{"n_anchors": 3, **TINY, **kw}),
    "autoencoder": lambda **kw: NebulaAutoencoder(**{"n_anchors": 3, **TINY, **kw}),
    "simsiam": lambda **kw: VariationalSimSiam(**{**TINY, **kw}),
    "vje": lambda **kw: VariationalJointEmbedding(**{**TINY, **kw}),
}


def _has_param(which, name):
    return name in FACTORIES[which]().get_params()


@pytest.fixture(params=sorted(FACTORIES))
def make(request):
    return FACTORIES[request.param]


def _X(n=30, d=4, seed=0):
    return np.random.RandomState(seed).rand(n, d)


def _with(value):
    X = _X()
    X[3, 1] = value
    return X


BAD_FIT_INPUTS = [
    ("nan", lambda: _with(np.nan), ValueError, "NaN"),
    ("inf", lambda: _with(np.inf), ValueError, "infinity"),
    ("too large for float32", lambda: _with(1e300), ValueError, "too large for float32"),
    ("empty", lambda: np.empty((0, 4)), ValueError, "0 sample"),
    ("no features", lambda: np.empty((30, 0)), ValueError, "0 feature"),
    ("one sample", lambda: _X(1), ValueError, "1 sample"),
    ("fewer samples than anchors", lambda: _X(2), ValueError, "n_anchors=3"),
    ("1-d", lambda: _X()[:, 0], ValueError, "Expected 2D array"),
    ("strings", lambda: np.array([["a", "b"]] * 10), ValueError, "could not convert"),
    ("string column", lambda: pd.DataFrame({"a": _X()[:, 0], "b": ["x"] * 30}), ValueError,
     "could not convert"),
    ("complex", lambda: _X() + 1j, ValueError, "Complex data not supported"),
    ("sparse", lambda: sp.csr_matrix(_X()), TypeError, "dense data is required"),
    ("scalar", lambda: 3.0, ValueError, "Expected 2D array"),
]


@pytest.mark.parametrize(
    "which, name, X_fn, error, match",
    [(w, *case) for w in sorted(FACTORIES) for case in BAD_FIT_INPUTS
     if case[0] != "fewer samples than anchors" or _has_param(w, "n_anchors")],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_bad_fit_input(which, name, X_fn, error, match):
    est = FACTORIES[which]()
    with pytest.raises(error, match=match):
        est.fit(X_fn())
    assert not hasattr(est, "net_")


BAD_PARAMS = [
    dict(n_anchors=0), dict(n_anchors=-1), dict(n_anchors=1.5), dict(n_anchors="ten"),
    dict(latent_dim=0), dict(max_epochs=0), dict(batch_size=0), dict(lr=0.0), dict(lr=-1e-3),
    dict(beta=-1.0), dict(margin=-0.5), dict(metric_weight="a"), dict(n_neighbors=-1),
    dict(warmup_epochs="never"), dict(encoder="transformer9000"), dict(encoder=3),
    dict(reconstruction="poisson"), dict(hidden_dims=3), dict(callbacks="progress"),
    dict(random_state="zero"), dict(optimizer="adam"), dict(representation="pixels"),
]


@pytest.mark.parametrize(
    "which, params",
    [(w, p) for w in sorted(FACTORIES) for p in BAD_PARAMS if _has_param(w, next(iter(p)))],
    ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={x!r}" for k, x in v.items()),
)
def test_invalid_hyper_parameter(which, params):
    est = FACTORIES[which](**params)
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        est.fit(_X())


@pytest.mark.parametrize(
    "params, match",
    [(dict(hidden_dims=(8, -2)), "hidden_dims"), (dict(device="quantum"), "device")],
)
def test_invalid_values_caught_before_training(make, params, match):
    with pytest.raises(ValueError, match=match):
        make(**params).fit(_X())


def test_warmup_must_leave_epochs_for_the_anchors():
    with pytest.raises(ValueError, match="warmup_epochs"):
        FACTORIES["clusterer"](warmup_epochs=2).fit(_X())


def _supervised(**kw):
    return LabelDisentangledVAE(**{"relevant_dim": 2, "irrelevant_dim": 2, "hidden_dims": (8,),
                                   "max_epochs": 2, "random_state": 0, **kw})


@pytest.mark.parametrize(
    "y, error, match",
    [
        (np.zeros(30), ValueError, "1 class"),
        (np.r_[np.zeros(15), np.full(15, np.nan)], ValueError, "NaN"),
        (np.arange(29) % 2, ValueError, "inconsistent numbers of samples"),
        (np.linspace(0, 1, 30), ValueError, "Unknown label type"),
        (None, ValueError, "requires y"),
    ],
)
def test_bad_labels_for_the_supervised_estimator(y, error, match):
    est = _supervised()
    with pytest.raises(error, match=match):
        est.fit(_X(), y)
    assert not hasattr(est, "net_")


def test_supervised_estimator_does_not_mutate_labels():
    y = np.array(["a", "b"] * 15, dtype=object)
    before = y.copy()
    _supervised().fit(_X(), y)
    np.testing.assert_array_equal(y, before)


def test_unfitted_estimator_says_so(make):
    est = make()
    methods = [m for m in ("predict", "transform", "score") if hasattr(est, m)]
    assert "transform" in methods or "predict" in methods
    for method in methods:
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(est, method)(_X())


def test_wrong_features_at_predict(make):
    est = make().fit(_X())
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 4"):
        est.transform(_X(d=5))
    with pytest.raises(ValueError, match="shape"):
        est.transform(np.random.rand(5, 4, 2))
    with pytest.raises(ValueError, match="NaN"):
        est.transform(_with(np.nan))


def test_other_array_types_work(make):
    X = _X()
    ref = make().fit(X).transform(X)
    for other in (X.tolist(), torch.tensor(X), pd.DataFrame(X), X.astype(np.float32),
                  (X * 100).astype(np.int64) / 100):
        out = make().fit(other).transform(other)
        assert out.shape == ref.shape and np.isfinite(out).all()


def test_fit_never_mutates_its_input(make):
    X = _X()
    X.setflags(write=False)
    df = pd.DataFrame(_X())
    before, df_before = X.copy(), df.copy()
    make().fit(X)
    make().fit(df)
    np.testing.assert_array_equal(X, before)
    pd.testing.assert_frame_equal(df, df_before)


finite_or_not = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 1e39, 0.0]),
)


def _is_documented(exc):
    """Whether ``exc`` is one of the errors of BAD_FIT_INPUTS, by type and message."""
    return any(isinstance(exc, error) and re.search(match, str(exc))
               for _, _, error, match in BAD_FIT_INPUTS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=12),
        elements=finite_or_not,
    ),
    dtype=st.sampled_from([np.float64, np.float32, np.int64]),
    which=st.sampled_from(sorted(FACTORIES)),
)
def test_random_arrays_work_or_raise_a_documented_error(X, dtype, which):
    if dtype is np.int64:
        X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
    X = X.astype(dtype)
    est = FACTORIES[which](max_epochs=1)
    try:
        est.fit(X)
    except Exception as exc:
        assert _is_documented(exc), f"undocumented {type(exc).__name__}: {exc}"
        assert not hasattr(est, "net_")
        return
    out = est.transform(X)
    assert out.shape[0] == len(X)
    assert np.isfinite(out).all(), "a fitted model must never return NaN silently"


@pytest.mark.parametrize("which", sorted(FACTORIES))
@pytest.mark.parametrize("shape", [(7, 0, 11), (7, 11, 0)])
def test_samples_of_zero_size_raise_the_no_features_error(which, shape):
    est = FACTORIES[which](max_epochs=1)
    with pytest.raises(ValueError, match="0 feature"):
        est.fit(np.full(shape, 0.5))
    assert not hasattr(est, "net_")
