"""Display objects draw what they claim (matplotlib's Agg backend, no window)."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.metrics import pairwise_distances_argmin  # noqa: E402

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer  # noqa: E402
from sknebula.plotting import (  # noqa: E402
    LatentSpaceDisplay,
    ReconstructionDisplay,
    TrainingHistoryDisplay,
    plot_history,
)

TINY = dict(hidden_dims=(32,), max_epochs=4, batch_size=64, random_state=0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def clusterer():
    X, y = make_blobs(n_samples=90, centers=3, n_features=5, random_state=0)
    return NebulaVariationalClusterer(n_anchors=3, latent_dim=4, **TINY).fit(X), X, y


@pytest.fixture(scope="module")
def digits_ae(digits):
    X = digits[0][:120]
    return NebulaAutoencoder(n_anchors=4, latent_dim=6, **TINY).fit(X), X


def test_latent_space_points_anchors_and_cluster_colours(clusterer):
    est, X, _ = clusterer
    disp = LatentSpaceDisplay.from_estimator(est, X)
    ax = disp.ax_
    assert disp.figure_ is ax.figure
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2
    assert disp.scatter_.get_offsets().shape == (len(X), 2)
    assert disp.anchors_.get_offsets().shape == (3, 2)
    # Colours are the clusters found by the estimator.
    np.testing.assert_array_equal(disp.scatter_.get_array(), est.predict(X))
    # The anchors go through the samples' PCA: each anchor sits near the
    # centre of its own cluster's projected points.
    pts, anchors = disp.scatter_.get_offsets(), disp.anchors_.get_offsets()
    labels = est.predict(X)
    for k in np.unique(labels):
        owner = est.anchor_labels_ == k
        centre = pts[labels == k].mean(0)
        spread = np.ptp(pts, axis=0).max()
        assert np.min(np.linalg.norm(anchors[owner] - centre, axis=1)) < 0.5 * spread
    assert "%" in ax.get_xlabel() and ax.get_legend() is not None


def test_latent_space_colours_by_y_and_draws_on_given_axes(clusterer):
    est, X, y = clusterer
    fig, ax = plt.subplots()
    disp = LatentSpaceDisplay.from_estimator(est, X, y=y, ax=ax, anchors=None)
    assert disp.ax_ is ax
    assert disp.anchors_ is None
    np.testing.assert_array_equal(disp.scatter_.get_array(), y)


def test_latent_space_rejects_anchors_of_wrong_dimension(clusterer):
    est, X, _ = clusterer
    with pytest.raises(ValueError, match="anchors must have shape"):
        LatentSpaceDisplay.from_estimator(est, X, anchors=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="anchors must be 'auto'"):
        LatentSpaceDisplay.from_estimator(est, X, anchors="nearest")


def test_latent_space_autoencoder_colours_by_nearest_anchor(digits_ae):
    ae, X = digits_ae
    disp = LatentSpaceDisplay.from_estimator(ae, X)
    colours = disp.scatter_.get_array()
    nearest = pairwise_distances_argmin(ae.transform(X), ae.anchors_)
    assert len(np.unique(nearest)) > 1
    np.testing.assert_array_equal(colours, nearest)


def test_latent_space_constructor_two_dimensional_points():
    rng = np.random.default_rng(0)
    disp = LatentSpaceDisplay(rng.normal(size=(10, 2)), labels=np.arange(10) % 2).plot()
    assert disp.anchors_ is None and disp.ax_.get_xlabel() == "latent component 1"


def test_history_plots_loss_and_every_term(clusterer):
    est = clusterer[0]
    disp = plot_history(est)
    assert isinstance(disp, TrainingHistoryDisplay)
    assert "train_loss" in disp.lines_
    # The objective's terms are recorded per epoch and plotted too.
    assert len(disp.lines_) > 1
    assert not any("batch" in name for name in disp.lines_)
    assert len(disp.ax_.get_lines()) == len(disp.lines_)
    loss = disp.lines_["train_loss"]
    np.testing.assert_array_equal(loss.get_xdata(), np.arange(1, est.max_epochs + 1))
    np.testing.assert_allclose(loss.get_ydata(), est.history_[:, "train_loss"])
    assert disp.ax_.get_xlabel() == "epoch"


def test_history_selected_keys_and_unknown_key(clusterer):
    est = clusterer[0]
    disp = TrainingHistoryDisplay.from_estimator(est, keys=["train_loss"], logy=True)
    assert list(disp.lines_) == ["train_loss"]
    assert disp.ax_.get_yscale() == "log"
    with pytest.raises(ValueError, match="no entries"):
        TrainingHistoryDisplay.from_estimator(est, keys=["nope"])


def test_reconstruction_grid_images(digits_ae):
    ae, X = digits_ae
    disp = ReconstructionDisplay.from_estimator(ae, X, n_images=6)
    assert disp.axes_.shape == (2, 6)
    assert all(isinstance(im, AxesImage) for im in disp.images_.ravel())
    top = disp.images_[0, 0].get_array()
    bottom = disp.images_[1, 0].get_array()
    assert top.shape == bottom.shape == (8, 8)
    np.testing.assert_allclose(top, X[0].reshape(8, 8))
    expected = ae.inverse_transform(ae.transform(X[:1]))[0].reshape(8, 8)
    np.testing.assert_allclose(bottom, expected)
    assert len(disp.figure_.axes) == 12


def test_reconstruction_random_subset_and_explicit_shape(digits_ae):
    ae, X = digits_ae
    disp = ReconstructionDisplay.from_estimator(
        ae, X, n_images=3, image_shape=(8, 8), random_state=0
    )
    originals = [im.get_array() for im in disp.images_[0]]
    rows = [int(np.argmin(((X - o.reshape(1, -1)) ** 2).sum(1))) for o in originals]
    assert len(set(rows)) == 3 and rows != [0, 1, 2]


def test_reconstruction_channels_first_images():
    rng = np.random.default_rng(0)
    originals = rng.random((4, 1, 5, 6))
    from sknebula.plotting import _as_images

    disp = ReconstructionDisplay(
        _as_images(originals, (1, 5, 6)), _as_images(originals, (1, 5, 6))
    ).plot()
    assert disp.images_[0, 0].get_array().shape == (5, 6)


def test_reconstruction_needs_an_image_shape(clusterer):
    est, X, _ = clusterer  # 5 features: not a square image
    with pytest.raises(ValueError, match="image_shape"):
        ReconstructionDisplay.from_estimator(est, X)
