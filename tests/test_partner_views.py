"""Partner views: each drawn partner passes through an augmentation
(``views``), drawn from the fit's own generator; the sample, its target and
the partner table stay as they are."""

import numpy as np
import pytest
import torch

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula._data import NeighbourPairs
from sknebula._nvc import partner_image_views
from sknebula.augment import ImageAugment, draw_views

QUICK = dict(max_epochs=4, hidden_dims=(16,), random_state=0)


def _images(n=60, side=8, seed=0):
    rng = np.random.RandomState(seed)
    X = np.zeros((n, side, side))
    for i in range(n):  # three kinds of bar, anywhere
        kind, pos = i % 3, rng.randint(1, side - 1)
        if kind == 0:
            X[i, pos, :] = 1
        elif kind == 1:
            X[i, :, pos] = 1
        else:
            np.fill_diagonal(X[i], 1)
    return X + 0.05 * rng.rand(n, side, side)


def test_views_transform_the_partner_only():
    X = np.arange(24, dtype=np.float32).reshape(6, 4)
    neighbours = np.array([[1], [0], [3], [2], [5], [4]])
    shifted = NeighbourPairs(X, X, neighbours, views=lambda batch: batch + 1000)
    inputs, target = shifted[np.arange(6)]
    np.testing.assert_array_equal(inputs["x"], X)
    np.testing.assert_array_equal(target, X)
    np.testing.assert_array_equal(inputs["partner"], X[neighbours[:, 0]] + 1000)


def test_views_draw_from_the_dataset_generator():
    X = np.random.RandomState(0).rand(8, 36).astype(np.float32)
    neighbours = np.roll(np.arange(8), 1)[:, None]
    pairs = NeighbourPairs(X, X, neighbours, views=ImageAugment(image_shape=(6, 6), noise=0.1))
    drawn = []
    for _ in range(2):
        pairs.generator = torch.Generator().manual_seed(3)
        drawn.append(pairs[np.arange(8)][0]["partner"])
    np.testing.assert_array_equal(drawn[0], drawn[1])
    assert not np.allclose(drawn[0], X[neighbours[:, 0]])


def test_flattened_images_are_warped_as_images():
    flat = torch.zeros(2, 64)
    flat[:, 3 * 8 : 4 * 8] = 1.0  # one horizontal bar in each 8x8 image
    warp = dict(crop_scale=(1.0, 1.0), flip=0.0, rotation=0.0, translation=0.25, noise=0.0)
    moved = ImageAugment(**warp, image_shape=(8, 8))(flat, torch.Generator().manual_seed(0))
    images = ImageAugment(**warp)(flat.reshape(2, 8, 8), torch.Generator().manual_seed(0))
    # The rows are warped as the images they hold, and come back as rows.
    assert moved.shape == (2, 64)
    assert torch.equal(moved, images.reshape(2, 64))
    # A shift moves the bar to other rows, and keeps it a horizontal bar.
    moved = moved.reshape(2, 8, 8)
    assert not torch.allclose(moved, flat.reshape(2, 8, 8), atol=1e-3)
    assert torch.allclose(moved.std(dim=2), torch.zeros(2, 8), atol=0.2)
    with pytest.raises(ValueError, match="image_shape"):
        ImageAugment(image_shape=(8, 8))(torch.zeros(2, 63))


def test_draw_views_calls_plain_callables_and_checks_their_shape():
    x = torch.ones(3, 4)
    assert torch.equal(draw_views(lambda b: b * 2, x), 2 * x)
    assert torch.equal(x, torch.ones(3, 4)), "the batch itself is left alone"
    with pytest.raises(ValueError, match="changed the batch shape"):
        draw_views(lambda b: b[:, :2], x)


@pytest.mark.parametrize("encoder, expected", [("conv2d", ImageAugment), ("mlp", type(None))])
def test_auto_views_follow_the_data_kind(encoder, expected):
    est = NebulaVariationalClusterer(encoder=encoder)
    assert isinstance(est._partner_views((8, 8)), expected)
    assert NebulaVariationalClusterer(encoder=encoder, views=None)._partner_views((8, 8)) is None


