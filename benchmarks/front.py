"""The quality/cost front of NebulaVariationalClusterer on digits, beside
UMAP+GaussianMixture and KMeans measured in the same run.

    python -m benchmarks.front                       # writes results/dev/front.md
    python -m benchmarks.front --threads 2 --name front-2threads
    python -m benchmarks.front --smoke

Each setting is the defaults with a few parameters changed. Per setting:
the samples the optimiser saw (a sample and its partner count once), the
restarts, the network's parameters, the median fit time and ACC / NMI with
the worst seed. Every fit runs in a fresh process, one after another.
"""

import argparse
import multiprocessing as mp
import time

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from ._common import markdown_table, mean_std_worst, not_installed, write_result
from .ablation import parse_variant
from .clustering import _run_one, digits

SETTINGS = {
    "defaults": {},
    "n_init=1": {"n_init": 1},
    "batch_size=256": {"batch_size": 256},
    "max_epochs=160": {"max_epochs": 160},
    "hidden_dims=(128, 128)": {"hidden_dims": (128, 128)},
}
PEERS = ["UMAP+GaussianMixture", "KMeans"]


def samples_seen(est, n_samples):
    """Samples the optimiser saw: the shared warm-up, then every restart's
    anchor phase."""
    warmup = est._warmup_epochs()
    return n_samples * (warmup + est.n_init_ * (est.n_epochs_ - warmup))


def _nvc(params, seed, threads, smoke):
    import torch

    from sknebula import NebulaVariationalClusterer
    from sknebula.metrics import clustering_accuracy

    torch.set_num_threads(threads)
    X, y, _ = digits()
    if smoke:
        X, y = X[:200], y[:200]
        params = {**params, "max_epochs": 4, "hidden_dims": (32,)}
    est = NebulaVariationalClusterer(random_state=seed, **params)
    start = time.perf_counter()
    labels = est.fit_predict(X)
    seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in est.net_.module_.parameters())
    return dict(acc=clustering_accuracy(y, labels), nmi=normalized_mutual_info_score(y, labels),
                seconds=seconds, seen=samples_seen(est, len(X)), restarts=est.n_init_,
                params=n_params)


def _peer(method, seed, threads, smoke):
    """A peer on digits, as benchmarks.clustering fits it."""
    return {**_run_one("digits", method, seed, smoke, threads),
            "seen": "—", "restarts": "—", "params": "—"}


def _search(threads):
    """A plain GridSearchCV over the anchor count: its pick and its time."""
    import torch
    from sklearn.model_selection import GridSearchCV

    from sknebula import NebulaVariationalClusterer

    torch.set_num_threads(threads)
    X, _, _ = digits()
    start = time.perf_counter()
    search = GridSearchCV(NebulaVariationalClusterer(random_state=0), SEARCH_GRID, cv=3).fit(X)
    return search.best_params_["n_anchors"], time.perf_counter() - start


SEARCH_GRID = {"n_anchors": [6, 10, 15]}


def _fresh(fn, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS),
                        help="names from SETTINGS, or param=value pairs joined by commas")
    parser.add_argument("--peers", nargs="*", default=PEERS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--no-search", action="store_true",
                        help="skip timing GridSearchCV over n_anchors")
    parser.add_argument("--name", default="front", help="results file name")
    args = parser.parse_args(argv)
    seeds = range(1 if args.smoke else args.seeds)
    run = (lambda fn, *a: fn(*a)) if args.smoke else _fresh
    settings = args.settings[:1] if args.smoke else args.settings
    jobs = [(s, _nvc, SETTINGS[s] if s in SETTINGS else parse_variant(s)) for s in settings]
    peers = [p for p in args.peers if not (p.startswith("UMAP") and not_installed("umap"))]
    jobs += [(p, _peer, p) for p in (peers[-1:] if args.smoke else peers)]
    rows = []
    for name, fn, what in jobs:
        runs = [run(fn, what, seed, args.threads, args.smoke) for seed in seeds]
        col = {k: [r[k] for r in runs] for k in runs[0]}
        seen = col["seen"][0]
        rows.append([
            name, f"{seen:,}" if seen != "—" else seen, col["restarts"][0],
            f"{col['params'][0]:,}" if col["params"][0] != "—" else "—",
            f"{np.median(col['seconds']):.1f}", mean_std_worst(col["acc"]),
            mean_std_worst(col["nmi"]), " ".join(f"{a:.3f}" for a in col["acc"]),
        ])
        print(" | ".join(str(c) for c in rows[-1]), flush=True)
    table = markdown_table(
        ["setting", "samples seen", "restarts", "parameters", "fit s (median)", "ACC (worst)",
         "NMI (worst)", "ACC per seed"], rows)
    body = (f"sklearn digits scaled to [0, 1], 10 anchors, seeds 0..{len(seeds) - 1}, "
            f"{args.threads} torch thread(s), each fit alone in a fresh process; a setting is "
            f"the defaults with what its name changes.\n\n{table}")
    if not (args.smoke or args.no_search):
        pick, seconds = _fresh(_search, args.threads)
        line = (f"`GridSearchCV(NebulaVariationalClusterer(random_state=0), {SEARCH_GRID}, "
                f"cv=3).fit(X)` at the defaults: picks n_anchors={pick} in {seconds:.0f} s.")
        print(line, flush=True)
        body += "\n\n" + line
    write_result(args.name, "Quality and cost on digits", body, smoke=args.smoke, script="front")
    return rows


if __name__ == "__main__":
    main()
