"""Ablation of NebulaVariationalClusterer's parts on digits (3 seeds each unless told).

    python -m benchmarks.ablation                 # all variants, writes results/dev/ablation.md
    python -m benchmarks.ablation --variants defaults n_neighbors=10
    python -m benchmarks.ablation --smoke

A variant is either a name from VARIANTS or ``param=value`` pairs joined by
commas (values are Python literals), applied on top of the defaults.
"""

import argparse
import ast
import multiprocessing as mp
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy

from ._common import markdown_table, mean_std, mean_std_worst, write_result
from .clustering import digits

VARIANTS = {
    "defaults": {},
    "no kNN partners (n_neighbors=0)": {"n_neighbors": 0},
    "no contrastive warm-up (contrastive_weight=0)": {"contrastive_weight": 0.0},
    "no KL to anchors (beta=0)": {"beta": 0.0},
    "no triplet (metric_weight=0)": {"metric_weight": 0.0},
    "no partner consistency (consistency_weight=0)": {"consistency_weight": 0.0},
    "no balance (balance_weight=0)": {"balance_weight": 0.0},
    "no nebula phase (warmup_epochs=max_epochs-1)": {
        "warmup_epochs": NebulaVariationalClusterer._full_passes - 1},
    "one restart (n_init=1)": {"n_init": 1},
}


def parse_variant(text):
    if text in VARIANTS:
        return VARIANTS[text]
    params = {}
    for item in text.split(","):
        key, value = item.split("=", 1)
        params[key.strip()] = ast.literal_eval(value.strip())
    return params


def _run(params, seed, threads, smoke):
    import torch

    torch.set_num_threads(threads)
    X, y, _ = digits()
    if smoke:
        X, y = X[:200], y[:200]
        params = {**params, "max_epochs": 4, "hidden_dims": (32,)}
    start = time.perf_counter()
    labels = NebulaVariationalClusterer(random_state=seed, **params).fit_predict(X)
    return (clustering_accuracy(y, labels), normalized_mutual_info_score(y, labels),
            adjusted_rand_score(y, labels), time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--name", default="ablation", help="results file name")
    args = parser.parse_args(argv)
    seeds = range(1 if args.smoke else args.seeds)
    variants = args.variants[:2] if args.smoke else args.variants
    rows = []
    for variant in variants:
        params = parse_variant(variant)
        if args.smoke:
            runs = [_run(params, s, args.threads, True) for s in seeds]
        else:
            with mp.get_context("spawn").Pool(1) as pool:
                runs = [pool.apply(_run, (params, s, args.threads, False)) for s in seeds]
        acc, nmi, ari, sec = map(list, zip(*runs))
        rows.append([variant, mean_std_worst(acc), mean_std_worst(nmi), mean_std(ari),
                     f"{np.median(sec):.1f}",
                     " ".join(f"{a:.3f}" for a in acc)])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(
        ["variant", "ACC (worst)", "NMI (worst)", "ARI", "fit s (median)", "ACC per seed"], rows
    )
    body = (f"sklearn digits scaled to [0, 1], 10 anchors unless stated, seeds 0..{len(seeds) - 1}, "
            f"{args.threads} torch threads.\n\n{table}")
    write_result(args.name, "NebulaVariationalClusterer ablation on digits", body, smoke=args.smoke)
    return rows


if __name__ == "__main__":
    main()
