"""Where a clustering of series loses what its partners knew, per set.

    python -m benchmarks.partners            # writes results/series/partners.md
    python -m benchmarks.partners --smoke    # seconds; what the test suite runs

NebulaVariationalClusterer at its defaults (the encoder of the data kind),
seeds 0-2, one torch thread. Per set, means over the seeds of:

* the purity of the partner table (share of partners in the sample's own
  class), over all partners and over the 5 closest, which the anchor
  placement and the restart judgement read;
* the purity of as many Euclidean neighbours of the raw (flattened) series,
  the graph UMAP starts from;
* the purity of as many neighbours in the trained latent space: what the
  network kept of the partner graph;
* the ACC of the clusterer, of KMeans on its latent, and of the partner
  graph's own spectral partition
  (``sknebula._anchors.partner_graph_partition``, the anchor placement's
  graph candidate, labels read directly);
* the modularity on the 5-closest partner graph of the true classes and of
  the clusterer's clusters: where the classes score lower than what the
  clusterer found, no label-free judgement on that graph can prefer them.

Labels are used only to score.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from sknebula import NebulaVariationalClusterer
from sknebula._anchors import GRAPH_PARTNERS, partner_graph_partition
from sknebula.metrics import clustering_accuracy, graph_modularity

from ._common import markdown_table, write_result
from .clustering import DATASETS, encoder_for

SERIES_SETS = ["sequences", "ArrowHead", "OSULeaf", "BasicMotions", "JapaneseVowels",
               "GunPoint", "ItalyPowerDemand", "PickupGestureWiimoteZ"]
COLUMNS = ["partner purity", "5 closest", "raw k-NN purity", "latent k-NN purity", "ACC",
           "KMeans on latent", "partner graph partition", "modularity: classes",
           "modularity: clusters"]


def purity(neighbours, y):
    """Share of the neighbours that share their sample's class."""
    return float((y[neighbours] == y[:, None]).mean())


def knn(Z, k):
    """Each row's ``k`` nearest other rows (Euclidean)."""
    return NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z, return_distance=False)[:, 1:]


def diagnose(X, y, kind, seed, smoke=False):
    """The columns of :data:`COLUMNS` for one fit."""
    k = len(np.unique(y))
    params = dict(max_epochs=4) if smoke else {}
    est = NebulaVariationalClusterer(n_anchors=k, random_state=seed, **encoder_for(kind, X),
                                     **params).fit(X)
    partners = est._neighbours(np.asarray(X, dtype=np.float32))
    closest = partners[:, :GRAPH_PARTNERS]
    Z = est.transform(X)
    n_partners = partners.shape[1]
    return [
        purity(partners, y), purity(closest, y),
        purity(knn(X.reshape(len(X), -1), n_partners), y), purity(knn(Z, n_partners), y),
        clustering_accuracy(y, est.labels_),
        clustering_accuracy(y, KMeans(k, n_init=10, random_state=seed).fit_predict(Z)),
        clustering_accuracy(y, partner_graph_partition(partners, k, seed)),
        graph_modularity(closest, y), graph_modularity(closest, est.labels_),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="*", default=SERIES_SETS)
    parser.add_argument("--name", default="partners",
                        help="results file (results/<suite>/NAME.md), to run parts side by side")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    datasets = args.datasets[:1] if args.smoke else args.datasets
    seeds = range(1 if args.smoke else args.seeds)
    rows = []
    for dataset in datasets:
        X, y, kind = DATASETS[dataset]()
        if args.smoke:
            X, y = X[:150], y[:150]
        start = time.perf_counter()
        values = np.mean([diagnose(X, y, kind, seed, args.smoke) for seed in seeds], axis=0)
        seconds = (time.perf_counter() - start) / len(seeds)
        rows.append([dataset, *(f"{v:.3f}" for v in values), f"{seconds:.0f}"])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["dataset", *COLUMNS, "s per seed"], rows)
    body = (f"NebulaVariationalClusterer at its defaults, mean over seeds 0-{len(seeds) - 1}, "
            "one torch thread; k-NN purities over as many neighbours as the partner table "
            "holds, modularity on the graph of the 5 closest partners.\n\n" + table)
    write_result(args.name, "Partners, latent and clusters of the series sets", body,
                 smoke=args.smoke)
    return rows


if __name__ == "__main__":
    main()
