"""Training datasets: samples paired with a neighbour, drawn each step."""

import functools
import threading
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits
from torch.utils.data import BatchSampler, DataLoader, RandomSampler

from ._partners import PartnerSource


# Above this many samples, "auto" searches neighbours approximately: the
# exact search grows as n^2 (times in the scaling guide).
EXACT_SEARCH_MAX = 50_000
NEIGHBOR_ALGORITHMS = ("auto", "exact", "hnsw")
# HNSW graph degree and beam widths (their recall against the exact search
# is in the scaling guide and benchmarks.throughput).
_HNSW_DEGREE = 32
_HNSW_BUILD_BEAM = 64
# A partner distance other than the Euclidean ranks this many times the
# neighbours asked for (at least RERANK_MIN), pre-filtered by the Euclidean
# search; RERANK_PAIRS pairs are compared at a time.
RERANK_CANDIDATES = 5
RERANK_MIN = 50
RERANK_PAIRS = 100_000


NEIGHBORS_ALGORITHM_PARAM_DOC = """    neighbors_algorithm : {"auto", "exact", "hnsw"}, default="auto"
        How the nearest neighbours are searched. "exact" is scikit-learn's
        ``NearestNeighbors``, whose cost grows as ``n_samples**2``; "hnsw"
        an approximate search on a faiss HNSW graph (``pip install
        faiss-cpu``), about linear in ``n_samples`` and 95% of the exact
        neighbours on 100,000 64-dimensional blobs; "auto" is exact up to
        50,000 samples (and for sparse descriptors) and "hnsw" beyond,
        warning and searching exactly when faiss is not installed.
"""


def single_threaded(function):
    """Run ``function`` with every BLAS and OpenMP pool at one thread.

    scikit-learn's neighbour search and k-means take their thread count from
    an OpenMP runtime that torch shares or not depending on which library
    was imported first (and that ``torch.set_num_threads`` may set); with
    another count they order tied neighbours (common in integer-valued
    data such as pixels) and sum differently, and a fit reached another
    solution. On one thread the result is the same either way.
    """

    @functools.wraps(function)
    def on_one_thread(*args, **kwargs):
        # Already on one thread (a single-threaded function calling
        # another): setting the limits again would change nothing, and
        # threadpool_limits reads the process's loaded libraries each time.
        if getattr(_ONE_THREAD, "depth", 0):
            return function(*args, **kwargs)
        with threadpool_limits(limits=1):
            _ONE_THREAD.depth = 1
            try:
                return function(*args, **kwargs)
            finally:
                _ONE_THREAD.depth = 0

    return on_one_thread


# Whether this thread runs inside single_threaded (threads of a threaded
# search each set the limits themselves, as before).
_ONE_THREAD = threading.local()


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def check_neighbors_algorithm(algorithm):
    """Refuse "hnsw" up front when faiss is missing."""
    if algorithm == "hnsw" and _faiss() is None:
        raise ImportError(
            "neighbors_algorithm='hnsw' needs faiss: pip install faiss-cpu "
            "(or the 'scale' extra, pip install sknebula[scale])."
        )


def _uses_hnsw(algorithm, flat):
    if algorithm != "auto":
        return algorithm == "hnsw"
    if sp.issparse(flat) or flat.shape[0] <= EXACT_SEARCH_MAX:
        return False
    if _faiss() is None:
        warnings.warn(
            f"Exact neighbour search on {flat.shape[0]:,} samples, which grows as n^2; "
            "install faiss-cpu (pip install sknebula[scale]) for the approximate "
            "search that neighbors_algorithm='auto' uses above "
            f"{EXACT_SEARCH_MAX:,} samples.",
            UserWarning,
        )
        return False
    return True


