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
