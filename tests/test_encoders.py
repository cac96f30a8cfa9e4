"""Encoders and decoders for every data kind, alone and inside the estimators."""

import pickle

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from sklearn.base import clone

from sknebula import (
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)
from sknebula._data import neighbour_table
from sknebula._nvc import auto_neighbours
from sknebula.nn import (
    ARCHITECTURES,
    NebulaVAE,
    PointNetEncoder,
    build_encoder_decoder,
    image_features,
    ngram_profile,
    series_descriptor,
    shape_distribution,
    volume_descriptor,
    volume_spectrum,
)
from sknebula.objectives.reconstruction import (
    RECONSTRUCTIONS,
    categorical_nll,
    chamfer_distance,
    chamfer_nll,
    decoder_mean,
    reconstruction_nll,
)

N = 40


def _images(rng, shape=(8, 8)):
    return rng.rand(N, *shape)


def _tokens(rng):
    # Two sources: tokens mostly from {0, 1} or mostly from {3, 4}.
    y = np.arange(N) % 2
    return (rng.randint(0, 3, size=(N, 20)) + 2 * y[:, None]).astype(float)


def _clouds(rng):
    X = rng.standard_normal((N, 32, 3))
    return X / np.linalg.norm(X, axis=2, keepdims=True) * (1 + np.arange(N) % 2)[:, None, None]


# name -> (data kind, encoder, X factory, encoder_params, expected reconstruction)
KINDS = {
    "conv2d (H, W)": ("conv2d", _images, {}, "bernoulli"),
    "conv2d (C, H, W)": ("conv2d", lambda r: _images(r, (2, 9, 11)), {}, "bernoulli"),
    "sequence (L,)": ("sequence", lambda r: r.standard_normal((N, 30)), {}, "gaussian"),
    "sequence (C, L)": ("sequence", lambda r: r.standard_normal((N, 3, 17)), {"pool": "mean"}, "gaussian"),
    "tokens": ("tokens", _tokens, {"vocab_size": 5}, "categorical"),
    "pointcloud": ("pointcloud", _clouds, {}, "chamfer"),
    "pointcloud invariant": ("pointcloud", _clouds, {"rotation_invariant": True}, "chamfer"),
    "conv3d": ("conv3d", lambda r: (r.rand(N, 8, 8, 8) > 0.5).astype(float), {"pool": "max"}, "bernoulli"),
}
IDS = list(KINDS)
TINY = dict(hidden_dims=(8, 16), latent_dim=3, batch_size=16, random_state=0)


@pytest.fixture(params=IDS)
def kind(request):
    encoder, make, params, reconstruction = KINDS[request.param]
    X = make(np.random.RandomState(0))
    return encoder, X, params, reconstruction


def _module(encoder, X, params, latent_dim=3):
    enc, dec = build_encoder_decoder(encoder, X.shape[1:], X.shape[1:], latent_dim, (8, 16), params)
    return NebulaVAE(enc, dec, latent_dim, n_anchors=2)


def test_registry_covers_every_kind():
    assert {"mlp", "conv2d", "sequence", "tokens", "pointcloud", "conv3d"} <= set(ARCHITECTURES)
    for arch in ARCHITECTURES.values():
        assert arch.reconstruction is None or arch.reconstruction in RECONSTRUCTIONS


def test_shapes_in_and_out(kind):
    encoder, X, params, reconstruction = kind
    module = _module(encoder, X, params)
    x = torch.as_tensor(X[:5], dtype=torch.float32)
    h = module.encoder(x)
    assert h.shape == (5, module.encoder.out_features)
    out = module(x)
    assert out["mu"].shape == (5, 3)
    expected = X.shape[1:] + ((5,) if encoder == "tokens" else ())
    assert out["recon"].shape == (5, *expected)
    # The decoder mean lives in data space, shaped like one sample.
    assert decoder_mean(reconstruction, out["recon"]).shape == (5, *X.shape[1:])


