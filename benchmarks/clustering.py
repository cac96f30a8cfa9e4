"""Clustering quality and speed: sknebula against scikit-learn (and ClustPy).

    python -m benchmarks.clustering            # full run, writes results/clustering.md
    python -m benchmarks.clustering --smoke    # seconds; what the test suite runs

Every (dataset, method, seed) fit runs in a fresh process, so the reported
peak memory (maximum resident set size of that process, interpreter and
torch included) belongs to that fit alone. Labels are used only to score.
"""

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy

from ._common import markdown_table, mean_std, write_result


# ---------------------------------------------------------------- datasets
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def shifted_sequences(n_per_class=120, n_classes=10, length=48, random_state=0):
    """Ten smooth random templates, each sample shifted by up to +-16 steps, plus noise 0.3."""
    from sknebula.datasets import make_template_sequences

    return make_template_sequences(
        n_samples=n_per_class * n_classes, n_classes=n_classes, length=length, max_shift=16,
        random_state=random_state,
    )


def anisotropic_blobs(n_samples=1500, random_state=0):
    """Five overlapping, sheared Gaussian blobs in 10-D, standardised."""
    rng = np.random.RandomState(random_state)
    X, y = make_blobs(n_samples=n_samples, centers=5, n_features=10, cluster_std=2.0,
                      center_box=(-6, 6), random_state=random_state)
    X = X @ rng.normal(size=(10, 10))
    return StandardScaler().fit_transform(X), y


DATASETS = {"digits": digits, "sequences": shifted_sequences, "aniso-blobs": anisotropic_blobs}
# Methods that only apply to one kind of data.
ONLY_ON = {"NebulaVariationalClusterer(encoder='sequence')": {"sequences"}}


# ----------------------------------------------------------------- methods
def _nvc(n_clusters, seed, smoke):
    params = dict(max_epochs=4, hidden_dims=(32,)) if smoke else {}
    return NebulaVariationalClusterer(n_anchors=n_clusters, random_state=seed, **params)


def _nvc_sequence(n_clusters, seed, smoke):
    # Convolution channels, not MLP widths: (256, 256) channels would be slow.
    params = dict(max_epochs=4, hidden_dims=(8,)) if smoke else dict(hidden_dims=(32, 64))
    return NebulaVariationalClusterer(n_anchors=n_clusters, encoder="sequence", random_state=seed,
                                      **params)


def _clustpy(name):
    def make(n_clusters, seed, smoke):
        import clustpy.deep as deep

        return getattr(deep, name)(n_clusters=n_clusters, random_state=seed)
    return make


METHODS = {
    "NebulaVariationalClusterer": _nvc,
    "NebulaVariationalClusterer(encoder='sequence')": _nvc_sequence,
    "KMeans": lambda k, seed, smoke: KMeans(n_clusters=k, n_init=10, random_state=seed),
    "GaussianMixture": lambda k, seed, smoke: GaussianMixture(k, n_init=3, random_state=seed),
    "Agglomerative(ward)": lambda k, seed, smoke: AgglomerativeClustering(n_clusters=k),
    "ClustPy DEC": _clustpy("DEC"),
    "ClustPy IDEC": _clustpy("IDEC"),
    "ClustPy VaDE": _clustpy("VaDE"),
}


def _run_one(dataset, method, seed, smoke, threads):
    import torch

    torch.set_num_threads(threads)
    X, y = DATASETS[dataset]()
    if smoke:
        X, y = X[:200], y[:200]
    model = METHODS[method](len(np.unique(y)), seed, smoke)
    start = time.perf_counter()
    labels = model.fit_predict(X)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(
        acc=clustering_accuracy(y, labels),
        nmi=normalized_mutual_info_score(y, labels),
        ari=adjusted_rand_score(y, labels),
        seconds=seconds,
        peak_mb=peak_mb,
    )


def _in_fresh_process(*args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_run_one, args)


def clustpy_available():
    try:
        import clustpy.deep  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads per fit")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    args = parser.parse_args(argv)

    methods = list(args.methods)
    if not clustpy_available():
        skipped = [m for m in methods if m.startswith("ClustPy")]
        methods = [m for m in methods if not m.startswith("ClustPy")]
        if skipped:
            print("ClustPy is not installed (pip install 'sknebula[bench]'): skipping "
                  + ", ".join(skipped))
    seeds = range(1 if args.smoke else args.seeds)
    datasets = args.datasets[:1] if args.smoke else args.datasets
    run = _run_one if args.smoke else _in_fresh_process

    rows = []
    for dataset in datasets:
        for method in methods:
            if dataset not in ONLY_ON.get(method, {dataset}):
                continue
            runs = [run(dataset, method, seed, args.smoke, args.threads) for seed in seeds]
            col = {k: [r[k] for r in runs] for k in runs[0]}
            rows.append([
                dataset, method, mean_std(col["acc"]), mean_std(col["nmi"]), mean_std(col["ari"]),
                f"{np.median(col['seconds']):.1f}", f"{max(col['peak_mb']):.0f}",
            ])
            print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(
        ["dataset", "method", "ACC", "NMI", "ARI", "fit s (median)", "peak RSS MB"], rows
    )
    body = (f"{len(seeds)} seed(s) per cell, mean ± std over seeds; "
            f"{args.threads} torch thread(s) per fit.\n\n{table}")
    write_result("clustering", "Clustering quality and speed", body, smoke=args.smoke)
    return rows


if __name__ == "__main__":
    main()
