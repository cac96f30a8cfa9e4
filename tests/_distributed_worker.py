"""One rank of the data-parallel test (tests/test_distributed.py), run as
``torchrun --standalone --nproc_per_node 2 tests/_distributed_worker.py OUT``.

Each rank fits the clusterer on its own, unequal shard of four blobs and
saves the fitted estimator, its parameters after every epoch and its
training pairs; then refits briefly with no room to pool the partners.
"""

import pickle
import sys

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import make_blobs
from skorch.callbacks import Callback

from sknebula import NebulaVariationalClusterer, _nvc


class PairsLog(Callback):
    """The partner table and where the partners are drawn from."""

    def on_train_begin(self, net, X=None, **kwargs):
        self.pairs = dict(neighbours=X.neighbours.copy(), offset=X.offset,
                          pool_rows=None if X.pool is None else len(X.pool))


class ParameterLog(Callback):
    """Every parameter after every epoch: the ranks must agree before the
    final broadcast, which would hide unsynchronised training."""

    def initialize(self):
        self.epochs = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs.append(
            torch.cat([p.detach().reshape(-1) for p in net.module_.parameters()]).numpy().copy()
        )


def main(out):
    dist.init_process_group("gloo")
    torch.set_num_threads(1)
    rank = dist.get_rank()
    X, _ = make_blobs(n_samples=500, centers=4, n_features=8, random_state=0)
    shard = X[:300] if rank == 0 else X[300:]  # unequal shards: 300 and 200
    params = dict(hidden_dims=(32,), latent_dim=3, batch_size=64, random_state=0)
    # 6 anchors merged to the 4 blobs by the partner edges of both ranks.
    est = NebulaVariationalClusterer(
        **params, n_anchors=6, n_clusters=4, max_epochs=20, n_init=2,
        callbacks=[("log", ParameterLog()), ("pairs", PairsLog())],
    ).fit(shard)
    callbacks = dict(est.net_.callbacks_)
    # Data larger than the pool may hold: partners from the rank's own rows.
    _nvc.POOL_BYTES = 0
    unpooled = NebulaVariationalClusterer(
        **params, n_anchors=4, n_clusters=3, max_epochs=2, callbacks=[("pairs", PairsLog())]
    ).fit(shard)
    with open(f"{out}/rank{rank}.pkl", "wb") as f:
        pickle.dump({"estimator": est, "epochs": np.stack(callbacks["log"].epochs),
                     "pairs": callbacks["pairs"].pairs,
                     "unpooled_pairs": dict(unpooled.net_.callbacks_)["pairs"].pairs,
                     "unpooled_anchor_labels": unpooled.anchor_labels_}, f)
    dist.barrier()  # a rank that leaves while another works aborts gloo
    dist.destroy_process_group()


if __name__ == "__main__":
    # Through the module, so that the pickles name ParameterLog by an
    # importable module rather than __main__.
    from _distributed_worker import main

    main(sys.argv[1])