def test_gradient_reaches_every_parameter(kind):
    encoder, X, params, reconstruction = kind
    torch.manual_seed(0)
    module = _module(encoder, X, params)
    x = torch.as_tensor(X[:8], dtype=torch.float32)
    out = module(x)
    loss = reconstruction_nll(reconstruction, out["recon"], x).mean()
    loss.backward()
    for name, p in module.named_parameters():
        if name == "anchors":  # used only once anchors exist
            continue
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("Est", [VariationalSimSiam, VariationalJointEmbedding])
def test_self_supervised_estimators_train_on_every_kind(kind, Est):
    # No decoder here, and views chosen by the encoder (token ids stay ids).
    encoder, X, params, _ = kind
    X_before = X.copy()
    est = Est(encoder=encoder, encoder_params=params, max_epochs=20, **TINY).fit(X)
    np.testing.assert_array_equal(X, X_before)
    Z = est.transform(X)
    assert Z.shape == (len(X), TINY["latent_dim"]) and np.isfinite(Z).all() and Z.std(0).max() > 0
    assert np.isfinite(est.score_samples(X)).all()
    assert est.history_[-1, "train_loss"] < est.history_[0, "train_loss"]


def test_short_fit_lowers_reconstruction_and_predicts(kind):
    encoder, X, params, reconstruction = kind
    est = NebulaVariationalClusterer(
        n_anchors=2, encoder=encoder, encoder_params=params, max_epochs=12, **TINY
    ).fit(X)
    assert est.reconstruction_ == reconstruction
    rec = est.history_[:, "train_reconstruction"]
    assert rec[-1] < rec[0]
    Z = est.transform(X)
    assert Z.shape == (N, 3) and Z.std(0).min() > 0
    assert est.predict(X).shape == (N,)
    assert np.isfinite(est.score_samples(X)).all()
    assert est.inverse_transform(Z[:3]).shape == (3, *X.shape[1:])


def test_pickle_and_clone_of_fitted_nd_estimator(kind):
    encoder, X, params, _ = kind
    est = NebulaVariationalClusterer(
        n_anchors=2, encoder=encoder, encoder_params=params, max_epochs=4, **TINY
    ).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    np.testing.assert_allclose(restored.transform(X), est.transform(X))
    # clone keeps the parameters (the dict is copied, not shared) and a refit
    # with the same random_state reproduces the model.
    twin = clone(est)
    assert twin.encoder_params == params and twin.encoder_params is not params
    np.testing.assert_allclose(twin.fit(X).transform(X), est.transform(X), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(twin.predict(X), est.predict(X))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "encoder, shape, match",
    [
        ("conv2d", (64,), r"\(H, W\) or \(C, H, W\)"),
        ("conv2d", (2, 3, 8, 8), r"\(H, W\) or \(C, H, W\)"),
        ("sequence", (2, 3, 8), r"\(L,\) or \(C, L\)"),
        ("conv3d", (8, 8), r"\(D, H, W\)"),
        ("pointcloud", (30,), r"n_points"),
        ("tokens", (3, 20), r"\(n_samples, L\)"),
    ],
)
def test_wrong_sample_shape_is_a_clear_error(encoder, shape, match):
    X = np.random.RandomState(0).rand(6, *shape)
    params = {"vocab_size": 3} if encoder == "tokens" else None
    est = NebulaVariationalClusterer(2, encoder=encoder, encoder_params=params, max_epochs=2)
    with pytest.raises(ValueError, match=match):
        est.fit(X)


def test_predict_on_other_sample_shape_is_refused():
    X = np.random.RandomState(0).rand(20, 8, 8)
    est = NebulaVariationalClusterer(2, encoder="conv2d", max_epochs=2, **{**TINY, "batch_size": 8})
    est.fit(X)
    with pytest.raises(ValueError, match="shape"):
        est.predict(np.random.rand(3, 8, 9))


def test_tokens_need_vocab_size_and_valid_tokens():
    X = np.random.RandomState(0).randint(0, 4, size=(10, 12)).astype(float)
    with pytest.raises(ValueError, match="vocab_size"):
        NebulaVariationalClusterer(2, encoder="tokens", max_epochs=1).fit(X)
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        NebulaVariationalClusterer(
            2, encoder="tokens", encoder_params={"vocab_size": 3}, max_epochs=1
        ).fit(X)
    with pytest.raises(ValueError, match="integers"):
        NebulaVariationalClusterer(
            2, encoder="tokens", encoder_params={"vocab_size": 4}, max_epochs=1
        ).fit(X + 0.5)


