"""Dead and starving anchors are re-seeded: never fewer clusters than asked."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.metrics import adjusted_rand_score

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula._anchors import relocate_starving_anchors


def test_relocation_splits_the_largest_cluster():
    rng = np.random.RandomState(0)
    mu = np.vstack([rng.normal(-5, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    # Anchor 0 owns everything; anchor 1 sits far away and owns nothing.
    anchors = np.array([[0.0, 0.0], [100.0, 100.0]])
    new, moved = relocate_starving_anchors(mu, anchors, 1, random_state=0)
    assert moved == [0, 1]
    counts = np.bincount(((mu[:, None] - new[None]) ** 2).sum(-1).argmin(1), minlength=2)
    assert counts.tolist() == [50, 50]
    assert anchors[1].tolist() == [100.0, 100.0], "the input must not be modified"


def test_relocation_leaves_healthy_anchors_alone():
    mu = np.array([[0.0], [0.1], [5.0], [5.1]])
    anchors = np.array([[0.0], [5.0]])
    new, moved = relocate_starving_anchors(mu, anchors, 2, random_state=0)
    assert moved == [] and np.array_equal(new, anchors)


class _Starve(Callback):
    """Throws anchor 0 far away from every latent at the end of ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            with torch.no_grad():
                net.module_.anchors[0] = 1e3


def _fit(X, starve_at, **params):
    return NebulaVariationalClusterer(
        n_anchors=4, hidden_dims=(32,), latent_dim=3, max_epochs=30, warmup_epochs=10,
        random_state=0, callbacks=[_Starve(starve_at)], **params
    ).fit(X)


def test_an_anchor_starved_during_training_is_reseeded(blobs):
    X, _ = blobs
    est = _fit(X, starve_at=15)
    reseeded = est.history_[:, "reseeded"] if "reseeded" in est.history_[15] else []
    assert sum(reseeded) >= 1, "the starved anchor was not re-seeded"
    # It came back during training, so it trained with the rest: every
    # anchor owns a real share of the samples, not just one.
    assert est.n_clusters_ == 4
    assert np.bincount(est.labels_).min() >= 5
    assert np.abs(est.anchors_).max() < 100


def test_an_anchor_starved_after_the_last_reseed_is_revived_at_the_end(blobs):
    X, _ = blobs
    est = _fit(X, starve_at=30)
    assert est.n_clusters_ == 4
    assert np.array_equal(np.unique(est.labels_), np.arange(4))
    assert est.predict_proba(X).shape == (len(X), 4)
    assert np.abs(est.anchors_).max() < 100
    # score_samples uses the revived anchor's mass, so it stays finite.
    assert np.isfinite(est.score_samples(X)).all()


def test_too_few_distinct_samples_for_the_anchors_warns():
    X = np.repeat(np.eye(3), 10, axis=0)
    with pytest.warns(UserWarning, match="own no training sample"):
        est = NebulaVariationalClusterer(
            n_anchors=5, hidden_dims=(16,), latent_dim=2, max_epochs=6, random_state=0
        ).fit(X)
    assert est.n_clusters_ <= 3


def test_the_autoencoder_revives_anchors_too(blobs):
    X, _ = blobs
    est = NebulaAutoencoder(
        n_anchors=4, hidden_dims=(32,), latent_dim=3, max_epochs=30, warmup_epochs=10,
        random_state=0, callbacks=[_Starve(30)],
    ).fit(X)
    mu = est.transform(X)
    nearest = ((mu[:, None] - est.anchors_[None]) ** 2).sum(-1).argmin(1)
    assert len(np.unique(nearest)) == 4


class _SpoilFirstRestart(Callback):
    """Replaces the latent head of the first restart of a fit by noise when
    its training ends, so that its clusters ignore the data; the later
    restarts are left alone."""

    fits = []

    def on_train_end(self, net, **kwargs):
        if not net.module_.anchors_placed:
            return  # the warm-up, which the restarts share
        self.fits.append(net)
        if len(self.fits) == 1:
            g = torch.Generator().manual_seed(0)
            with torch.no_grad():
                head = net.module_.mu_head.weight
                head.copy_(torch.randn(head.shape, generator=g))
                net.module_.encoder.layers[0].weight.copy_(
                    torch.randn(net.module_.encoder.layers[0].weight.shape, generator=g)
                )


def test_n_init_keeps_the_restart_whose_clusters_follow_the_data(blobs):
    from sknebula.metrics import graph_modularity, neighbour_modularity

    X, y = blobs
    params = dict(n_anchors=3, hidden_dims=(32,), latent_dim=3, max_epochs=15, random_state=0)
    _SpoilFirstRestart.fits.clear()
    spoilt = NebulaVariationalClusterer(**params, callbacks=[_SpoilFirstRestart()]).fit(X)
    _SpoilFirstRestart.fits.clear()
    est = NebulaVariationalClusterer(**params, n_init=3, callbacks=[_SpoilFirstRestart()]).fit(X)
    nets = list(_SpoilFirstRestart.fits)
    assert len(nets) == 3
    assert est.net_ is not nets[0], "kept the spoilt restart"
    # The spoilt single fit clusters the blobs badly; the kept restart well.
    assert adjusted_rand_score(y, spoilt.labels_) < 0.7
    assert adjusted_rand_score(y, est.labels_) > 0.9
    assert neighbour_modularity(X, est.labels_) > neighbour_modularity(X, spoilt.labels_) + 0.1


def test_the_fit_does_not_depend_on_the_units_of_the_data(blobs):
    X, _ = blobs
    params = dict(n_anchors=3, hidden_dims=(32,), latent_dim=3, max_epochs=15, random_state=0)
    small = NebulaVariationalClusterer(**params).fit(X)
    large = NebulaVariationalClusterer(**params).fit(1000.0 * X + 5000.0)
    assert large.reconstruction_ == "gaussian"
    np.testing.assert_allclose(large.transform(1000.0 * X + 5000.0), small.transform(X), atol=1e-3)
    assert np.array_equal(large.labels_, small.labels_)
    # The ELBO of the same model in other units differs by the log-Jacobian.
    shift = X.shape[1] * np.log(1000.0)
    np.testing.assert_allclose(large.score_samples(1000.0 * X + 5000.0),
                               small.score_samples(X) - shift, atol=1e-2)
