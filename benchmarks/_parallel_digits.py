"""digits at the clusterer's defaults, in one process or as one rank of a
torchrun job (benchmarks/throughput.py runs both):

    python benchmarks/_parallel_digits.py OUT SEED [--smoke] [--shard]
    torchrun --standalone --nproc_per_node 2 benchmarks/_parallel_digits.py OUT SEED

Under torchrun each rank fits its half of the rows (one torch thread per
rank; with BACKEND=nccl in the environment, one GPU per rank); alone, the
process fits all rows with two threads, or with --shard only rank 0's half
(the control: what one rank's data and partners reach alone). Rank 0 (or the
single process) writes OUT/result.json: epochs, fit seconds, and the
accuracy of the fitted model's predict on all digits.
"""

import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy


def main(out, seed, smoke=False, shard=False):
    parallel = "WORLD_SIZE" in os.environ
    device = "cpu"
    if parallel:
        backend = os.environ.get("BACKEND", "gloo")
        if backend == "nccl":
            device = f"cuda:{os.environ['LOCAL_RANK']}"
            torch.cuda.set_device(device)
        dist.init_process_group(backend)
        torch.set_num_threads(1)
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        torch.set_num_threads(2)
        rank, world = 0, 2 if shard else 1
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if smoke:  # the path, not the result: a third of the digits, 4 epochs
        X, y = X[:600], y[:600]
    params = dict(max_epochs=4) if smoke else {}
    params["device"] = device if parallel else "auto"
    start = time.perf_counter()
    est = NebulaVariationalClusterer(n_anchors=10, random_state=seed, **params).fit(X[rank::world])
    fit_s = time.perf_counter() - start
    if rank == 0:
        labels = est.predict(X)
        result = dict(epochs=est.n_epochs_, fit_s=fit_s, acc=clustering_accuracy(y, labels),
                      clusters=len(np.unique(labels)))
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump(result, f)
    if parallel:
        dist.barrier()  # a rank that leaves while another works aborts gloo
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), "--smoke" in sys.argv, "--shard" in sys.argv)
