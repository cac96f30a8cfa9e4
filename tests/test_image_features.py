"""Partners for images: pooled edge orientations, not pixels."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from sknebula import NebulaVariationalClusterer
from sknebula._data import neighbour_table
from sknebula._kinds import SampleKind
from sknebula.nn import image
from sknebula.nn.image import MIN_SIDE, image_descriptor, image_features


def _bars(n=120, side=28, seed=0):
    """Short bars, vertical or horizontal (the label), each anywhere in the
    image: two bars of one kind rarely share a pixel."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    X = np.zeros((n, side, side), dtype=np.float32)
    for i, vertical in enumerate(y):
        r, c = rng.randint(2, side - 9, size=2)
        if vertical:
            X[i, r : r + 7, c : c + 2] = 1.0
        else:
            X[i, r : r + 2, c : c + 7] = 1.0
    return X, y


def _purity(features, y, k=5):
    idx = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(
        features, return_distance=False
    )
    return float((y[idx[:, 1:]] == y[:, None]).mean())


def test_edge_orientations_find_partners_that_pixels_miss():
    X, y = _bars()
    pixels = _purity(X.reshape(len(X), -1), y)
    edges = _purity(image_descriptor(X), y)
    assert edges > 0.95
    assert edges > pixels + 0.2


def test_rows_have_unit_length_and_blank_images_stay_zero():
    X, _ = _bars(10)
    X[0] = 0.0
    F = image_descriptor(X)
    assert F.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(F[1:], axis=1), 1.0, rtol=1e-5)
    assert not F[0].any()


def test_contrast_does_not_change_the_descriptor():
    X, _ = _bars(6)
    np.testing.assert_allclose(image_descriptor(3 * X), image_descriptor(X), atol=1e-6)


def test_channels_are_described_each_and_blocks_do_not_matter(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.rand(7, 3, 16, 16).astype(np.float32)
    whole = image_descriptor(X)
    monkeypatch.setattr(image, "CHUNK", 3)
    np.testing.assert_allclose(image_descriptor(X), whole, rtol=1e-5, atol=1e-7)
    assert whole.shape[1] == 3 * image_descriptor(X[:, 0]).shape[1]


def test_small_images_keep_their_pixels():
    X = np.random.RandomState(0).rand(5, MIN_SIDE - 1, MIN_SIDE + 3)
    np.testing.assert_array_equal(image_features(X), X.reshape(5, -1))
    big = np.random.RandomState(0).rand(5, MIN_SIDE, MIN_SIDE)
    np.testing.assert_allclose(image_features(big), image_descriptor(big))


def test_descriptor_refuses_what_is_not_an_image():
    with pytest.raises(ValueError, match=r"\(n_samples, H, W\)"):
        image_descriptor(np.zeros((4, 16)))


def test_sample_shape_picks_the_partner_features():
    X, _ = _bars(8)
    features = SampleKind.of(X.shape[1:]).partner_features
    np.testing.assert_allclose(features(X), image_descriptor(X))
    flat = X.reshape(len(X), -1)
    assert SampleKind.of(flat.shape[1:]).partner_features is None  # the flat rows
    declared = SampleKind.of(flat.shape[1:], sample_shape=X.shape[1:]).partner_features
    np.testing.assert_array_equal(declared(flat), features(X))


@pytest.mark.parametrize("shape, encoder", [((28, 28), "mlp"), ((1, 28, 28), "conv2d")])
def test_the_clusterer_draws_image_partners_by_default(shape, encoder):
    X, _ = _bars(40)
    X = X.reshape(len(X), *shape)
    est = NebulaVariationalClusterer(2, encoder=encoder)
    expected = neighbour_table(X, 6, features=image_descriptor)
    np.testing.assert_array_equal(est.set_params(n_neighbors=6)._neighbours(X), expected)
    # Flat rows, or metric="euclidean", stay with the pixels.
    pixels = neighbour_table(X, 6)
    flat = X.reshape(len(X), -1)
    np.testing.assert_array_equal(est.set_params(encoder="mlp")._neighbours(flat), pixels)
    est.set_params(encoder=encoder, metric="euclidean")
    np.testing.assert_array_equal(est._neighbours(X), pixels)
