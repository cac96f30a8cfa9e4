"""One place decides what kind a sample is, from its shape (declared for
flat rows with ``sample_shape``) and the encoder; everything else asks it."""

import warnings

import numpy as np
import pytest
from scipy.ndimage import zoom
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)
from sknebula._data import neighbour_table
from sknebula._kinds import SampleKind, read_kind
from sknebula.augment import ImageAugment, VectorAugment
from sknebula.nn.image import image_descriptor
from sknebula.plotting import ReconstructionDisplay

TINY = dict(latent_dim=2, hidden_dims=(16,), max_epochs=2, batch_size=32, random_state=0)
ESTIMATORS = [
    NebulaVariationalClusterer, NebulaAutoencoder, LabelDisentangledVAE,
    VariationalSimSiam, VariationalJointEmbedding,
]


def _mnist_like(n=120):
    """The 8x8 digits grown to 28x28, in [0, 1]: flat rows of 784 pixels
    as ``fetch_openml("mnist_784")`` gives them, and their images."""
    digits = load_digits()
    images = np.clip(zoom(digits.images[:n] / 16.0, (1, 3.5, 3.5), order=1), 0, 1)
    return images.reshape(n, -1), images, digits.target[:n]


def _to_images(X):
    return np.asarray(X).reshape(-1, 1, 28, 28)


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
    assert "encoder='sequence'" in hint and "sample_shape=(1, 14, 60)" in hint


def test_volumes_on_the_mlp_are_no_images_of_many_channels():
    X = np.random.RandomState(0).rand(40, 16, 16, 16).astype(np.float32)
    est = NebulaVariationalClusterer(2, n_neighbors=5)
    np.testing.assert_array_equal(est._neighbours(X), neighbour_table(X, 5))
    (hint,) = _hints(NebulaVariationalClusterer(2, **TINY), X)
    assert "encoder='conv3d'" in hint


# Images passed as flat rows.


def test_declared_flat_images_draw_the_partners_of_the_images():
    flat, images, _ = _mnist_like()
    declared = NebulaVariationalClusterer(10, sample_shape=(28, 28), n_neighbors=6)
    shaped = NebulaVariationalClusterer(10, n_neighbors=6)
    table = declared._neighbours(flat.astype(np.float32))
    np.testing.assert_array_equal(table, shaped._neighbours(images.astype(np.float32)))
    np.testing.assert_array_equal(table, neighbour_table(images, 6, features=image_descriptor))
    pixels = NebulaVariationalClusterer(10, n_neighbors=6)._neighbours(flat.astype(np.float32))
    assert not np.array_equal(table, pixels)


def test_declared_flat_images_fit_as_the_images_do():
    flat, images, _ = _mnist_like()
    params = dict(TINY, max_epochs=4)
    declared = NebulaVariationalClusterer(3, sample_shape=(28, 28), **params).fit(flat)
    shaped = NebulaVariationalClusterer(3, **params).fit(images)
    np.testing.assert_array_equal(declared.labels_, shaped.labels_)
    np.testing.assert_allclose(declared.transform(flat), shaped.transform(images), rtol=1e-6)
    # The data keeps its own shape: sample_shape only says what it is.
    assert declared.input_shape_ == (784,) and declared.n_features_in_ == 784
    assert declared.sample_shape == (28, 28)
    assert declared.transform(flat).shape == (120, 2)
    assert declared.inverse_transform(declared.transform(flat)).shape == (120, 784)


def test_flat_images_without_a_declared_shape_get_a_hint():
    flat, _, _ = _mnist_like()
    (hint,) = _hints(NebulaVariationalClusterer(3, **TINY), flat)
    assert "sample_shape=(28, 28)" in hint
    assert _hints(NebulaVariationalClusterer(3, sample_shape=(28, 28), **TINY), flat) == []
    # As whole numbers 0..255 of an integer dtype, pixels are no token ids.
    (hint,) = _hints(NebulaVariationalClusterer(3, **TINY), (255 * flat).astype(np.uint8))
    assert "sample_shape=(28, 28)" in hint and "tokens" not in hint
    # Rows of a square length that are no images (noise) get none.
    noise = np.random.RandomState(0).rand(120, 784)
    assert _hints(NebulaVariationalClusterer(3, **TINY), noise) == []


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_estimator_takes_a_declared_shape(Estimator):
    flat, _, y = _mnist_like(60)
    y = y % 2
    params = dict(TINY, n_anchors=2) if "Nebula" in Estimator.__name__ else dict(TINY)
    if Estimator is LabelDisentangledVAE:
        params = dict(TINY, relevant_dim=2, irrelevant_dim=2)
        del params["latent_dim"]
    est = Estimator(sample_shape=(28, 28), **params)
    assert _hints(est, flat, y) == []
    assert est.input_shape_ == (784,) and est.n_features_in_ == 784
    assert len(est.transform(flat)) == 60
    with pytest.raises(ValueError, match="sample_shape"):
        clone(est).set_params(sample_shape=(28, 27)).fit(flat, y)


def test_declared_images_take_image_views_in_the_self_supervised_estimators(monkeypatch):
    from sknebula import embedding

    made = []
    original = embedding.make_augmentation

    def spy(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(embedding, "make_augmentation", spy)
    flat, _, _ = _mnist_like(60)
    VariationalSimSiam(sample_shape=(28, 28), **TINY).fit(flat)
    VariationalSimSiam(**TINY).fit(flat)
    assert isinstance(made[0], ImageAugment) and made[0].image_shape == (28, 28)
    assert isinstance(made[1], VectorAugment)


def test_a_declared_shape_works_in_grid_search_and_pipelines():
    flat, _, _ = _mnist_like(90)
    pipe = make_pipeline(
        MinMaxScaler(), NebulaVariationalClusterer(3, sample_shape=(28, 28), **TINY)
    )
    search = GridSearchCV(pipe, {"nebulavariationalclusterer__n_anchors": [2, 3]}, cv=2)
    search.fit(flat)
    assert search.best_estimator_[-1].sample_shape == (28, 28)
    assert search.best_estimator_.transform(flat).shape == (90, 2)


def test_a_pipeline_reshapes_flat_rows_for_the_convolution():
    flat, _, _ = _mnist_like(60)
    clusterer = NebulaVariationalClusterer(2, encoder="conv2d", **TINY)
    pipe = make_pipeline(FunctionTransformer(_to_images), clusterer)
    assert pipe.fit(flat).transform(flat).shape == (60, 2)
    assert pipe[-1].input_shape_ == (1, 28, 28)


def test_declared_images_are_drawn_in_their_shape():
    import matplotlib

    matplotlib.use("Agg")
    flat, _, _ = _mnist_like(60)
    wide = flat.reshape(60, 28, 28)[:, :, :21].reshape(60, -1)  # 28x21, no square
    ae = NebulaAutoencoder(2, sample_shape=(1, 28, 21), **TINY).fit(wide)
    display = ReconstructionDisplay.from_estimator(ae, wide, n_images=3)
    assert display.originals.shape == (3, 28, 21)
