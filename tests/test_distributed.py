"""Data-parallel training on torch.distributed: two gloo ranks on CPU, each
fitting its own shard, train one model."""

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from sknebula import LabelDisentangledVAE, VariationalJointEmbedding, VariationalSimSiam
from sknebula import _distributed

WORKER = Path(__file__).with_name("_distributed_worker.py")

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(), reason="no gloo backend"
)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc_per_node", "2", str(WORKER), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode:
        # torchrun --standalone picks a free port, which another process can
        # take before the rendezvous binds it: one retry, and say so.
        warnings.warn(f"torchrun failed once, retrying: {done.stderr[-1000:]}")
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = []
    for rank in (0, 1):
        with open(out / f"rank{rank}.pkl", "rb") as f:
            runs.append(pickle.load(f))
    return runs


def test_ranks_train_one_model_step_by_step(ranks):
    first, second = ranks
    # After every epoch, not only at the end (where rank 0's state is sent),
    # of the anchor phase of the restart that both kept of two (15 of the 20
    # epochs are the warm-up, a net of its own).
    assert first["estimator"].n_init_ == second["estimator"].n_init_ == 2
    assert first["epochs"].shape[0] == 5
    np.testing.assert_array_equal(first["epochs"], second["epochs"])
    # And the parameters moved: training happened.
    assert np.abs(first["epochs"][-1] - first["epochs"][0]).max() > 1e-3


def test_ranks_end_with_the_same_fitted_model(ranks):
    a, b = ranks[0]["estimator"], ranks[1]["estimator"]
    np.testing.assert_array_equal(a.anchors_, b.anchors_)
    np.testing.assert_array_equal(a.anchor_labels_, b.anchor_labels_)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    # Anchors merged by the partner edges of both ranks, pooled (6 to 4)
    # or each rank's own (4 to 3).
    assert a.n_anchors_ == 6 and a.n_clusters_ == b.n_clusters_ == 4
    unpooled = [r["unpooled_anchor_labels"] for r in ranks]
    np.testing.assert_array_equal(unpooled[0], unpooled[1])
    assert len(np.unique(unpooled[0])) == 3
    assert a.n_epochs_ == b.n_epochs_ == 20
    # Unequal shards (300 and 200 rows) take the same steps per epoch.
    assert len(a.history_[-1, "batches"]) == len(b.history_[-1, "batches"])
    assert (len(a.labels_), len(b.labels_)) == (300, 200)
    # The cluster weights count the samples of both ranks.
    np.testing.assert_allclose(a.weights_ * 500, np.round(a.weights_ * 500))


def test_partners_are_drawn_from_the_rows_of_every_rank(ranks):
    X, _ = make_blobs(n_samples=500, centers=4, n_features=8, random_state=0)
    X = X.astype(np.float32)
    # As one process would: each row's partners among all 500 rows.
    every = ranks[0]["estimator"]._neighbours(X)
    for rank, (start, stop) in enumerate([(0, 300), (300, 500)]):
        pairs = ranks[rank]["pairs"]
        assert (pairs["offset"], pairs["pool_rows"]) == (start, 500)
        np.testing.assert_array_equal(pairs["neighbours"], every[start:stop])
    # Blob members sit on both shards, so some partners cross over.
    assert (ranks[1]["pairs"]["neighbours"] < 300).any()


def test_partners_stay_in_the_shard_where_the_pool_would_not_fit(ranks):
    for rank, n_rows in enumerate([300, 200]):
        pairs = ranks[rank]["unpooled_pairs"]
        assert pairs["offset"] is None and pairs["pool_rows"] is None
        assert pairs["neighbours"].max() < n_rows


def test_the_model_of_either_rank_clusters_all_the_data(ranks):
    X, y = make_blobs(n_samples=500, centers=4, n_features=8, random_state=0)
    a, b = ranks[0]["estimator"], ranks[1]["estimator"]
    labels = a.predict(X)
    np.testing.assert_array_equal(labels, b.predict(X))
    assert adjusted_rand_score(y, labels) > 0.9


@pytest.mark.parametrize("make", [
    VariationalSimSiam, VariationalJointEmbedding,
    lambda: LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2),
])
def test_estimators_without_data_parallel_training_refuse(monkeypatch, make):
    monkeypatch.setattr(_distributed, "is_active", lambda: True)
    X, y = make_blobs(n_samples=40, centers=2, n_features=4, random_state=0)
    with pytest.raises(NotImplementedError, match="data-parallel"):
        make().fit(X, y)
