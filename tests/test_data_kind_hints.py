"""Data that looks like another kind than the encoder reads gets a hint.

Hints are warnings, not errors: the fit goes on.
"""

import warnings

import numpy as np
import pytest

from sknebula import NebulaVariationalClusterer, VariationalSimSiam
from sknebula.datasets import make_markov_sequences

TINY = dict(latent_dim=2, max_epochs=1, batch_size=32, random_state=0)


def _fit_and_collect(est, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X)
    return [str(w.message) for w in caught if "encoder" in str(w.message)]


@pytest.fixture
def tokens():
    X, _ = make_markov_sequences(40, n_sources=2, length=16, vocab_size=6, random_state=0)
    return X


@pytest.mark.parametrize("encoder", ["sequence", "mlp"])
def test_integer_tokens_on_a_real_valued_encoder_name_the_tokens_encoder(tokens, encoder):
    est = NebulaVariationalClusterer(2, encoder=encoder, **TINY)
    (hint,) = _fit_and_collect(est, tokens)
    assert "encoder='tokens'" in hint and "'vocab_size': 6" in hint
    assert hasattr(est, "anchors_")  # the fit went on


def test_whole_number_floats_hint_for_sequence_but_not_for_pixels(tokens):
    as_floats = tokens.astype(float)
    (hint,) = _fit_and_collect(NebulaVariationalClusterer(2, encoder="sequence", **TINY), as_floats)
    assert "encoder='tokens'" in hint
    # Pixel intensities such as the digits' 0..16 are whole-number floats too.
    assert _fit_and_collect(NebulaVariationalClusterer(2, **TINY), as_floats) == []


def test_real_valued_and_many_valued_data_get_no_hint():
    rng = np.random.RandomState(0)
    assert _fit_and_collect(NebulaVariationalClusterer(2, encoder="sequence", **TINY), rng.normal(size=(40, 16))) == []
    counts = rng.randint(0, 10_000, size=(40, 16))  # too many values for a vocabulary
    assert _fit_and_collect(NebulaVariationalClusterer(2, **TINY), counts) == []


@pytest.mark.parametrize(
    "shape, names",
    [
        ((3, 16), ("encoder='sequence'",)),
        ((20, 6), ("encoder='sequence'",)),
        ((30, 3), ("encoder='pointcloud'",)),
        ((2, 8, 8), ("encoder='conv2d'", "encoder='conv3d'")),
        ((1, 2, 4, 4), ("encoder='conv3d'",)),
    ],
)
def test_structured_samples_on_the_mlp_name_the_encoder_that_keeps_them(shape, names):
    X = np.random.RandomState(0).normal(size=(40, *shape))
    (hint,) = _fit_and_collect(VariationalSimSiam(**TINY), X)
    assert all(name in hint for name in names)
    if len(shape) < 4:
        series = X[:, :, 0]
        assert _fit_and_collect(NebulaVariationalClusterer(2, encoder="sequence", **TINY), series) == []


def test_images_on_the_mlp_get_no_hint():
    # Images large enough for their edge descriptor, (n, H, W) or
    # (n, C, H, W), are read as images: partners by their strokes, the
    # network on the pixels. Smaller ones keep the hint.
    X = np.random.RandomState(0).uniform(size=(40, 16, 16))
    assert _fit_and_collect(NebulaVariationalClusterer(2, **TINY), X) == []
    assert _fit_and_collect(NebulaVariationalClusterer(2, **TINY), X[:, None]) == []
    (hint,) = _fit_and_collect(NebulaVariationalClusterer(2, **TINY), X[:, :13, :])
    assert "encoder='conv2d'" in hint and "encoder='sequence'" in hint
