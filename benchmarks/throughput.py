"""Training cost against n, neighbour search, memory, data-parallel speed-up.

    python -m benchmarks.throughput            # writes results/throughput-<table>.md
    python -m benchmarks.throughput --smoke    # seconds; what the test suite runs

On synthetic rows (ten blobs, 64 features scaled to [0, 1]) and the
clusterer at its defaults (``max_epochs="auto"``, ``neighbors_algorithm="auto"``):

1. fit time against n, beside a plain PyTorch loop that does the same
   training (the same epochs, module, objective, partner draws, learning-rate
   schedule, anchor placement and re-seeding) without skorch: the ratio is
   skorch's overhead;
2. fit time, accuracy against KMeans, and peak memory at large n, each fit
   in a fresh process that reads the data from a memory map;
3. recall of the approximate (HNSW) neighbour search against exact search;
4. digits fitted in one process and data-parallel on two torchrun ranks.
"""

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch.optim.lr_scheduler import LambdaLR
from sklearn.datasets import make_blobs

from sknebula import NebulaVariationalClusterer
from sknebula._base import SAMPLE_BUDGET
from sknebula._callbacks import cosine_after_warmup
from sknebula._anchors import (
    init_anchors_from_data,
    relocate_starving_anchors,
    set_anchors,
    training_latents,
)
from sknebula._data import _faiss, hnsw_search, neighbour_table
from sknebula._nvc import STARVING_SHARE, WARMUP_SHARE, auto_neighbours
from sknebula.metrics import clustering_accuracy
from sknebula.nn import NebulaVAE, auto_hidden_dims, build_encoder_decoder
from sknebula.objectives.nebula import NebulaLoss

from ._common import markdown_table, write_result
from .front import samples_seen

HERE = Path(__file__).parent


def synthetic(n, seed=0):
    X, y = make_blobs(n_samples=n, centers=10, n_features=64, random_state=seed)
    return ((X - X.min()) / (X.max() - X.min())).astype(np.float32), y


