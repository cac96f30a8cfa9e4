"""The anchor merge (sknebula._anchors.merge_anchors): on synthetic inputs,
then through the clusterer's n_anchors="auto" and n_clusters="auto"."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV

from sknebula import NebulaVariationalClusterer
from sknebula._anchors import merge_anchors, modularity_merge_path, partner_links
from sknebula.metrics import graph_modularity


def _two_pairs(n_per=30, n_partners=5, cross=1, seed=0):
    """Four anchors whose members have partners within 0-1 and within 2-3,
    while the anchor positions put 0 beside 2 and 1 beside 3."""
    rng = np.random.default_rng(seed)
    nearest = np.repeat(np.arange(4), n_per)
    team = np.array([0, 0, 1, 1])[nearest]
    neighbours = np.empty((len(nearest), n_partners), dtype=np.intp)
    for i in range(len(nearest)):
        mates = np.flatnonzero(team == team[i])
        others = np.flatnonzero(team != team[i])
        neighbours[i, :cross] = rng.choice(others, cross)
        neighbours[i, cross:] = rng.choice(mates[mates != i], n_partners - cross)
    anchors = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 1.0], [10.0, 1.0]])
    return nearest, neighbours, anchors


def test_partner_links_counts_every_edge():
    nearest = np.array([0, 0, 1, 2])
    neighbours = np.array([[1, 2], [0, 3], [3, 0], [2, 2]])
    links = partner_links(nearest, neighbours, 3, rows=3)
    expected = np.array([[2, 1, 1], [1, 0, 1], [0, 2, 0]])
    np.testing.assert_array_equal(links, expected)
    assert links.sum() == neighbours.size
    # Pooled partners: the table indexes other rows than its own.
    pooled = partner_links(np.array([2, 0]), np.array([[0, 1], [1, 1]]), 3,
                           partner_anchor=np.array([1, 1]))
    np.testing.assert_array_equal(pooled, [[0, 2, 0], [0, 0, 0], [0, 2, 0]])


def test_merge_follows_the_partners_not_the_positions():
    nearest, neighbours, anchors = _two_pairs()
    counts = np.bincount(nearest, minlength=4)
    links = partner_links(nearest, neighbours, 4)
    by_graph = merge_anchors(counts, anchors, links, n_clusters=2)
    assert by_graph[0] == by_graph[1] != by_graph[2] == by_graph[3]
    by_position = merge_anchors(counts, anchors, None, n_clusters=2, random_state=0)
    assert by_position[0] == by_position[2] != by_position[1] == by_position[3]
    # The merge maximises the partner graph's modularity of the samples.
    q_graph = graph_modularity(neighbours, by_graph[nearest])
    q_position = graph_modularity(neighbours, by_position[nearest])
    assert q_graph > q_position


def test_auto_finds_the_groups_of_the_partner_graph():
    nearest, neighbours, anchors = _two_pairs()
    counts = np.bincount(nearest, minlength=4)
    labels = merge_anchors(counts, anchors, partner_links(nearest, neighbours, 4), "auto")
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])


def test_auto_keeps_anchors_that_are_groups_of_their_own():
    nearest = np.repeat(np.arange(3), 10)
    neighbours = np.array([np.flatnonzero(nearest == nearest[i])[:4] for i in range(30)])
    labels = merge_anchors(np.full(3, 10), np.eye(3), partner_links(nearest, neighbours, 3),
                           "auto")
    np.testing.assert_array_equal(np.sort(labels), [0, 1, 2])


def test_empty_anchors_join_a_used_group_and_labels_run_from_zero():
    nearest, neighbours, anchors = _two_pairs()
    # Anchors 4 and 5 own nothing; 5 sits on anchor 3.
    anchors = np.vstack([anchors, [[50.0, 50.0], [10.0, 1.1]]])
    counts = np.bincount(nearest, minlength=6)
    links = partner_links(nearest, neighbours, 6)
    for n_clusters in (None, 2, "auto"):
        labels = merge_anchors(counts, anchors, links, n_clusters)
        expected = 4 if n_clusters is None else 2
        np.testing.assert_array_equal(np.unique(labels), np.arange(expected))
        assert labels[5] == labels[3]


@pytest.mark.parametrize("n_clusters", [1, 3, 4, 10])
def test_merge_gives_the_number_asked(n_clusters):
    nearest, neighbours, anchors = _two_pairs()
    counts = np.bincount(nearest, minlength=4)
    labels = merge_anchors(counts, anchors, partner_links(nearest, neighbours, 4), n_clusters)
    np.testing.assert_array_equal(np.unique(labels), np.arange(min(n_clusters, 4)))


def test_merge_path_has_one_partition_per_count():
    rng = np.random.default_rng(0)
    links = rng.integers(0, 20, size=(6, 6))
    path = modularity_merge_path(links, rng.integers(1, 9, size=6))
    assert len(path) == 6
    for m, groups in enumerate(path, start=1):
        np.testing.assert_array_equal(np.unique(groups), np.arange(m))
    # Each step joins two groups of the step before.
    for finer, coarser in zip(path[1:], path[:-1]):
        for g in np.unique(finer):
            assert len(np.unique(coarser[finer == g])) == 1


def test_auto_counts_groups_on_the_judge_graph():
    # The closest partners split each pair of anchors; a wider graph joins them.
    nearest = np.repeat(np.arange(4), 10)
    narrow = np.array([np.flatnonzero(nearest == nearest[i])[:3] for i in range(40)])
    team = nearest // 2
    wide = np.array([np.flatnonzero(team == team[i])[:12] for i in range(40)])
    counts, anchors = np.full(4, 10), np.eye(4)
    links = partner_links(nearest, narrow, 4)
    assert merge_anchors(counts, anchors, links, "auto").max() == 3
    labels = merge_anchors(counts, anchors, links, "auto", judge=partner_links(nearest, wide, 4))
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])


# Through the estimator.


def test_n_anchors_auto_follows_n_clusters(blobs, fast):
    X, _ = blobs
    est = NebulaVariationalClusterer(n_clusters=3, **fast).fit(X)
    assert est.n_anchors_ == 3 and est.anchors_.shape[0] == 3 and est.n_clusters_ == 3
    # The very model n_anchors=3 trains.
    same = NebulaVariationalClusterer(n_anchors=3, **fast).fit(X)
    np.testing.assert_array_equal(est.labels_, same.labels_)
    np.testing.assert_array_equal(est.anchors_, same.anchors_)
    assert NebulaVariationalClusterer(**fast).fit(X).n_anchors_ == 10
    assert NebulaVariationalClusterer(n_anchors=4, n_clusters=3, **fast).fit(X).n_anchors_ == 4


def test_n_clusters_auto_finds_separated_blobs(blobs, fast):
    X, y = blobs
    est = NebulaVariationalClusterer(n_clusters="auto", **fast).fit(X)
    assert est.n_anchors_ == 10 and est.n_clusters_ == 3
    assert adjusted_rand_score(y, est.labels_) > 0.9
    np.testing.assert_array_equal(np.unique(est.predict(X)), np.arange(3))
    assert est.predict_proba(X[:5]).shape == (5, 3)


def test_grid_search_over_n_clusters(blobs, fast):
    X, _ = blobs
    search = GridSearchCV(NebulaVariationalClusterer(**fast), {"n_clusters": [2, 3]}, cv=2).fit(X)
    assert search.best_params_ == {"n_clusters": 3}
    assert search.best_estimator_.n_anchors_ == 3