def test_unknown_or_bad_encoder_param_is_a_clear_error():
    X = np.random.RandomState(0).rand(10, 8, 8)
    with pytest.raises(ValueError, match="Unknown encoder_params"):
        NebulaVariationalClusterer(2, encoder="conv2d", encoder_params={"kernel": 5}).fit(X)
    with pytest.raises(ValueError, match="pool"):
        NebulaVariationalClusterer(2, encoder="conv2d", encoder_params={"pool": "sum"}).fit(X)


# ------------------------------------------------------------- components
@pytest.mark.parametrize("size", [(8, 8), (9, 13), (16, 15), (1, 28, 28)])
def test_conv2d_decoder_restores_any_image_size(size):
    enc, dec = build_encoder_decoder("conv2d", size, size, 4, (4, 8, 8), None)
    x = torch.rand(2, *size)
    assert dec(enc(x)[:, :4]).shape == (2, *size)


def test_pointnet_is_permutation_invariant_and_optionally_rotation_invariant():
    torch.manual_seed(0)
    x = torch.randn(3, 50, 3)
    perm = x[:, torch.randperm(50)]
    Q, _ = torch.linalg.qr(torch.randn(3, 3))
    rotated = x @ Q.T + 0.5
    plain = PointNetEncoder((50, 3), hidden_dims=(16, 32))
    assert torch.allclose(plain(x), plain(perm), atol=1e-6)
    assert not torch.allclose(plain(x), plain(rotated), atol=1e-3)
    inv = PointNetEncoder((50, 3), hidden_dims=(16, 32), rotation_invariant=True)
    assert torch.allclose(inv(x), inv(rotated), atol=1e-5)


def test_chamfer_distance_properties():
    torch.manual_seed(0)
    a = torch.randn(4, 30, 3, requires_grad=True)
    b = torch.randn(4, 20, 3)
    d = chamfer_distance(a, b)
    assert d.shape == (4,) and (d > 0).all()
    torch.testing.assert_close(d, chamfer_distance(b, a))
    torch.testing.assert_close(chamfer_distance(a, a[:, torch.randperm(30)]), torch.zeros(4))
    # Brute force on one pair.
    sq = ((a[0, :, None] - b[0, None]) ** 2).sum(-1)
    torch.testing.assert_close(d[0], sq.min(1).values.mean() + sq.min(0).values.mean())
    # Finite gradients even where points coincide.
    chamfer_nll(a, a.detach().clone()).sum().backward()
    assert torch.isfinite(a.grad).all()


def test_categorical_nll_and_mode():
    logits = torch.randn(5, 7, 4)
    target = torch.randint(0, 4, (5, 7))
    expected = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 4), target.reshape(-1), reduction="none"
    ).view(5, 7).sum(1)
    torch.testing.assert_close(categorical_nll(logits, target.float()), expected)
    assert torch.equal(decoder_mean("categorical", logits), logits.argmax(-1))


def test_token_reconstructions_are_tokens():
    X = _tokens(np.random.RandomState(0))
    est = NebulaVariationalClusterer(
        2, encoder="tokens", encoder_params={"vocab_size": 5}, max_epochs=30, **TINY
    ).fit(X)
    Xr = est.inverse_transform(est.transform(X))
    assert Xr.shape == X.shape and set(np.unique(Xr)) <= set(range(5))
    # The two sources use different tokens; decoding must tell them apart.
    assert (Xr[::2] <= 2).mean() > 0.8 and (Xr[1::2] >= 2).mean() > 0.8


def test_pointcloud_completion_with_a_larger_target():
    rng = np.random.RandomState(0)
    Y = _clouds(rng)
    X_partial = Y[:, :12]
    ae = NebulaAutoencoder(
        2, encoder="pointcloud", n_neighbors=0, max_epochs=15, **TINY
    ).fit(X_partial, Y)
    Y_pred = ae.predict(X_partial)
    assert Y_pred.shape == Y.shape and ae.reconstruction_ == "chamfer"
    rec = ae.history_[:, "train_reconstruction"]
    assert rec[-1] < rec[0]