def plain_torch_fit(X, neighbours, epochs, seed=0, batch_size=512, n_anchors=10, n_init=1,
                    device="cpu"):
    """The estimator's training at its defaults, written as a bare loop: one
    warm-up, then ``n_init`` anchor phases from copies of it."""
    torch.manual_seed(seed)
    enc, dec = build_encoder_decoder("mlp", X.shape[1:], X.shape[1:], 10,
                                     auto_hidden_dims("mlp", X.shape[1:]))
    module = NebulaVAE(enc, dec, 10, n_anchors).to(device)
    criterion = NebulaLoss(reconstruction="bernoulli")
    Xt, nb = torch.as_tensor(X).to(device), torch.as_tensor(neighbours).to(device)
    warmup = int(WARMUP_SHARE * epochs)
    probe = X[np.sort(np.random.RandomState(seed).choice(len(X), min(len(X), 10000), False))]

    def train(module, opt, n_epochs, after_epoch=lambda epoch: None):
        for epoch in range(1, n_epochs + 1):
            module.train()
            for idx in torch.randperm(len(X), device=device).split(batch_size):
                partner = nb[idx, torch.randint(nb.shape[1], (len(idx),), device=device)]
                loss = criterion(module(Xt[idx], Xt[partner]), Xt[idx], module)["loss"]
                opt.zero_grad()
                loss.backward()
                opt.step()
            after_epoch(epoch)

    train(module, torch.optim.Adam(module.parameters(), lr=2e-3), warmup)
    anchor_epochs = epochs - warmup
    settle = max(1, anchor_epochs // 10)
    for restart in range(n_init):
        copy_ = copy.deepcopy(module)
        opt = torch.optim.Adam(copy_.parameters(), lr=2e-3)
        schedule = LambdaLR(opt, partial(cosine_after_warmup, warmup_epochs=0,
                                         n_epochs=anchor_epochs))

        class _Net:  # what the anchor helpers read
            module_, optimizer_ = copy_, opt

        _Net.device = device
        init_anchors_from_data(_Net, X, seed + restart, neighbours)

        def reseed(epoch):
            schedule.step()
            if epoch <= anchor_epochs - settle:
                anchors = copy_.anchors.detach().cpu().double().numpy()
                new, moved = relocate_starving_anchors(
                    training_latents(_Net, probe), anchors,
                    STARVING_SHARE * len(probe) / n_anchors, seed)
                if moved:
                    set_anchors(_Net, new, moved)

        train(copy_, opt, anchor_epochs, reseed)
    return copy_


def timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def overhead_table(sizes, max_epochs="auto", device="cpu", repeats=3):
    """Fit time against n at the defaults, and skorch against the bare loop.

    Each side runs ``repeats`` times, interleaved, and keeps its fastest
    run: on a shared 2-core machine single runs of either side vary by 15%.
    """
    rows, fit_times = [], {}
    for n in sizes:
        X, _ = synthetic(n)
        knn_s, neighbours = timed(lambda: neighbour_table(X, auto_neighbours(n, 10)))
        est = NebulaVariationalClusterer(n_anchors=10, max_epochs=max_epochs, random_state=0)
        fit_s = loop_s = np.inf
        for _ in range(repeats):
            fit_s = min(fit_s, timed(lambda: est.fit(X))[0])
            loop_s = min(loop_s, timed(
                lambda: plain_torch_fit(X, neighbours, est.n_epochs_, n_init=est.n_init_,
                                        batch_size=est.batch_size_, device=device))[0])
        train_s = fit_s - knn_s  # both sides pay the same neighbour search
        tr_s, _ = timed(lambda: est.transform(X))
        fit_times[n] = fit_s
        rows.append([f"{n:,}", f"{est.n_epochs_} x {est.n_init_}", f"{knn_s:.1f}", f"{fit_s:.1f}", f"{loop_s:.1f}",
                     f"{100 * (train_s / loop_s - 1):+.0f}%",
                     f"{samples_seen(est, n) / train_s:,.0f}", f"{n / tr_s:,.0f}"])
        print(rows[-1], flush=True)
    table = markdown_table(
        ["n", "epochs x restarts (auto)", "k-NN s", "fit s", "plain loop s", "skorch overhead",
         "train samples/s", "transform samples/s"], rows)
    return table, fit_times


def _large_fit(path, labels_path, max_epochs="auto", threads=2):
    """One default fit from a memory map (run in a fresh process)."""
    torch.set_num_threads(min(threads, os.cpu_count()))
    X = np.load(path, mmap_mode="r")
    y = np.load(labels_path)
    start = time.perf_counter()
    est = NebulaVariationalClusterer(n_anchors=10, max_epochs=max_epochs, random_state=0).fit(X)
    fit_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = dict(fit_s=fit_s, epochs=est.n_epochs_, peak_mb=peak_mb,
               acc=clustering_accuracy(y, est.labels_), clusters=len(np.unique(est.labels_)))
    if len(X) <= 100_000:
        km = KMeans(n_clusters=10, n_init=10, random_state=0).fit(np.asarray(X))
        out["kmeans_acc"] = clustering_accuracy(y, km.labels_)
    print(json.dumps(out), flush=True)


def large_table(sizes, workdir, max_epochs="auto", threads=2):
    rows = []
    for n in sizes:
        X, y = synthetic(n)
        path, labels_path = Path(workdir) / f"X{n}.npy", Path(workdir) / f"y{n}.npy"
        np.save(path, X)
        np.save(labels_path, y)
        data_mb = X.nbytes / 2**20
        del X
        code = (f"from benchmarks.throughput import _large_fit; "
                f"_large_fit({str(path)!r}, {str(labels_path)!r}, {max_epochs!r}, {threads})")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=HERE.parent)
        if done.returncode:
            raise RuntimeError(done.stderr[-3000:])
        r = json.loads(done.stdout.strip().splitlines()[-1])
        km = f"{r['kmeans_acc']:.3f}" if "kmeans_acc" in r else "—"
        rows.append([f"{n:,}", r["epochs"], f"{r['fit_s']:.0f}", f"{r['acc']:.3f}", km,
                     f"{r['clusters']}/10", f"{data_mb:.0f}", f"{r['peak_mb']:.0f}",
                     f"{3 * data_mb + 1024:.0f}"])
        print(rows[-1], flush=True)
        path.unlink()
    return markdown_table(
        ["n", "epochs (auto)", "fit s", "ACC", "KMeans ACC", "clusters", "data MB",
         "peak RSS MB", "3 x data + 1 GB"], rows)


def search_table(recall_n, hnsw_sizes, k=20):
    rows = []
    X, _ = synthetic(recall_n)
    exact_s, exact = timed(lambda: neighbour_table(X, k, algorithm="exact"))
    hnsw_s, approx = timed(lambda: neighbour_table(X, k, algorithm="hnsw"))
    recall = np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(approx, exact)])
    rows.append([f"{recall_n:,}", f"{exact_s:.1f}", f"{hnsw_s:.1f}", f"{recall:.3f}"])
    for n in hnsw_sizes:
        X, _ = synthetic(n)
        hnsw_s, _ = timed(lambda: hnsw_search(X, k + 1))
        rows.append([f"{n:,}", "—", f"{hnsw_s:.1f}", "—"])
        print(rows[-1], flush=True)
    return markdown_table(["n", "exact s", "HNSW s", f"recall@{k}"], rows)


