"""View generators: shapes, randomness from torch's seed, what each part does."""

import numpy as np
import pytest
import torch

from sknebula._kinds import SampleKind
from sknebula.augment import (
    ImageAugment,
    TokenAugment,
    TwoViews,
    VectorAugment,
    make_augmentation,
)


def test_vector_augment_changes_rows_and_keeps_shape():
    torch.manual_seed(0)
    x = torch.rand(32, 10)
    before = x.clone()
    out = VectorAugment()(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not torch.allclose(out, x)
    assert torch.equal(x, before)  # the input is not modified in place


def test_vector_augment_parts():
    torch.manual_seed(0)
    x = torch.rand(200, 50) + 1.0  # no zeros in the input
    masked = VectorAugment(noise=0.0, mask=0.3, mix=0.0)(x)
    frac = (masked == 0).float().mean().item()
    assert frac == pytest.approx(0.3, abs=0.02)
    assert torch.equal(masked[masked != 0], x[masked != 0])
    mixed = VectorAugment(noise=0.0, mask=0.0, mix=0.5)(x)
    # Convex mixing stays within the range of the data.
    assert mixed.min() >= x.min() and mixed.max() <= x.max()
    assert not torch.allclose(mixed, x)
    noisy = VectorAugment(noise=1.0, mask=0.0, mix=0.0)(x)
    residual = (noisy - x) / x.std(0, keepdim=True)
    # Per-row level ~ U(0, 1): overall residual std = sqrt(1/3).
    assert residual.std().item() == pytest.approx(3 ** -0.5, rel=0.1)
    row_std = residual.std(1)
    assert row_std.min() < 0.2 and row_std.max() > 0.8


def test_views_are_reproducible_from_torch_seed():
    x = torch.rand(16, 6)
    aug = VectorAugment()
    torch.manual_seed(5)
    a = aug(x)
    torch.manual_seed(5)
    b = aug(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, aug(x))


@pytest.mark.parametrize("shape", [(8, 12, 12), (8, 3, 12, 12)])
def test_image_augment_shapes(shape):
    torch.manual_seed(0)
    x = torch.rand(*shape)
    out = ImageAugment()(x)
    assert out.shape == x.shape
    assert not torch.allclose(out, x)


def test_image_augment_flip_mirrors_the_image():
    # The same random crop, rotation and shift with and without the flip:
    # the flipped views are the unflipped ones mirrored left to right.
    x = torch.rand(8, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    views = {}
    for flip in (0.0, 1.0):
        torch.manual_seed(0)
        views[flip] = ImageAugment(flip=flip, noise=0.0)(x)
    assert not torch.allclose(views[0.0], views[0.0].flip(-1), atol=1e-3)
    torch.testing.assert_close(views[1.0], views[0.0].flip(-1), atol=1e-5, rtol=0)
    # Each image flips with probability ``flip``.
    torch.manual_seed(0)
    half = ImageAugment(flip=0.5, noise=0.0)(x)
    mirrored = [torch.allclose(h, v.flip(-1), atol=1e-5) for h, v in zip(half, views[0.0])]
    kept = [torch.allclose(h, v, atol=1e-5) for h, v in zip(half, views[0.0])]
    assert all(m != k for m, k in zip(mirrored, kept))
    assert 0 < sum(mirrored) < len(x)


def test_image_augment_rejects_vectors():
    with pytest.raises(ValueError, match="ImageAugment"):
        ImageAugment()(torch.rand(4, 10))


def test_make_augmentation_by_data_kind():
    def auto(shape, encoder="mlp", **kw):
        return make_augmentation("auto", SampleKind.of(shape, encoder), **kw)

    assert isinstance(auto((10,)), VectorAugment)
    assert isinstance(auto((8, 8)), ImageAugment)
    assert isinstance(auto((3, 8, 8)), ImageAugment)
    # Series and volumes are no images, whatever their number of axes.
    assert isinstance(auto((3, 40)), VectorAugment)
    assert isinstance(auto((16, 16, 16)), VectorAugment)
    assert isinstance(make_augmentation("vector", SampleKind.of((8, 8))), VectorAugment)
    fn = lambda x: x  # noqa: E731
    assert make_augmentation(fn, SampleKind.of((10,))) is fn
    with pytest.raises(ValueError, match="augmentation='image'"):
        make_augmentation("image", SampleKind.of((10,)))
    # The encoder's kind wins over the shape under "auto" only.
    assert isinstance(auto((12, 12), "sequence"), VectorAugment)
    assert isinstance(auto((20,), "tokens", vocab_size=5), TokenAugment)
    forced = make_augmentation("image", SampleKind.of((8, 8), "sequence"))
    assert isinstance(forced, ImageAugment)
    with pytest.raises(ValueError, match="vocabulary size"):
        make_augmentation("tokens", SampleKind.of((20,)))


def test_declared_images_get_image_views_on_their_flat_rows():
    views = make_augmentation("auto", SampleKind.of((64,), sample_shape=(8, 8)))
    assert isinstance(views, ImageAugment) and views.image_shape == (8, 8)
    assert views(torch.rand(5, 64)).shape == (5, 64)


def test_token_augment_keeps_valid_token_ids():
    torch.manual_seed(0)
    x = torch.randint(0, 7, (200, 30)).float()
    out = TokenAugment(vocab_size=7, replace=0.3)(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(out, out.round()) and out.min() >= 0 and out.max() < 7
    changed = (out != x).float().mean().item()
    # Replaced by a uniform token: 1/7 of replacements draw the same id back.
    assert changed == pytest.approx(0.3 * 6 / 7, abs=0.02)
    assert torch.equal(TokenAugment(vocab_size=7, replace=0.0)(x), x)


def test_two_views_dataset():
    X = np.random.RandomState(0).rand(10, 4).astype(np.float32)
    data = TwoViews(X, VectorAugment())
    torch.manual_seed(0)
    inputs, y = data[np.array([1, 3, 5])]
    assert inputs["x1"].shape == (3, 4) and inputs["x2"].shape == (3, 4)
    assert not torch.equal(inputs["x1"], inputs["x2"])
    assert y.shape == (3,)
    # A lone row gets a companion (batch norm cannot train on one sample).
    inputs, _ = data[np.array([2])]
    assert inputs["x1"].shape == (2, 4)


def test_two_views_with_neighbours_and_numpy_callable():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    neighbours = np.array([[1], [0], [3], [2], [5], [4]])
    data = TwoViews(X, lambda x: x.numpy() * 1.0, neighbours)
    inputs, _ = data[np.array([0, 2])]
    np.testing.assert_array_equal(inputs["x1"].numpy(), X[[0, 2]])
    np.testing.assert_array_equal(inputs["x2"].numpy(), X[[1, 3]])


def test_two_views_rejects_shape_changing_callable():
    data = TwoViews(np.zeros((4, 3), dtype=np.float32), lambda x: x[:, :2])
    with pytest.raises(ValueError, match="changed the batch shape"):
        data[np.array([0, 1])]
