"""Images whose objects sit anywhere in the frame are centred on their
centre of mass before anything reads them; other data never is."""

import numpy as np
import pytest

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula.nn.centring import CENTRE_SPREAD, centre_spread, centred, mass_centres


def _shapes(n=60, side=20, spread=0, seed=0, ground=0.0, ink=1.0):
    """Three classes of small shapes (bar, cross, square), placed within
    ``spread`` pixels of the centre."""
    rng = np.random.RandomState(seed)
    X = np.full((n, side, side), ground)
    y = np.arange(n) % 3
    for i, label in enumerate(y):
        r, c = side // 2 - 3 + rng.randint(-spread, spread + 1, 2)
        if label == 0:
            X[i, r:r + 6, c + 2:c + 4] = ink
        elif label == 1:
            X[i, r + 2:r + 4, c:c + 6] = ink
            X[i, r:r + 6, c + 2:c + 4] = ink
        else:
            X[i, r:r + 5, c:c + 5] = ink
    return X, y


def test_centring_puts_the_mass_at_the_centre_whatever_the_contrast():
    for ground, ink in [(0.0, 1.0), (1.0, 0.0)]:  # light strokes, then dark ones
        X, _ = _shapes(spread=5, ground=ground, ink=ink)
        before = X.copy()
        out = centred(X)
        np.testing.assert_array_equal(X, before)  # nothing passed is mutated
        assert out.shape == X.shape and out.dtype == X.dtype
        assert np.abs(mass_centres(out) - 9.5).max() <= 0.5
        assert centre_spread(X) > CENTRE_SPREAD > centre_spread(out)
        # A shift fills with the background, so each image keeps its ink.
        np.testing.assert_allclose(np.sort(out.reshape(len(X), -1)), np.sort(before.reshape(len(X), -1)))


def test_channels_and_blank_images():
    X = np.zeros((2, 3, 10, 10))
    X[0, :, 0:2, 0:2] = 1.0
    out = centred(X)
    assert np.abs(mass_centres(out)[0] - 4.5).max() <= 0.5
    np.testing.assert_array_equal(out[1], 0.0)  # no mass: left where it is
    np.testing.assert_array_equal(mass_centres(X[1:]), [[4.5, 4.5]])


@pytest.mark.parametrize("spread, expected", [(6, True), (0, False)])
def test_the_collection_decides(spread, expected):
    X, _ = _shapes(spread=spread)
    est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(16,), max_epochs=2,
                                     random_state=0).fit(X)
    assert est.images_centred_ is expected


def test_vectors_and_series_are_never_centred():
    rng = np.random.RandomState(0)
    for X in (rng.rand(40, 6), rng.rand(40, 3, 40)):
        est = NebulaAutoencoder(n_anchors=2, hidden_dims=(8,), max_epochs=1,
                                random_state=0).fit(X)
        assert est.images_centred_ is False


def test_a_shifted_image_gets_the_latent_of_the_original():
    """Centred before the network reads it, an image moved within the
    frame is the same input: the same latent, the same cluster."""
    X, y = _shapes(spread=5)
    est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(16,), max_epochs=3,
                                     random_state=0).fit(X)
    assert est.images_centred_
    moved = np.roll(X, (1, -1), axis=(1, 2))  # no shape reaches the border
    np.testing.assert_allclose(est.transform(moved), est.transform(X), atol=1e-12)
    np.testing.assert_array_equal(est.predict(moved), est.predict(X))
    # Flat rows with a declared shape are centred alike.
    flat = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(16,), max_epochs=3,
                                      random_state=0, sample_shape=(20, 20))
    flat.fit(X.reshape(len(X), -1))
    assert flat.images_centred_
    np.testing.assert_allclose(flat.transform(moved.reshape(len(X), -1)),
                               flat.transform(X.reshape(len(X), -1)), atol=1e-12)


def test_onnx_export_refuses_a_model_that_centres():
    pytest.importorskip("onnx")
    from sknebula.io import to_onnx

    X, _ = _shapes(spread=5)
    est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(8,), max_epochs=1,
                                     random_state=0).fit(X)
    with pytest.raises(ValueError, match="centres every image"):
        to_onnx(est, X[:2])
