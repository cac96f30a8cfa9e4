"""Training cost that grows linearly with n: epochs from a sample budget,
approximate neighbour search, and data read from a memory map."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from skorch.callbacks import Callback

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)
from sknebula import _base, _data
from sknebula._base import (
    MAX_AUTO_BATCH,
    MIN_AUTO_BATCH,
    MIN_AUTO_EPOCHS,
    SAMPLE_BUDGET,
    auto_batch,
    auto_epochs,
    auto_restarts,
)
from sknebula._data import neighbour_table
from sknebula._nvc import NebulaBase

SMALL = dict(hidden_dims=(16,), latent_dim=2, random_state=0)


def _blobs(n=120, seed=0):
    X, y = make_blobs(n_samples=n, centers=3, n_features=6, random_state=seed)
    return X.astype(np.float32), y


def test_auto_epochs_full_passes_on_small_data_then_a_sample_budget():
    assert auto_epochs(1797, 80) == 80
    assert auto_epochs(SAMPLE_BUDGET // 80, 80) == 80
    # Beyond that, the samples seen stay at the budget: cost stops growing.
    for n in (30_000, 100_000):
        epochs = auto_epochs(n, 80)
        assert epochs < 80
        assert SAMPLE_BUDGET <= epochs * n < SAMPLE_BUDGET + n
    assert auto_epochs(10**7, 80) == MIN_AUTO_EPOCHS
    assert auto_epochs(10, 100) == 100


def test_auto_epochs_train_at_least_the_step_floor_on_small_data():
    # 150 samples fit in one batch of 512: one step an epoch.
    assert auto_epochs(150, 80, batch_size=512, min_steps=320) == 320
    assert auto_epochs(1200, 80, batch_size=512, min_steps=320) == 107  # 3 steps an epoch
    # Where the passes already make the steps, the floor changes nothing.
    assert auto_epochs(1797, 80, batch_size=512, min_steps=320) == 80
    assert auto_epochs(10**6, 80, batch_size=512, min_steps=320) == MIN_AUTO_EPOCHS
    # Data-parallel, two ranks of 899 rows step through an epoch of digits in
    # two batches each: as many epochs as make the floor on those steps.
    assert auto_epochs(1797, 80, batch_size=512, min_steps=320, epoch_rows=899) == 160


def test_auto_batch_makes_the_step_floor_in_the_passes_on_small_data():
    # Where 80 passes at the largest batch make the 320 steps, it stays.
    assert auto_batch(1797, 80, 320) == MAX_AUTO_BATCH
    assert auto_batch(10**6, 80, 320) == MAX_AUTO_BATCH
    # Below, the batch that makes them in 80 passes: n / 4, rounded up...
    for n in (1200, 640, 442, 256):
        batch = auto_batch(n, 80, 320)
        assert batch == -(-n // 4)
        assert auto_epochs(n, 80, batch_size=batch, min_steps=320) == 80
    # ... but never below the smallest batch, where the floor adds passes.
    assert auto_batch(150, 80, 320) == MIN_AUTO_BATCH
    assert auto_epochs(150, 80, batch_size=MIN_AUTO_BATCH, min_steps=320) == 107
    # Data-parallel, the largest shard's rows set the steps of an epoch.
    assert auto_batch(899, 80, 320) == 225


@pytest.mark.parametrize("make", [NebulaVariationalClusterer, NebulaAutoencoder])
def test_batch_size_auto_is_resolved_at_fit_and_an_integer_kept(make, monkeypatch):
    X, _ = _blobs()
    params = {k: v for k, v in SMALL.items() if k not in ("batch_size", "max_epochs")}
    # A tenth of the passes and steps (80 and 320, whose arithmetic the tests
    # above check), so that the fit at the defaults stays cheap; 8 passes in
    # the smallest batch make 16 steps, so the floor of steps adds epochs.
    monkeypatch.setattr(NebulaBase, "_full_passes", 8)
    monkeypatch.setattr(NebulaBase, "_min_steps", 32)
    est = make(n_anchors=3, **params).fit(X)
    assert est.batch_size == "auto"  # the parameter is left as given
    assert est.batch_size_ == MIN_AUTO_BATCH and est.n_epochs_ == auto_epochs(
        len(X), 8, batch_size=MIN_AUTO_BATCH, min_steps=32) == 16
    # Whoever fixes the epochs fixes the cost: no smaller batches then.
    assert make(n_anchors=3, max_epochs=2, **params).fit(X).batch_size_ == MAX_AUTO_BATCH
    est = make(n_anchors=3, batch_size=32, max_epochs=2, **params).fit(X)
    assert est.batch_size_ == 32
    # Each epoch stepped through the data in batches of 32.
    assert [b["train_batch_size"] for b in est.history_[-1, "batches"]] == [32, 32, 32, 24]


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: NebulaVariationalClusterer(n_anchors=3, **kw),
        lambda **kw: NebulaAutoencoder(n_anchors=3, **kw),
        VariationalSimSiam,
        VariationalJointEmbedding,
        lambda **kw: LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2, **kw),
    ],
)
def test_max_epochs_auto_trains_the_budgeted_epochs(monkeypatch, make):
    X, y = _blobs()
    params = dict(SMALL)
    if "relevant_dim" in make().get_params():
        params.pop("latent_dim")  # the disentangled VAE sizes two latents
    # A budget of 6 passes over these 120 samples: "auto" must train 6 epochs
    # (without the Nebula estimators' floor of steps, which would add more).
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", 6 * len(X))
    monkeypatch.setattr(NebulaBase, "_min_steps", 0)
    est = make(**params).fit(X, y)
    assert est.max_epochs == "auto"  # the parameter is left as given
    assert est.n_epochs_ == 6 == len(est.history_)
    est = make(**params, max_epochs=5).fit(X, y)
    assert est.n_epochs_ == 5 == len(est.history_)


def test_auto_restarts_fit_in_the_sample_budget():
    for n in (80, 1797, 17_000):
        epochs = auto_epochs(n, 80)
        assert auto_restarts(n, epochs, 0.75) == 3
        # One shared warm-up (75%) and three anchor phases (25% each).
        assert n * epochs * (0.75 + 3 * 0.25) <= SAMPLE_BUDGET
    # Without a shared warm-up, each restart is a whole fit.
    assert auto_restarts(8000, 80) == 3 and auto_restarts(9000, 80) == 2
    # Once epochs come from the budget, one fit spends it all: large data
    # costs what it cost without restarts.
    for n in (30_000, 10**6):
        assert auto_restarts(n, auto_epochs(n, 80), 0.75) == 1


class _CountFits(Callback):
    fits = []

    def on_train_begin(self, net, **kwargs):
        self.fits.append(net)


@pytest.mark.parametrize("restarts", [2, 3])
def test_n_init_auto_restarts_as_often_as_the_budget_holds(monkeypatch, restarts):
    X, _ = _blobs()
    # 8 passes over small data (6 of warm-up), and a budget of the warm-up
    # and `restarts` anchor phases of 2 passes.
    monkeypatch.setattr(NebulaVariationalClusterer, "_full_passes", 8)
    monkeypatch.setattr(NebulaVariationalClusterer, "_min_steps", 0)
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", (6 + 2 * restarts) * len(X))
    _CountFits.fits.clear()
    est = NebulaVariationalClusterer(n_anchors=3, callbacks=[_CountFits()], **SMALL).fit(X)
    assert est.n_init == "auto"  # the parameter is left as given
    assert (est.n_epochs_, est.n_init_) == (8, restarts)
    # One warm-up net, then one net per restart of the anchor phase.
    assert len(_CountFits.fits) == 1 + restarts
    assert est.net_ in _CountFits.fits[1:]
    assert len(est.history_) == 8


def _weights(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_restarts_start_from_one_shared_warm_up(monkeypatch):
    X, _ = _blobs()
    warmed, starts, restarts = [], [], []
    warm_up, anchor_phase = NebulaBase._warm_up, NebulaBase._anchor_phase

    def record_warm_up(self, *args):
        warm = warm_up(self, *args)
        warmed.append(_weights(warm.module_))
        return warm

    def record(self, module, *args):
        starts.append(_weights(module))
        restarts.append(anchor_phase(self, module, *args))
        return restarts[-1]

    monkeypatch.setattr(NebulaBase, "_warm_up", record_warm_up)
    monkeypatch.setattr(NebulaBase, "_anchor_phase", record)
    est = NebulaVariationalClusterer(n_anchors=3, max_epochs=8, n_init=3, **SMALL).fit(X)
    # One warm-up, and every restart starts from its weights.
    assert len(warmed) == 1 and len(starts) == 3
    assert all(_same(warmed[0], start) for start in starts)
    # The restarts then differ (seeds of the placement and of the draws),
    # and the kept net is one of them, trained on from the warm-up's weights.
    ends = [_weights(r.net.module_) for r in restarts]
    assert not any(_same(ends[i], ends[j]) for i in range(3) for j in range(i + 1, 3))
    assert any(est.net_ is r.net for r in restarts)
    assert not _same(warmed[0], _weights(est.net_.module_))


def test_n_init_auto_restarts_once_when_the_epochs_are_fixed():
    X, _ = _blobs()
    est = NebulaVariationalClusterer(n_anchors=3, max_epochs=3, **SMALL).fit(X)
    assert est.n_init_ == 1
    assert NebulaVariationalClusterer(n_anchors=3, max_epochs=3, n_init=2, **SMALL).fit(X).n_init_ == 2
    assert NebulaAutoencoder(n_anchors=3, max_epochs=3, **SMALL).fit(X).n_init_ == 1


def test_auto_warmup_is_a_share_of_the_epochs_trained(monkeypatch):
    X, _ = _blobs()
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", 10 * len(X))
    monkeypatch.setattr(NebulaBase, "_min_steps", 0)
    est = NebulaVariationalClusterer(n_anchors=3, n_neighbors=5, **SMALL).fit(X)
    # The anchor terms start when the anchors are placed, at 75%.
    warm = [epoch for epoch in est.history_ if "train_kl" not in epoch]
    assert est.n_epochs_ == 10 and len(warm) == 7
    assert [e["epoch"] for e in est.history_] == list(range(1, 11))


def test_warmup_longer_than_the_auto_epochs_is_refused(monkeypatch):
    X, _ = _blobs()
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", 5 * len(X))
    monkeypatch.setattr(NebulaBase, "_min_steps", 0)
    est = NebulaVariationalClusterer(n_anchors=3, warmup_epochs=8, **SMALL)
    with pytest.raises(ValueError, match=r"warmup_epochs=8 must be smaller than the 5"):
        est.fit(X)


# ------------------------------------------------------------ neighbour search
needs_faiss = pytest.mark.skipif(_data._faiss() is None, reason="faiss-cpu not installed")


def _recall(found, exact):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)])


@needs_faiss
def test_hnsw_finds_the_exact_neighbours_reproducibly():
    X, _ = make_blobs(n_samples=2000, centers=5, n_features=16, random_state=0)
    exact = neighbour_table(X, 10, algorithm="exact")
    approx = neighbour_table(X, 10, algorithm="hnsw")
    assert approx.shape == exact.shape == (2000, 10) and approx.dtype == np.int32
    assert not (approx == np.arange(2000)[:, None]).any()  # never the sample itself
    assert _recall(approx, exact) > 0.9
    np.testing.assert_array_equal(approx, neighbour_table(X, 10, algorithm="hnsw"))


def test_auto_search_is_exact_on_small_data_and_approximate_beyond(monkeypatch):
    X, _ = _blobs(200)
    calls = []

    def spy(flat, k, each, queries):
        calls.append(k)
        return each(_data.NearestNeighbors(n_neighbors=k).fit(flat).kneighbors(
            flat[queries], return_distance=False), queries.start)

    monkeypatch.setattr(_data, "hnsw_search", spy)
    monkeypatch.setattr(_data, "_faiss", lambda: object())
    neighbour_table(X, 5)
    assert calls == []
    monkeypatch.setattr(_data, "EXACT_SEARCH_MAX", 100)
    neighbour_table(X, 5)
    assert calls == [6]
    # Sparse descriptors (token n-grams) stay exact.
    neighbour_table(X, 5, features=sp.csr_matrix)
    assert calls == [6]


def test_auto_search_without_faiss_warns_and_searches_exactly(monkeypatch):
    X, _ = _blobs(200)
    monkeypatch.setattr(_data, "_faiss", lambda: None)
    monkeypatch.setattr(_data, "EXACT_SEARCH_MAX", 100)
    with pytest.warns(UserWarning, match="install faiss-cpu"):
        table = neighbour_table(X, 5)
    np.testing.assert_array_equal(table, neighbour_table(X, 5, algorithm="exact"))


def test_hnsw_without_faiss_is_refused_before_training(monkeypatch):
    monkeypatch.setattr(_data, "_faiss", lambda: None)
    for est in (NebulaVariationalClusterer(neighbors_algorithm="hnsw"),
                VariationalSimSiam(neighbors_algorithm="hnsw")):
        with pytest.raises(ImportError, match="pip install faiss-cpu"):
            est.fit(_blobs()[0])
        assert not hasattr(est, "net_")


@pytest.mark.parametrize("algorithm", ["exact", pytest.param("hnsw", marks=needs_faiss)])
def test_a_slice_of_queries_gets_its_rows_of_the_whole_table(algorithm):
    # Data-parallel ranks each search their own rows among the pooled rows.
    X, _ = make_blobs(n_samples=600, centers=4, n_features=8, random_state=2)
    X = X.astype(np.float32)
    whole = neighbour_table(X, 7, algorithm=algorithm)
    for rows in (slice(0, 250), slice(250, 600), slice(590, 600)):
        part = neighbour_table(X, 7, algorithm=algorithm, queries=rows)
        np.testing.assert_array_equal(part, whole[rows])
    # Partners still come from every row, not only the queried ones.
    assert (neighbour_table(X, 7, algorithm=algorithm, queries=slice(250, 600)) < 250).any()


def test_drop_self_keeps_k_neighbours_whatever_the_search_returned():
    idx = np.array([[0, 3, 2], [0, 1, 2], [2, -1, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(_data._drop_self(idx, 2), [[3, 2], [0, 2], [2, 2], [3, 3]])


@needs_faiss
def test_estimators_train_on_hnsw_partners():
    X, y = _blobs(300)
    est = NebulaVariationalClusterer(n_anchors=3, neighbors_algorithm="hnsw", max_epochs=30,
                                     **SMALL).fit(X)
    assert len(np.unique(est.labels_)) == 3
    assert adjusted_rand_score(y, est.labels_) > 0.9


# ------------------------------------------------------------------ memory maps
class _SeeTrainingData(Callback):
    """Keeps what the net trains on, to check it is the user's memory map."""

    seen = []

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        type(self).seen.append(X.X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_trains_from_a_memory_map_without_loading_it(tmp_path, dtype, monkeypatch):
    X, _ = _blobs(300)
    path = tmp_path / "X.npy"
    np.save(path, X.astype(dtype))
    mapped = np.load(path, mmap_mode="r")
    # torch has no read-only tensors: the map's memory must reach it only
    # through copies of the rows a batch gathers.
    wrapped_read_only = []
    for name in ("from_numpy", "as_tensor"):
        def watch(a, *args, _wrap=getattr(torch, name), **kwargs):
            if isinstance(a, np.ndarray) and not a.flags.writeable:
                wrapped_read_only.append(a.shape)
            return _wrap(a, *args, **kwargs)
        monkeypatch.setattr(torch, name, watch)
    _SeeTrainingData.seen.clear()
    params = dict(n_anchors=3, max_epochs=6, callbacks=[_SeeTrainingData()], **SMALL)
    est = NebulaVariationalClusterer(**params).fit(mapped)
    np.testing.assert_array_equal(est.predict(mapped), est.labels_)
    assert wrapped_read_only == []
    in_memory = NebulaVariationalClusterer(**params).fit(X.astype(dtype))
    np.testing.assert_array_equal(est.labels_, in_memory.labels_)
    if dtype == np.float32:  # trained from the map's pages, not a copy
        assert np.shares_memory(_SeeTrainingData.seen[0], mapped)


@needs_faiss
def test_hnsw_search_in_chunks_gives_the_whole_table():
    X, _ = make_blobs(n_samples=1000, centers=3, n_features=8, random_state=1)
    X = X.astype(np.float32)
    whole = _data.hnsw_search(X, 6)
    firsts = []
    chunked = _data.hnsw_search(X, 6, chunk=128,
                                each=lambda idx, first: firsts.append(first) or idx)
    np.testing.assert_array_equal(whole, chunked)
    assert firsts == list(range(0, 1000, 128))


def test_batch_terms_wait_for_no_accelerator_and_keep_no_tensors_on_cpu():
    # On an accelerator a batch term stays a tensor until the epoch ends
    # (reading it would wait for the device); on the CPU it is a float at
    # once, since small tensors kept between the steps fragment the heap.
    from sknebula._net import _batch_term

    assert isinstance(_batch_term(torch.tensor(1.5, device="meta")), torch.Tensor)
    X = np.random.default_rng(0).random((64, 4))
    est = NebulaVariationalClusterer(n_anchors=2, max_epochs=3, batch_size=16,
                                     random_state=0).fit(X)
    terms = [v for b in est.history_[-1, "batches"] for k, v in b.items()
             if k not in ("train_loss", "train_batch_size")]
    assert terms and all(type(v) is float for v in terms)
    assert np.isfinite(est.history_[-1, "train_kl"])


def test_term_averager_reads_kept_tensors_once_and_weighs_by_batch():
    # Accelerator terms arrive as tensors, CPU terms as floats: both end as
    # floats, and the epoch entry is their mean weighted by batch size.
    from types import SimpleNamespace

    from skorch.history import History

    from sknebula._callbacks import TermAverager

    history = History()
    history.new_epoch()
    for size, kl in [(4, torch.tensor(1.0)), (2, torch.tensor(4.0)), (2, 0.5)]:
        history.new_batch()
        history.record_batch("train_batch_size", size)
        history.record_batch("kl", kl)
    TermAverager().on_epoch_end(SimpleNamespace(history=history))
    kept = [b["kl"] for b in history[-1, "batches"]]
    assert kept == [1.0, 4.0, 0.5] and all(type(v) is float for v in kept)
    assert history[-1, "train_kl"] == pytest.approx((4 * 1.0 + 2 * 4.0 + 2 * 0.5) / 8)