def hnsw_search(flat, k, chunk=100_000, each=None, queries=None):
    """The ``k`` approximate nearest rows of every row (itself usually first),
    or of the rows in the slice ``queries``, by a faiss HNSW graph of all
    rows; -1 where fewer were found.

    The graph is built on one thread, since a parallel build inserts rows in
    an order that varies between runs; the search is parallel and exact
    given the graph, so the table is reproducible. Rows are searched in
    chunks, each passed through ``each(result, first_row)`` when given, so
    that a million rows never hold a whole int64 result (170 MB).
    """
    faiss = _faiss()
    flat = np.ascontiguousarray(flat, dtype=np.float32)
    threads = torch.get_num_threads()
    index = faiss.IndexHNSWFlat(flat.shape[1], _HNSW_DEGREE)
    index.hnsw.efConstruction = _HNSW_BUILD_BEAM
    faiss.omp_set_num_threads(1)
    try:
        index.add(flat)
    finally:
        faiss.omp_set_num_threads(threads)
    index.hnsw.efSearch = max(_HNSW_BUILD_BEAM, 2 * k)
    each = each or (lambda found, first_row: found)
    first, stop, _ = (queries or slice(None)).indices(len(flat))
    return np.concatenate([
        each(index.search(flat[start : min(start + chunk, stop)], k)[1], start)
        for start in range(first, stop, chunk)
    ])


def _index_dtype(n):
    """The smallest signed integer dtype that holds row indices up to n."""
    return np.int32 if n < 2**31 else np.int64


def _drop_self(idx, k, first_row=0, n_rows=None):
    """``idx`` (the rows from ``first_row`` on of a table of ``n_rows``)
    without each row's own index and misses (-1), ``k`` columns; a row left
    with fewer repeats its nearest found neighbour."""
    idx = idx.astype(_index_dtype(n_rows or len(idx)), copy=False)
    own = np.arange(first_row, first_row + len(idx), dtype=idx.dtype)[:, None]
    valid = (idx != own) & (idx >= 0)
    # A stable sort moves the valid entries first, in their order.
    order = np.argsort(~valid, axis=1, kind="stable")[:, :k].astype(idx.dtype)
    picked = np.take_along_axis(idx, order, axis=1)
    found = np.take_along_axis(valid, order, axis=1)
    picked = np.where(found, picked, picked[:, :1])
    if not found[:, 0].all():  # a row with no neighbour at all: itself
        picked[~found[:, 0]] = own[~found[:, 0]]
    return picked


def neighbour_table(X, n_neighbors, features=None, algorithm="auto", queries=None,
                    distance=None):
    """Indices of the ``n_neighbors`` nearest other rows of each sample.

    Distances are Euclidean on ``features(X)``, by default the flattened
    input. With ``distance`` (paired samples -> distances, as
    :func:`sknebula.series.paired_sbd`), the Euclidean search only
    pre-filters ``RERANK_CANDIDATES`` times as many candidates (at least
    ``RERANK_MIN``), which ``distance`` then ranks: linear in the number of
    samples, where an all-pairs search by a costly distance is quadratic. ``algorithm`` is "exact" (scikit-learn's NearestNeighbors),
    "hnsw" (approximate, faiss) or "auto" (exact up to 50,000 samples).
    ``queries``, a slice of rows, limits the search to those rows'
    neighbours (still among all rows): data-parallel ranks thus split the
    search over pooled rows rather than each repeating all of it.
    Returns an integer array (int32 below 2**31 rows) of shape
    ``(n_queries, k)`` with ``k = min(n_neighbors, n_samples - 1)``, or
    ``None`` when ``k`` is 0 (no partners).
    """
    k = min(n_neighbors, len(X) - 1)
    if k < 1:
        return None
    if distance is not None:
        n_candidates = max(RERANK_CANDIDATES * k, RERANK_MIN)
        candidates = neighbour_table(X, n_candidates, features, algorithm, queries)
        first = (queries or slice(None)).indices(len(X))[0]
        return rerank(X, candidates, k, distance, first)
    flat = X.reshape(len(X), -1) if features is None else features(X)
    n = flat.shape[0]
    queries = slice(*(queries or slice(None)).indices(n))
    # Each row's own index is usually first, not always (duplicates).
    if _uses_hnsw(algorithm, flat):
        return hnsw_search(flat, k + 1, queries=queries,
                           each=lambda idx, first: _drop_self(idx, k, first, n))
    return _drop_self(_exact_search(flat, k + 1, queries), k, queries.start, n)