def test_auto_image_views_keep_what_a_digit_is():
    views = partner_image_views()
    assert views.flip == 0.0 and views.noise == 0.0
    assert views.rotation > 0 and views.translation > 0


def test_views_change_the_fit_and_are_reproducible():
    X = _images()
    fits = [NebulaVariationalClusterer(n_clusters=3, encoder="conv2d", **QUICK, views=views)
            .fit(X).transform(X) for views in ("auto", "auto", None)]
    np.testing.assert_array_equal(fits[0], fits[1])
    assert not np.allclose(fits[0], fits[2])


def test_flattened_images_take_views_through_the_parameter():
    X = _images().reshape(60, -1)
    views = ImageAugment(image_shape=(8, 8), flip=0.0)
    ae = NebulaAutoencoder(n_anchors=3, views=views, **QUICK).fit(X)
    plain = NebulaAutoencoder(n_anchors=3, views=None, **QUICK).fit(X)
    assert ae.transform(X).shape == (60, 10)
    assert not np.allclose(ae.transform(X), plain.transform(X))
    assert ae.views is views and views.image_shape == (8, 8), "parameters stay as given"


def test_views_are_stored_by_value_in_a_model_file(tmp_path):
    from sknebula import io

    X = _images().reshape(60, -1)
    views = ImageAugment(image_shape=(8, 8), flip=0.0, rotation=5.0)
    est = NebulaVariationalClusterer(n_clusters=3, views=views, **QUICK).fit(X)
    io.dump(est, tmp_path / "m.safetensors")
    restored = io.load(tmp_path / "m.safetensors")
    assert isinstance(restored.views, ImageAugment)
    assert restored.views.get_params() == views.get_params()
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))


def test_a_transformer_finds_the_partners():
    from sklearn.decomposition import PCA

    from sknebula._data import neighbour_table

    X = _images().reshape(60, -1)
    pca = PCA(n_components=3, random_state=0)
    est = NebulaVariationalClusterer(n_clusters=3, metric=pca, n_neighbors=5, **QUICK).fit(X)
    expected = neighbour_table(PCA(n_components=3, random_state=0).fit_transform(X)
                               .astype(np.float32), 5)
    np.testing.assert_array_equal(est._neighbours(X.astype(np.float32)), expected)
    assert not hasattr(pca, "components_"), "the user's transformer is not fitted"
    assert np.isfinite(est.score(X))


def test_one_partner_source_draws_every_estimators_positives():
    """NeighbourPairs (nebula estimators) and TwoViews (self-supervised ones)
    take their positives from one PartnerSource: a row of the sample's
    partner table, or the sample itself, through the views; the same
    generator gives the same draws, and no draw touches the table."""
    import torch

    from sknebula._data import NeighbourPairs
    from sknebula._partners import PartnerSource
    from sknebula.augment import TwoViews

    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    table = np.array([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]])
    saved = table.copy()
    shift = lambda x: x + 100.0  # noqa: E731 (a view with no generator)
    pairs = NeighbourPairs(X, X, table, views=shift)
    views = TwoViews(X, shift, table)
    assert isinstance(pairs.partners, PartnerSource) and isinstance(views.partners, PartnerSource)

    index = np.arange(6)
    drawn = pairs.partners.pick(index, torch.Generator().manual_seed(3)).numpy()
    again = pairs.partners.pick(index, torch.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(drawn, again)
    # Each positive is one of its sample's candidates.
    rows = [{tuple(X[j]) for j in table[i]} for i in index]
    assert all(tuple(r) in rows[i] for i, r in enumerate(drawn))
    # The views apply to the positive (and, for TwoViews, to the sample).
    inputs, _ = pairs[index]
    np.testing.assert_array_equal(inputs["x"].numpy(), X)
    assert (inputs["partner"].numpy() >= 100).all()
    (batch, _) = views[index]
    np.testing.assert_array_equal(batch["x1"].numpy(), X + 100)
    # Without a table the positive is the sample itself.
    np.testing.assert_array_equal(PartnerSource(torch.from_numpy(X)).draw(index).numpy(), X)
    np.testing.assert_array_equal(table, saved)