def test_shape_distribution_ignores_pose_and_point_order():
    rng = np.random.RandomState(0)
    X = _clouds(rng)
    turns = Rotation.random(N, random_state=rng).as_matrix()
    moved = np.einsum("nij,npj->npi", turns, X) + rng.standard_normal((N, 1, 3))
    moved = moved[:, rng.permutation(X.shape[1])]
    F = shape_distribution(X)
    assert F.shape == (N, 32)
    np.testing.assert_allclose(shape_distribution(moved), F, atol=1e-6)
    # ...but it does see the shape: the two radii give different descriptors.
    assert np.abs(F[0] - F[1]).max() > 0.5


def test_shape_distribution_bounds_the_points_it_compares(monkeypatch):
    X = np.random.RandomState(0).standard_normal((3, 500, 3))
    # The pairwise distances it takes: (clouds, points, points, coordinates).
    pairwise, norm = [], np.linalg.norm

    def watch(a, *args, **kwargs):
        if np.ndim(a) == 4:
            pairwise.append(np.shape(a))
        return norm(a, *args, **kwargs)

    monkeypatch.setattr(np.linalg, "norm", watch)
    F = shape_distribution(X, n_quantiles=5, max_points=50, chunk_size=2)
    assert pairwise == [(2, 50, 50, 3), (1, 50, 50, 3)]
    monkeypatch.undo()
    assert F.shape == (3, 10) and np.isfinite(F).all()
    # The chunks bound the memory only; the points kept are the same for
    # every cloud, so reordering the clouds reorders the descriptors.
    np.testing.assert_array_equal(
        shape_distribution(X, n_quantiles=5, max_points=50, chunk_size=3), F)
    np.testing.assert_array_equal(
        shape_distribution(X[::-1], n_quantiles=5, max_points=50, chunk_size=2), F[::-1])
    np.testing.assert_array_equal(shape_distribution(X[:, :1]), np.zeros((3, 32)))


def test_pointcloud_partners_are_clouds_of_the_same_shape():
    rng = np.random.RandomState(0)
    turns = Rotation.random(N, random_state=rng).as_matrix()
    X = np.einsum("nij,npj->npi", turns, _clouds(rng))
    shape = np.arange(N) % 2
    est = NebulaVariationalClusterer(2, encoder="pointcloud", n_neighbors=5)
    assert (shape[est._neighbours(X)] == shape[:, None]).mean() == 1.0
    # Neighbours of the flattened coordinates are no better than chance.
    flat = neighbour_table(X, 5)
    assert (shape[flat] == shape[:, None]).mean() < 0.75


def test_volume_spectrum_ignores_where_the_shape_sits():
    from sknebula.datasets import make_shape_volumes

    X, _ = make_shape_volumes(4, size=12, shift=0.0, rotate=False, noise=0.0, random_state=0)
    moved = np.roll(X, (3, -2, 4), axis=(1, 2, 3))
    F = volume_spectrum(X)
    assert F.shape == (4, 12 * 12 * 7)
    np.testing.assert_allclose(volume_spectrum(moved), F, rtol=1e-4, atol=1e-3)
    assert np.abs(F[0] - F[1]).max() > 1.0  # a sphere is not a cube
    # Channels each get their spectrum; large grids keep the low band.
    assert volume_spectrum(np.zeros((2, 3, 12, 12, 12))).shape == (2, 3 * 12 * 12 * 7)
    assert volume_spectrum(np.zeros((2, 32, 40, 20))).shape == (2, 17 * 17 * 9)


def test_volume_partners_are_volumes_of_the_same_solid():
    from sknebula.datasets import make_shape_volumes

    X, solid = make_shape_volumes(80, size=12, rotate=False, shift=0.25, scale=(0.6, 1.1),
                                  random_state=0)
    est = NebulaVariationalClusterer(4, encoder="conv3d", n_neighbors=5)
    partners = est._neighbours(X.astype(np.float32))
    assert (solid[partners] == solid[:, None]).mean() > 0.9
    # Neighbours of the flattened voxels follow where the solids sit.
    flat = neighbour_table(X.astype(np.float32), 5)
    assert (solid[flat] == solid[:, None]).mean() < 0.75