def rerank(X, candidates, k, distance, first_row=0):
    """The ``k`` candidates nearest by ``distance`` for the rows of X from
    ``first_row`` on (row ``r`` of ``candidates`` holds indices of X)."""
    n_rows, n_candidates = candidates.shape
    rows_per_chunk = max(1, RERANK_PAIRS // n_candidates)
    picked = np.empty((n_rows, k), dtype=candidates.dtype)
    for start in range(0, n_rows, rows_per_chunk):
        block = candidates[start : start + rows_per_chunk]
        own = np.arange(first_row + start, first_row + start + len(block))
        d = np.asarray(
            distance(X[np.repeat(own, n_candidates)], X[block.ravel()]), dtype=np.float64
        ).reshape(block.shape)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        picked[start : start + len(block)] = np.take_along_axis(block, order, axis=1)
    return picked


@single_threaded
def _exact_search(flat, k, queries):
    return NearestNeighbors(n_neighbors=k).fit(flat).kneighbors(
        flat[queries], return_distance=False)


class _NumpyRows:
    """Row gathering, as tensors, from read-only memory (a memory map
    opened with mode "r"), which torch does not wrap."""

    def __init__(self, X):
        self.X = X

    def __getitem__(self, index):
        return torch.from_numpy(self.X[index.numpy()])


def _as_torch(X):
    return torch.from_numpy(X) if X.flags.writeable else _NumpyRows(X)


class NeighbourPairs(torch.utils.data.Dataset):
    """Yields ``({"x": X[i], "partner": positive of i}, Y[i])``, the
    positive drawn by a :class:`~sknebula._partners.PartnerSource` every time
    ``i`` is fetched: a random row of ``i``'s partner candidates
    ``neighbours``, through ``views`` (an augmentation drawn afresh for each
    positive; none when None). Without a table (``neighbours=None``) there
    is no partner.

    The candidates index the pool: X itself, or (data-parallel) the rows of
    every rank, X's own from row ``offset`` on. ``neighbours`` is also the
    graph the nebula estimators judge clusterings on; ``partners`` is only
    how positives are drawn. Indexing takes an array of indices, so whole
    batches are gathered in one call (see :func:`batch_loader`). Positives,
    and the batch order, are drawn from ``generator`` (torch's global one
    when None); the estimators set it while they train
    (:mod:`sknebula._random`).
    """

    generator = None

    def __init__(self, X, Y, neighbours, pool=None, offset=None, views=None):
        self.X = X
        self.Y = Y
        self.neighbours = neighbours
        self.pool = pool
        self.offset = offset
        self.views = views
        # Gathered by torch from a view of the array, which is faster between
        # the training steps than numpy's indexing and a conversion; read-only
        # arrays by numpy, batch by batch.
        self._rows = _as_torch(X)
        self._targets = self._rows if Y is X else _as_torch(Y)
        self.partners = None if neighbours is None else PartnerSource(
            self._rows if pool is None else _as_torch(pool), neighbours, views)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        index = torch.as_tensor(np.asarray(index))
        x = self._rows[index]
        inputs = {"x": x}
        if self.partners is not None:
            inputs["partner"] = self.partners.draw(index, self.generator)
        # The target is usually the input itself: gather it once.
        return inputs, x if self._targets is self._rows else self._targets[index]


class _StreamSampler(RandomSampler):
    """A RandomSampler that, each epoch, seeds its permutation from the
    dataset's ``generator`` (torch's global one when it has none), as
    RandomSampler does from the global generator: the same order for the
    same stream."""

    def __iter__(self):
        source = getattr(self.data_source, "generator", None)
        seed = int(torch.empty((), dtype=torch.int64).random_(generator=source).item())
        self.generator = torch.Generator().manual_seed(seed)
        return super().__iter__()


def batch_loader(dataset, batch_size, shuffle=True, epoch_samples=None, **kwargs):
    """A DataLoader that fetches whole batches with one indexing call.

    skorch builds it as ``iterator_train(dataset, batch_size=..., shuffle=...)``.
    ``epoch_samples`` (shuffled loaders only) sets the samples per epoch,
    which may exceed the dataset's (further permutations are appended):
    data-parallel ranks with shards of different sizes thus take the same
    number of steps.
    """
    if shuffle:
        sampler = _StreamSampler(dataset, num_samples=epoch_samples)
    else:
        sampler = range(len(dataset))
    batches = BatchSampler(sampler, batch_size, drop_last=False)
    # The loader draws a seed for its workers every epoch, even without
    # workers: from the dataset's generator too, so that training leaves
    # torch's global one alone.
    generator = getattr(dataset, "generator", None)
    return DataLoader(dataset, sampler=batches, batch_size=None, generator=generator, **kwargs)
