"""Anchor geometry: placement, assignment, re-seeding and the partner
judgement, on numpy latents (the callbacks are thin skorch hooks over it).

The k-means steps run on one thread (:func:`sknebula._data.single_threaded`):
their sums, so the centres, so which placement wins, change in the last
bits with the thread count of the OpenMP runtime, which may depend on the
import order.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.cluster import KMeans, SpectralClustering

from ._data import single_threaded
from ._distributed import gather_rows, on_rank_zero, total, world_size
from ._net import batched_apply


# k-means solutions drawn when the anchors are placed (init_anchors_from_data),
# each fitted on, and judged on, at most PLACEMENT_ROWS latents.
ANCHOR_CANDIDATES = 64
PLACEMENT_ROWS = 10_000
# Partners per sample in the graph whose own partition joins the candidates
# (the closest, the purest), and the most rows that graph may have: on a
# graph without clusters the spectral embedding's cost grows steeply with
# the rows (the Nebula guide has the times).
GRAPH_PARTNERS = 5
GRAPH_PARTITION_ROWS = 2048


def latent_means(net, X):
    """Posterior means of X under the net's module, float64 numpy."""
    return batched_apply(net.module_, X, lambda m, x: m.encode(x)[0], net.device, 1024)


def training_latents(net, X, batch_size=4096):
    """Posterior means of X as the training step sees them (float32, on the
    net's device, no copy of the module): cheap enough to count each
    anchor's owners after every epoch, where :func:`latent_means` copies
    the module to float64 for predictions that must not depend on batching."""
    module = net.module_
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            # Copies of the rows: X may be a read-only memory map, which
            # torch does not wrap.
            rows = (np.asarray(X[i : i + batch_size]) for i in range(0, len(X), batch_size))
            parts = [module.encode(torch.tensor(r, device=net.device))[0] for r in rows]
    finally:
        module.train(training)
    return torch.cat(parts).cpu().double().numpy()


def anchor_array(net):
    """The net's anchors as a float64 numpy array, ``(K, d)``."""
    return net.module_.anchors.detach().cpu().double().numpy()