def test_token_partners_are_sequences_of_the_same_source():
    from sknebula.datasets import make_markov_sequences

    X, source = make_markov_sequences(120, n_sources=3, length=30, vocab_size=8, random_state=0)
    est = NebulaVariationalClusterer(3, encoder="tokens", encoder_params={"vocab_size": 8})
    partners = est._neighbours(X.astype(np.float32))
    assert partners.shape == (120, auto_neighbours(120, 3))
    assert (source[partners] == source[:, None]).mean() > 0.9
    # Neighbours of the flattened token ids are near chance (1/3).
    flat = neighbour_table(X.astype(np.float32), partners.shape[1])
    assert (source[flat] == source[:, None]).mean() < 0.6


# The features whose Euclidean neighbours are the partners of each kind
# (None: the flattened input).
PARTNER_FEATURES = {
    "conv2d": image_features,
    "sequence": series_descriptor,
    "tokens": ngram_profile,
    "pointcloud": shape_distribution,
    "conv3d": volume_descriptor,
}


@pytest.mark.parametrize("name", IDS)
def test_auto_partners_follow_the_data_kind(name):
    encoder, make, params, _ = KINDS[name]
    X = make(np.random.RandomState(0)).astype(np.float32)
    est = NebulaVariationalClusterer(2, encoder=encoder, encoder_params=params)
    partners = est._neighbours(X)
    k = auto_neighbours(N, 2)
    assert partners.shape == (N, k)
    np.testing.assert_array_equal(
        partners, neighbour_table(X, k, features=PARTNER_FEATURES[encoder]))


@pytest.mark.parametrize(
    "n_samples, n_anchors, expected",
    [(1797, 10, 20), (400, 10, 13), (80, 4, 6), (30, 10, 5)],
)
def test_auto_partner_count_is_a_third_of_the_fair_share(n_samples, n_anchors, expected):
    # Partners must stay inside the sample's cluster (about n / K samples).
    assert auto_neighbours(n_samples, n_anchors) == expected


@pytest.mark.parametrize(
    "encoder, X, expected",
    [
        ("mlp", np.zeros((20, 64)), (256, 256)),
        ("conv2d", np.zeros((20, 8, 8)), (32, 64)),
        ("conv3d", np.zeros((20, 8, 8, 8)), (16, 32)),
        ("sequence", np.zeros((20, 25)), (32, 64)),
        ("sequence", np.zeros((20, 3, 251)), (32, 64, 64, 64)),
    ],
)
def test_auto_hidden_dims_follow_the_architecture_and_the_length(encoder, X, expected):
    from sknebula.nn import auto_hidden_dims

    assert auto_hidden_dims(encoder, X.shape[1:]) == expected
    X = X + np.random.RandomState(0).rand(*X.shape)
    est = NebulaVariationalClusterer(2, encoder=encoder, max_epochs=2, random_state=0).fit(X)
    convs = [m for m in est.net_.module_.encoder.modules() if hasattr(m, "out_channels")]
    linears = [m for m in est.net_.module_.encoder.modules() if isinstance(m, torch.nn.Linear)]
    widths = tuple(m.out_channels for m in convs) or tuple(m.out_features for m in linears)
    assert widths == expected
    assert est.hidden_dims == "auto", "the parameter must stay as given"


def test_volume_partners_ignore_size_over_a_factor_of_two():
    from sknebula.datasets import make_shape_volumes
    from sknebula.nn import canonical_volume

    X, solid = make_shape_volumes(100, size=16, shapes=("sphere", "cube"), rotate=False,
                                  shift=0.25, scale=(0.5, 1.0), random_state=0)
    est = NebulaVariationalClusterer(2, encoder="conv3d", n_neighbors=10)
    partners = est._neighbours(X)
    assert (solid[partners] == solid[:, None]).mean() > 0.99
    # Partners span the sizes: a small ball's partners include big balls,
    # so that training pulls sizes together (the spectrum alone paired
    # volumes of a size).
    size = X.reshape(len(X), -1).sum(1)
    small = size < np.median(size)
    assert (~small[partners[small]]).mean() > 0.2
    C = canonical_volume(X)
    assert C.shape == X.shape and np.isfinite(C).all()
    np.testing.assert_array_equal(canonical_volume(np.zeros((1, 8, 8, 8))), 0.0)