def parallel_table(seeds, smoke):
    """digits: one process against two torchrun ranks of one thread each."""
    rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc_per_node", "2", str(HERE / "_parallel_digits.py"), out, str(seed)]
            single = [sys.executable, str(HERE / "_parallel_digits.py"), out, str(seed)]
            if smoke:
                cmd += ["--smoke"]
                single += ["--smoke"]
            runs = (("1 process, 2 threads", single), ("2 ranks x 1 thread", cmd),
                    ("1 process on rank 0's half", single + ["--shard"]))
            if smoke:  # the single-process rows run the same script
                runs = runs[1:2]
            for how, run in runs:
                done = subprocess.run(run, capture_output=True, text=True, cwd=HERE.parent)
                if done.returncode and run is cmd:
                    # torchrun --standalone picks a free port, which another
                    # process can take before the rendezvous binds it.
                    print("torchrun failed once, retrying", flush=True)
                    done = subprocess.run(run, capture_output=True, text=True, cwd=HERE.parent)
                if done.returncode:
                    raise RuntimeError(done.stderr[-3000:])
                r = json.loads(Path(out, "result.json").read_text())
                rows.append([seed, how, r["epochs"], f"{r['fit_s']:.1f}", f"{r['acc']:.3f}",
                             f"{r['clusters']}/10"])
                print(rows[-1], flush=True)
    return markdown_table(["seed", "training", "epochs", "fit s", "ACC (all digits)",
                           "clusters"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 3000, 10000, 30000, 100000])
    parser.add_argument("--large", type=int, nargs="*", default=[100000, 1000000])
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the data-parallel runs")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each side of the overhead table (the fastest is kept)")
    parser.add_argument("--tables", nargs="*", default=list(TABLES), choices=list(TABLES),
                        help="which tables to run; each writes results/<prefix>-<table>.md")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads (at most the cores) of the fits but the "
                             "data-parallel table's, whose ranks take one each")
    parser.add_argument("--prefix", default="throughput",
                        help="results file prefix (throughput-cuda for benchmarks/gpu.sh)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.large, args.seeds, args.repeats = [300], [500], 1, 1
    torch.set_num_threads(min(args.threads, os.cpu_count()))
    args.epochs = 4 if args.smoke else "auto"
    args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if not args.smoke:  # warm start-up costs, which a smoke run does not time
        NebulaVariationalClusterer(max_epochs=2).fit(synthetic(300)[0])
    for table in args.tables:
        title, body = TABLES[table](args)
        body = f"device: {args.device} (the estimators' `device=\"auto\"`).\n\n{body}"
        write_result(f"{args.prefix}-{table}", title, body, smoke=args.smoke,
                     script="throughput")


def _overhead(args):
    t1, fit_times = overhead_table(args.sizes, args.epochs, args.device, args.repeats)
    passes = NebulaVariationalClusterer._full_passes
    growth = ""
    if {10_000, 100_000} <= set(fit_times):
        growth = (f"\n\nfit s at 100,000 over fit s at 10,000: "
                  f"**{fit_times[100_000] / fit_times[10_000]:.1f}**.")
    return "Throughput: fit time against n, skorch against a bare loop", (
        f"The clusterer at its defaults: `max_epochs=\"auto\"` ({passes} epochs up to "
        f"{SAMPLE_BUDGET // passes:,} rows, then a budget of {SAMPLE_BUDGET:,} samples seen), "
        f"`n_init=\"auto\"` (anchor phases after one shared warm-up), exact k-NN up to 50,000 "
        f"rows and HNSW beyond. The plain loop repeats the same training without skorch (same "
        f"epochs, restarts, partners, learning-rate schedule, anchor placement and re-seeding, "
        f"not the restart judgement); the "
        f"overhead compares the fit "
        f"without its k-NN search to it, each side the fastest of {args.repeats} interleaved "
        f"runs.\n\n{t1}{growth}")


def _large(args):
    with tempfile.TemporaryDirectory() as work:
        t2 = large_table(args.large, work, args.epochs, args.threads)
    return "Throughput: large n from a memory map", (
        f"Each fit at the defaults in a fresh process that opens the float32 data with "
        f"`np.load(path, mmap_mode=\"r\")`; peak RSS is that process's maximum resident set "
        f"(interpreter, torch and the mapped pages included).\n\n{t2}")


def _search(args):
    if _faiss() is None:
        return "Throughput: neighbour search", (
            "Not measured: the HNSW search needs faiss (`pip install 'sknebula[scale]'`).")
    t3 = search_table(300 if args.smoke else 100_000, [] if args.smoke else [1_000_000])
    return "Throughput: neighbour search", (
        f"Exact: scikit-learn's `NearestNeighbors`; HNSW: faiss `IndexHNSWFlat` (degree 32, "
        f"beam 64), built on one thread, searched on all; the k-NN of every row.\n\n{t3}")


def _parallel(args):
    t4 = parallel_table(range(args.seeds), args.smoke)
    return "Throughput: data-parallel training (torch.distributed, gloo, CPU)", (
        f"sklearn's digits (/16) at the defaults: one process with 2 torch threads, against "
        f"`torchrun --nproc_per_node 2` where each rank fits half of the rows with 1 thread "
        f"(the same epochs, batches of 256 on each rank), and a control: one process that fits "
        f"rank 0's half alone (its partners drawn from that half, where each rank draws them "
        f"from all rows); ACC of the fitted model's `predict` on all 1,797 digits.\n\n{t4}")


TABLES = {"overhead": _overhead, "large": _large, "search": _search, "parallel": _parallel}


if __name__ == "__main__":
    main()