def _sq_distance_chunks(mu, anchors, chunk):
    """Squared latent-to-anchor distances, ``chunk`` rows at a time: the
    differences of all n latents to all K anchors at once take
    ``n * K * latent_dim`` floats (800 MB at a million rows)."""
    for part in np.array_split(mu, max(1, -(-len(mu) // chunk))):
        yield ((part[:, None] - anchors[None]) ** 2).sum(-1)


def anchor_sq_distances(mu, anchors, chunk=32768):
    """Squared distance of every latent to every anchor (numpy), ``(n, K)``."""
    return np.concatenate(list(_sq_distance_chunks(mu, anchors, chunk)))


def nearest_anchor(mu, anchors, chunk=32768):
    """Index of the nearest anchor to each latent (numpy), ``(n,)``."""
    return np.concatenate([d.argmin(1) for d in _sq_distance_chunks(mu, anchors, chunk)])


def relocate_starving_anchors(mu, anchors, min_count, random_state):
    """Move every anchor that owns fewer than ``min_count`` latents into the
    most populous cluster, as k-means relocates its empty clusters.

    The largest cluster is split in two by 2-means on its members' latents:
    its anchor moves to one centre, the starving anchor to the other, so
    both then own a part of it. Repeated for each starving anchor (fewest
    owners first).

    Parameters
    ----------
    mu : ndarray of shape (n_samples, latent_dim)
        Latent means.
    anchors : ndarray of shape (n_anchors, latent_dim)
        Current anchors (not modified).
    min_count : int
        Anchors owning fewer latents than this are relocated.
    random_state : int
        Seed of the 2-means splits.

    Returns
    -------
    anchors : ndarray of shape (n_anchors, latent_dim)
        The new anchors.
    moved : list of int
        Every anchor that was moved (starving ones and the split owners).
    """
    anchors = np.array(anchors, dtype=np.float64)
    moved = []
    for _ in range(len(anchors)):
        nearest = nearest_anchor(mu, anchors)
        counts = np.bincount(nearest, minlength=len(anchors))
        starving = [k for k in np.argsort(counts, kind="stable") if counts[k] < min_count]
        starving = [k for k in starving if k not in moved]
        if not starving:
            break
        largest = int(counts.argmax())
        members = mu[nearest == largest]
        if len(np.unique(members, axis=0)) < 2:
            break  # nothing left to split
        anchors[largest], anchors[starving[0]] = _kmeans_centres(members, 2, random_state)
        moved += [largest, int(starving[0])]
    return anchors, sorted(set(moved))


@single_threaded
def _kmeans_centres(mu, n_clusters, random_state, n_init=3):
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state)
    return km.fit(mu).cluster_centers_


def evenly_spaced(n, max_rows):
    return np.arange(0, n, -(-n // max_rows))


@single_threaded
def _candidate_centres(mu, n_clusters, n_candidates, random_state, max_rows=PLACEMENT_ROWS):
    """``n_candidates`` k-means solutions (one k-means++ start each, on one
    thread, see :func:`_kmeans_centres`), fitted on at most ``max_rows``
    evenly spaced latents so that large data stays cheap."""
    sample = mu[evenly_spaced(len(mu), max_rows)]
    rng = np.random.RandomState(random_state)
    return [
        _kmeans_centres(sample, n_clusters, rng.randint(2**31 - 1), n_init=1)
        for _ in range(n_candidates)
    ]


def partner_modularity(mu, neighbours, centres, rows, offset=0):
    """:func:`sknebula.metrics.graph_modularity` of the nearest-centre
    assignment, over the partner table's ``rows`` only.

    Only those rows and their partners need an assignment, so the cost does
    not grow with the data; with every row it equals ``graph_modularity``.
    ``mu`` holds the latents of the rows the table indexes; the table's own
    rows are those from ``offset`` on (data-parallel, a rank's among all).
    """
    partners = neighbours[rows]
    needed, inverse = np.unique(
        np.concatenate([rows + offset, partners.ravel()]), return_inverse=True
    )
    labels = nearest_anchor(mu[needed], centres)[inverse]
    own, theirs = labels[: len(rows)], labels[len(rows) :].reshape(partners.shape)
    shares = np.bincount(own, minlength=len(centres)) / len(rows)
    return float((theirs == own[:, None]).mean() - (shares**2).sum())


@single_threaded
def partner_graph_partition(neighbours, n_clusters, random_state):
    """Labels of the partition that the partner graph itself suggests.

    Spectral clustering (with the deterministic ``cluster_qr`` labelling)
    of the symmetrised graph of every sample's ``GRAPH_PARTNERS`` closest
    partners.
    """
    n = len(neighbours)
    closest = neighbours[:, :GRAPH_PARTNERS]
    graph = sp.csr_matrix(
        (np.ones(closest.size), (np.repeat(np.arange(n), closest.shape[1]), closest.ravel())),
        shape=(n, n),
    )
    graph = ((graph + graph.T) > 0).astype(np.float64)
    with warnings.catch_warnings():
        # Parts that do not touch are what the partition should find.
        warnings.filterwarnings("ignore", "Graph is not fully connected")
        return SpectralClustering(
            n_clusters, affinity="precomputed", assign_labels="cluster_qr",
            random_state=random_state,
        ).fit_predict(graph)


def graph_partition_centres(mu, neighbours, n_clusters, random_state):
    """Centres of :func:`partner_graph_partition`, each the mean latent of
    its part, or None when it has an empty part.

    k-means splits the latents where they spread most; when a class is a
    union of sub-groups, and a smaller group stands apart from the rest,
    that split cuts across the classes while the graph still holds each
    class together (the Nebula guide has the case).
    """
    if not 2 <= n_clusters < len(mu) // 2:
        return None
    labels = partner_graph_partition(neighbours, n_clusters, random_state)
    counts = np.bincount(labels, minlength=n_clusters)
    if (counts == 0).any():
        return None
    return np.stack([mu[labels == k].mean(0) for k in range(n_clusters)])


def _graph_candidate(mu, neighbours, n_clusters, random_state, offset):
    """:func:`graph_partition_centres` on the partner graph of every row
    (of every rank, data-parallel), or None where that graph is too large
    or a rank holds only its own shard's partners."""
    if offset is None and world_size() > 1:
        return None
    table = neighbours if offset is None else gather_rows(neighbours)
    if len(table) != len(mu) or len(mu) > GRAPH_PARTITION_ROWS:
        return None
    return on_rank_zero(graph_partition_centres, mu, table, n_clusters, random_state)


def init_anchors_from_data(
    net, X, random_state, neighbours=None, n_candidates=ANCHOR_CANDIDATES, offset=None
):
    """Place the anchors at k-means centres of the latent means of X (of
    every rank's X, data-parallel).

    With a partner table ``neighbours``, ``n_candidates`` k-means solutions
    are drawn, and on up to ``GRAPH_PARTITION_ROWS`` rows the partner
    graph's own partition (:func:`graph_partition_centres`) joins them; the
    one whose assignment keeps the partners together best (modularity on
    the partner graph, :func:`sknebula.metrics.graph_modularity`) is kept
    (both on at most ``PLACEMENT_ROWS`` latents, so the cost does not grow
    with the data). Inertia is a poor judge here, since the
    partners say which points belong together and k-means does not read
    them (measured in the Nebula guide). Without partners, the lowest inertia of
    3 starts. ``offset`` is None when the table indexes this rank's rows,
    else (pooled partners, see :class:`sknebula._data.NeighbourPairs`)
    where they start among the rows of all ranks.
    """
    module = net.module_
    mu_local = latent_means(net, X)
    mu = gather_rows(mu_local)
    n_anchors = module.anchors.shape[0]
    if neighbours is None:
        centres = on_rank_zero(_kmeans_centres, mu, n_anchors, random_state)
    else:
        candidates = on_rank_zero(_candidate_centres, mu, n_anchors, n_candidates, random_state)
        graph = _graph_candidate(mu, neighbours, n_anchors, random_state, offset)
        candidates += [] if graph is None else [graph]
        # Each rank judges every candidate on its own partners; the sum
        # over ranks picks the same one everywhere.
        rows = evenly_spaced(len(mu_local), PLACEMENT_ROWS)
        space, start = (mu_local, 0) if offset is None else (mu, offset)
        quality = total(np.array([
            partner_modularity(space, neighbours, c, rows, start) for c in candidates
        ]))
        centres = candidates[int(np.argmax(quality))]
    module.place_anchors(centres)


def set_anchors(net, anchors, moved=()):
    """Write ``anchors`` into the module; the optimiser's momentum of every
    ``moved`` anchor is cleared, so it does not drag the anchor back."""
    module = net.module_
    with torch.no_grad():
        module.anchors.copy_(torch.as_tensor(anchors, dtype=module.anchors.dtype))
    state = net.optimizer_.state.get(module.anchors, {}) if hasattr(net, "optimizer_") else {}
    for name in ("exp_avg", "momentum_buffer"):
        if name in state:
            state[name][list(moved)] = 0.0


# Closest partners per sample whose edges join anchors in the merge to
# n_clusters (merge_anchors): the closest are the purest (the Nebula guide
# has the measurements).
MERGE_PARTNERS = 3
# Rows of the partner table whose anchors are counted at once (partner_links).
LINK_ROWS = 65536


def partner_links(nearest, neighbours, n_anchors, partner_anchor=None, rows=LINK_ROWS):
    """Partner edges between the members of every two anchors.

    Parameters
    ----------
    nearest : ndarray of shape (n_rows,)
        Anchor of each row of the partner table.
    neighbours : ndarray of shape (n_rows, n_partners)
        The partner table: row ``i`` holds the indices of sample ``i``'s
        partners.
    n_anchors : int
        Number of anchors.
    partner_anchor : ndarray of shape (n_indexed,), default=None
        Anchor of each row that the table indexes, when those are not the
        table's own rows (pooled partners, data-parallel); None: ``nearest``.
    rows : int, default=LINK_ROWS
        Rows counted at once, so that no temporary is as large as the table.

    Returns
    -------
    links : ndarray of shape (n_anchors, n_anchors)
        ``links[a, b]`` counts the partners owned by anchor ``b`` of the
        samples owned by anchor ``a`` (not symmetric).
    """
    nearest = np.asarray(nearest, dtype=np.intp)
    theirs_of = nearest if partner_anchor is None else np.asarray(partner_anchor, np.intp)
    links = np.zeros(n_anchors * n_anchors, dtype=np.int64)
    for start in range(0, len(nearest), rows):
        block = np.asarray(neighbours[start : start + rows])
        own = np.repeat(nearest[start : start + rows], block.shape[1])
        links += np.bincount(own * n_anchors + theirs_of[block].ravel(),
                             minlength=n_anchors * n_anchors)
    return links.reshape(n_anchors, n_anchors)


def _group_modularity(links, shares, groups, n_groups):
    """Modularity of ``groups`` (labels of the nodes) on the symmetric
    node graph ``links`` (normalised to sum 1) with node ``shares``."""
    onehot = np.eye(n_groups)[groups]
    within = np.trace(onehot.T @ links @ onehot)
    return float(within - ((shares @ onehot) ** 2).sum())


def _refine_groups(links, shares, groups, n_groups):
    """Move single nodes between groups while a move raises the modularity
    and leaves no group empty (a local search after the greedy joins)."""
    groups = groups.copy()
    for _ in range(10 * len(groups)):
        onehot = np.eye(n_groups)[groups]
        to_group = links @ onehot                 # link of each node to each group
        mass = shares @ onehot
        sizes = onehot.sum(0)
        # Gain of moving node v from its group g to group h:
        # 2 * (L[v, h] - L[v, g \ v]) - 2 * s_v * (S_h - (S_g - s_v)).
        own = to_group[np.arange(len(groups)), groups] - np.diag(links)
        own_mass = mass[groups] - shares
        gain = 2 * (to_group - own[:, None]) - 2 * shares[:, None] * (mass[None] - own_mass[:, None])
        gain[np.arange(len(groups)), groups] = 0.0
        gain[sizes[groups] == 1] = 0.0            # never empty a group
        v, h = np.unravel_index(np.argmax(gain), gain.shape)
        if gain[v, h] <= 1e-12:
            break
        groups[v] = h
    return groups


def modularity_merge_path(links, shares):
    """Greedy agglomeration of the nodes of a weighted graph by modularity.

    Starting from one group per node, the two groups whose join raises the
    modularity most (or lowers it least) are joined, until one is left
    (the agglomerative scheme of Clauset, Newman and Moore, 2004).

    Parameters
    ----------
    links : ndarray of shape (n_nodes, n_nodes)
        Edge weights between nodes (symmetrised here).
    shares : ndarray of shape (n_nodes,)
        Each node's share of the samples (the chance term's sizes).

    Returns
    -------
    path : list of ndarray of shape (n_nodes,)
        ``path[m - 1]`` labels the nodes with ``m`` groups (consecutive).
    """
    links = _symmetric(links)
    shares = np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum()
    n = len(shares)
    groups = np.arange(n)
    between, mass = links.copy(), shares.copy()
    alive = np.ones(n, dtype=bool)
    path = [None] * n
    path[n - 1] = groups.copy()
    for m in range(n - 1, 0, -1):
        gain = 2 * (between - np.outer(mass, mass))
        gain[~alive] = -np.inf
        gain[:, ~alive] = -np.inf
        np.fill_diagonal(gain, -np.inf)
        i, j = sorted(np.unravel_index(np.argmax(gain), gain.shape))
        groups[groups == j] = i
        between[i] += between[j]
        between[:, i] += between[:, j]
        mass[i] += mass[j]
        alive[j] = False
        path[m - 1] = np.unique(groups, return_inverse=True)[1]
    return path


def merge_anchors(counts, anchors, links=None, n_clusters=None, random_state=None, judge=None):
    """Cluster label of every anchor, consecutive from 0.

    Anchors that own samples are grouped: one group each when
    ``n_clusters`` is None (or not smaller than the anchors in use); else
    by the partner graph when ``links`` is given, by k-means of the anchor
    positions weighted by their mass without it. The partner graph's nodes
    are the anchors, its edges the partner pairs between their members
    (:func:`partner_links`); groups are joined greedily by modularity
    (:func:`modularity_merge_path`) down to ``n_clusters``, then single
    anchors move between groups while that raises the modularity. This is
    the modularity of the sample clustering on the partner graph
    (:func:`sknebula.metrics.graph_modularity`), computed on the anchors.
    ``n_clusters="auto"`` keeps, of the partitions so found for every
    number of groups, the one with the highest modularity on the graph
    ``judge`` (by default ``links``). An anchor that owns no sample joins
    the group of its nearest used anchor, so labels never have gaps.

    Parameters
    ----------
    counts : ndarray of shape (n_anchors,)
        Samples owned by each anchor.
    anchors : ndarray of shape (n_anchors, latent_dim)
        Anchor positions.
    links : ndarray of shape (n_anchors, n_anchors), default=None
        Partner edges between the anchors' members (:func:`partner_links`);
        None merges by position.
    n_clusters : int, "auto" or None, default=None
        Number of groups.
    random_state : int, default=None
        Seed of the k-means of the position merge.
    judge : ndarray of shape (n_anchors, n_anchors), default=None
        Edges between the anchors' members of the graph whose modularity
        chooses the number of groups for ``n_clusters="auto"``; None:
        ``links``.

    Returns
    -------
    labels : ndarray of shape (n_anchors,)
        Group of each anchor.
    """
    counts = np.asarray(counts)
    anchors = np.asarray(anchors, dtype=np.float64)
    used = np.flatnonzero(counts)
    if n_clusters is None or (n_clusters != "auto" and n_clusters >= len(used)):
        groups = np.arange(len(used))
    elif links is None:
        groups = _position_merge(anchors[used], counts[used], n_clusters, random_state)
    else:
        judge = links if judge is None else judge
        groups = _graph_merge(
            *(np.asarray(a)[np.ix_(used, used)] for a in (links, judge)), counts[used], n_clusters
        )
    labels = np.empty(len(counts), dtype=np.intp)
    labels[used] = groups
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        d = ((anchors[empty, None] - anchors[None, used]) ** 2).sum(-1)
        labels[empty] = groups[d.argmin(1)]
    return labels


@single_threaded
def _position_merge(anchors, counts, n_clusters, random_state):
    """k-means of the anchors weighted by their mass ("auto": one group each)."""
    if n_clusters == "auto":
        return np.arange(len(anchors))
    km = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    groups = km.fit_predict(anchors, sample_weight=counts)
    return np.unique(groups, return_inverse=True)[1]


def _symmetric(links):
    """``links + links.T``, normalised to sum 1."""
    links = np.asarray(links, dtype=np.float64)
    sym = links + links.T
    return sym / sym.sum() if sym.sum() > 0 else sym


def _graph_merge(links, judge, counts, n_clusters):
    """Groups of the anchors by modularity on their partner graph
    (the number of groups, for "auto", by modularity on ``judge``)."""
    sym = _symmetric(links)
    shares = counts / counts.sum()
    path = modularity_merge_path(links, counts)
    if n_clusters == "auto":
        refined = [_refine_groups(sym, shares, g, m + 1) for m, g in enumerate(path)]
        judged = _symmetric(judge)
        scores = [_group_modularity(judged, shares, g, m + 1) for m, g in enumerate(refined)]
        groups = refined[int(np.argmax(scores))]
    else:
        groups = _refine_groups(sym, shares, path[n_clusters - 1], n_clusters)
    return np.unique(groups, return_inverse=True)[1]
