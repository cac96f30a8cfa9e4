"""Where the anchors start, and how the rate decays after they are placed."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sknebula import NebulaVariationalClusterer
from sknebula._callbacks import cosine_after_warmup
from sknebula import _anchors
from sknebula._anchors import (
    graph_partition_centres,
    init_anchors_from_data,
    nearest_anchor,
    partner_modularity,
)
from sknebula.metrics import clustering_accuracy, graph_modularity
from sknebula.nn import NebulaVAE


class _Identity(torch.nn.Module):
    """A module whose latent means are its inputs, with two anchors."""

    def __init__(self, dim=1):
        super().__init__()
        self.anchors = torch.nn.Parameter(torch.zeros(2, dim))
        self.register_buffer("anchors_ready", torch.tensor(False))
        self.anchors_placed = False

    place_anchors = NebulaVAE.place_anchors

    def encode(self, x):
        return x, torch.zeros_like(x)


def _three_groups():
    """Groups at 0, 4 and 8 on a line: 2-means splits them {0, 4} | {8} or
    {0} | {4, 8}, at the same inertia. The partners link 0 with 4."""
    rng = np.random.RandomState(0)
    mu = np.concatenate([rng.normal(c, 0.3, 60) for c in (0.0, 4.0, 8.0)])[:, None]
    group = np.repeat([0, 1, 2], 60)
    together = np.where(group == 2, 2, 0)  # groups 0 and 1 are one cluster
    partners = np.stack([
        rng.choice(np.flatnonzero(together == together[i]), 5) for i in range(len(mu))
    ])
    return mu.astype(np.float32), group, partners


@pytest.mark.parametrize("seed", range(5))
def test_anchors_start_at_the_k_means_solution_that_keeps_partners_together(seed):
    mu, group, partners = _three_groups()
    net = SimpleNamespace(module_=_Identity(), device="cpu")
    init_anchors_from_data(net, mu, seed, partners)
    assert net.module_.anchors_placed and bool(net.module_.anchors_ready)
    nearest = nearest_anchor(mu.astype(np.float64), net.module_.anchors.detach().double().numpy())
    assert len(set(nearest[group < 2])) == 1, "the partners' cluster was split"
    assert set(nearest[group == 2]).isdisjoint(nearest[group < 2])


def _parallel_chains():
    """Two parallel chains of 200 points, 10 long and 1.5 apart: 2-means
    cuts both across their length. Each point's partners are the points
    next to it along its own chain."""
    rng = np.random.RandomState(0)
    along = np.tile(np.linspace(0.0, 10.0, 200), 2)
    chain = np.repeat([0, 1], 200)
    mu = np.column_stack([along, 1.5 * chain]) + rng.normal(scale=0.05, size=(400, 2))
    position = np.tile(np.arange(200), 2)
    steps = np.array([-1, 1, -2, 2, 3])
    beside = np.abs(position[:, None] + steps)  # reflected at the start
    beside = np.where(beside > 199, 2 * 199 - beside, beside)
    return mu.astype(np.float32), chain, beside + 200 * chain[:, None]


def test_the_partner_graph_partition_separates_chains_that_k_means_cuts():
    from sklearn.cluster import KMeans

    mu, chain, partners = _parallel_chains()
    assert (chain[partners] == chain[:, None]).all()
    centres = graph_partition_centres(mu.astype(np.float64), partners, 2, 0)
    assert clustering_accuracy(chain, nearest_anchor(mu.astype(np.float64), centres)) == 1.0
    kmeans = KMeans(2, n_init=10, random_state=0).fit(mu).cluster_centers_
    assert clustering_accuracy(chain, nearest_anchor(mu.astype(np.float64), kmeans)) < 0.7


@pytest.mark.parametrize("seed", range(3))
def test_anchors_start_at_the_graph_partition_when_it_keeps_partners_best(seed, monkeypatch):
    mu, chain, partners = _parallel_chains()

    def placed():
        net = SimpleNamespace(module_=_Identity(dim=2), device="cpu")
        init_anchors_from_data(net, mu, seed, partners)
        anchors = net.module_.anchors.detach().double().numpy()
        return clustering_accuracy(chain, nearest_anchor(mu.astype(np.float64), anchors))

    assert placed() == 1.0
    # Above its row limit the graph's partition is not drawn, and no
    # k-means candidate separates the chains.
    monkeypatch.setattr(_anchors, "GRAPH_PARTITION_ROWS", len(mu) - 1)
    assert placed() < 0.7


def test_partner_modularity_on_every_row_is_the_graph_modularity():
    rng = np.random.RandomState(0)
    mu, neighbours = rng.normal(size=(300, 3)), rng.randint(0, 300, size=(300, 7))
    centres = rng.normal(size=(4, 3))
    labels = nearest_anchor(mu, centres)
    assert partner_modularity(mu, neighbours, centres, np.arange(300)) == pytest.approx(
        graph_modularity(neighbours, labels)
    )
    # On a subset of rows it is the same statistic over those rows.
    rows = np.arange(0, 300, 3)
    own, theirs = labels[rows], labels[neighbours[rows]]
    expected = (theirs == own[:, None]).mean() - ((np.bincount(own) / len(rows)) ** 2).sum()
    assert partner_modularity(mu, neighbours, centres, rows) == pytest.approx(expected)


def test_restarts_are_judged_on_a_bounded_number_of_rows(blobs, monkeypatch):
    from sknebula import _nvc

    X, _ = blobs
    est = NebulaVariationalClusterer(
        n_anchors=3, hidden_dims=(16,), latent_dim=2, max_epochs=5, random_state=0
    ).fit(X)
    mu, neighbours = est.transform(X), est._neighbours(X.astype(np.float32))
    # Under the cap, every row counts: the modularity of the labels on the
    # graph of the closest partners; the farther ones do not count.
    closest = neighbours[:, :_nvc.JUDGED_PARTNERS]
    assert neighbours.shape[1] > closest.shape[1]
    assert est._restart_quality(est.net_, mu, neighbours) == pytest.approx(
        graph_modularity(closest, est.labels_)
    )
    farther = neighbours.copy()
    farther[:, closest.shape[1]:] = np.roll(farther[:, closest.shape[1]:], 7, axis=0)
    assert est._restart_quality(est.net_, mu, farther) == pytest.approx(
        est._restart_quality(est.net_, mu, neighbours)
    )
    # Over it, rows that are neither judged nor a judged row's partner do
    # not count, so moving their latents changes nothing.
    monkeypatch.setattr(_nvc, "PLACEMENT_ROWS", 10)
    judged = np.arange(0, len(X), 15)
    partners = closest[judged].ravel()
    ignored = np.setdiff1d(np.arange(len(X)), np.concatenate([judged, partners]))
    moved = mu.copy()
    moved[ignored] = est.anchors_[0]
    assert len(ignored) > 0 and not np.array_equal(nearest_anchor(moved, est.anchors_), est.labels_)
    assert est._restart_quality(est.net_, moved, neighbours) == pytest.approx(
        est._restart_quality(est.net_, mu, neighbours)
    )


def test_without_partners_the_anchors_start_at_k_means_centres():
    mu, group, _ = _three_groups()
    net = SimpleNamespace(module_=_Identity(), device="cpu")
    init_anchors_from_data(net, mu, 0)
    nearest = nearest_anchor(mu.astype(np.float64), net.module_.anchors.detach().double().numpy())
    assert sorted(np.bincount(nearest)) == [60, 120]


def test_cosine_after_warmup():
    factors = [cosine_after_warmup(e, warmup_epochs=4, n_epochs=8) for e in range(9)]
    assert factors[:5] == [1.0] * 5
    assert np.all(np.diff(factors[4:]) < 0) and factors[-1] == pytest.approx(0.0)
    assert factors[6] == pytest.approx(0.5)


def test_the_rate_is_constant_in_the_warmup_and_decays_after(blobs):
    X, _ = blobs
    est = NebulaVariationalClusterer(
        n_anchors=3, hidden_dims=(16,), latent_dim=2, max_epochs=10, warmup_epochs=4,
        lr=1e-3, random_state=0,
    ).fit(X)
    lr = est.history_[:, "event_lr"]
    assert lr[:5] == [1e-3] * 5
    assert np.all(np.diff(lr[4:]) < 0) and lr[-1] < 1e-4
