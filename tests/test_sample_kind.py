"""One place decides what kind a sample is, from its shape (a declared
layout, where given) and the encoder; everything else asks it."""

import warnings

import numpy as np
import pytest

from sknebula import NebulaVariationalClusterer
from sknebula._data import neighbour_table
from sknebula._kinds import SampleKind, read_kind

TINY = dict(latent_dim=2, hidden_dims=(16,), max_epochs=2, batch_size=32, random_state=0)


def _hints(est, X, y=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X) if y is None else est.fit(X, y)
    messages = [str(w.message) for w in caught]
    return [m for m in messages if "encoder" in m or "sample_shape" in m]


@pytest.mark.parametrize(
    "layout, kind",
    [
        ((64,), "vector"),
        ((28, 28), "image"),  # MNIST as (n, 28, 28): images
        ((8, 8), "image"),  # the digits as (n, 8, 8)
        ((62, 47), "image"),  # LFW's faces, 4:3 frames
        ((14, 60), "series"),  # 14 channels, 60 steps: no image
        ((28, 50), "series"),  # FingerMovements: 28 channels of 50 steps
        ((3, 16), "series"),
        ((1, 28, 50), "image"),  # a channel axis declares an image of any aspect
        ((1, 28, 28), "image"),
        ((3, 32, 32), "image"),
        ((4, 16, 16), "image"),
        ((16, 16, 16), "volume"),  # no longer images of 16 channels
        ((2, 8, 8), "volume"),
        ((2, 16, 16, 16), "volume"),
        ((100, 3), "points"),
        ((50, 2), "points"),
        ((2, 3, 4, 5, 6), "vector"),
    ],
)
def test_the_mlp_reads_the_kind_from_the_shape(layout, kind):
    assert read_kind(layout) == kind
    assert SampleKind.of(layout).name == kind
    assert SampleKind.of((int(np.prod(layout)),), sample_shape=layout).name == kind


@pytest.mark.parametrize(
    "encoder, shape, kind",
    [
        ("conv2d", (28, 50), "image"),
        ("sequence", (28, 28), "series"),
        ("tokens", (30,), "tokens"),
        ("pointcloud", (128, 3), "points"),
        ("conv3d", (3, 16, 16), "volume"),
    ],
)
def test_the_other_encoders_read_their_own_kind(encoder, shape, kind):
    assert SampleKind.of(shape, encoder).name == kind


def test_what_follows_from_the_kind():
    image = SampleKind.of((28, 28))
    assert image.views == "image" and image.partner_views is None  # the MLP takes no partner views
    assert SampleKind.of((1, 28, 28), "conv2d").partner_views == "image"
    assert SampleKind.of((30,), "tokens").views == "tokens"
    for shape in [(64,), (3, 40), (16, 16, 16), (100, 3)]:
        kind = SampleKind.of(shape)
        assert kind.views == "vector" and kind.partner_features is None
    assert image.plot_shape == (28, 28)
    assert SampleKind.of((784,)).plot_shape == (28, 28)  # flat rows are drawn square
    assert SampleKind.of((784,), sample_shape=(1, 28, 28)).plot_shape == (1, 28, 28)
    assert SampleKind.of((3, 40)).plot_shape is None


def test_a_declared_shape_must_fit_the_samples():
    with pytest.raises(ValueError, match="holds 756 values"):
        SampleKind.of((784,), sample_shape=(28, 27))
    with pytest.raises(ValueError, match="positive ints"):
        SampleKind.of((784,), sample_shape=(28, -28))
    with pytest.raises(ValueError, match=r"X.reshape\(-1, 1, 28, 28\)"):
        SampleKind.of((784,), "conv2d", sample_shape=(1, 28, 28))
    assert SampleKind.of((1, 28, 28), "conv2d", sample_shape=(1, 28, 28)).name == "image"


# Two bugs of the several rules there were: multichannel series and volumes
# on the MLP were read as images (edge-orientation partners, no hint).


def test_multichannel_series_on_the_mlp_are_no_images():
    X = np.random.RandomState(0).normal(size=(40, 14, 60)).astype(np.float32)
    est = NebulaVariationalClusterer(2, n_neighbors=5)
    np.testing.assert_array_equal(est._neighbours(X), neighbour_table(X, 5))
    (hint,) = _hints(NebulaVariationalClusterer(2, **TINY), X)
    assert "encoder='sequence'" in hint


def test_volumes_on_the_mlp_are_no_images_of_many_channels():
    X = np.random.RandomState(0).rand(40, 16, 16, 16).astype(np.float32)
    est = NebulaVariationalClusterer(2, n_neighbors=5)
    np.testing.assert_array_equal(est._neighbours(X), neighbour_table(X, 5))
    (hint,) = _hints(NebulaVariationalClusterer(2, **TINY), X)
    assert "encoder='conv3d'" in hint
