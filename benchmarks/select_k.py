"""Which number of anchors each label-free score picks, per dev-suite set.

    python -m benchmarks.select_k            # writes results/archive/select_k.md
    python -m benchmarks.select_k --smoke    # seconds; what the test suite runs

For every set with k true classes, ``GridSearchCV`` runs over
``n_anchors`` in {0.6 k, k, 1.5 k} (rounded; {6, 10, 15} on digits) with
3 shuffled folds, NebulaVariationalClusterer at its defaults (the encoder of
the data kind), and records what each scorer picks: the estimator's own
``score`` (modularity on the held-out nearest-neighbour graph), the
held-out ELBO, the latent silhouette and the penalised ELBO of
``sknebula.metrics``, and the same modularity on graphs of 5, 10 and
sqrt(n) neighbours; beside them the number GaussianMixture's BIC picks on
the flattened data. Labels are used only for k.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold

from sknebula import NebulaVariationalClusterer
from sknebula._nvc import score_neighbours
from sknebula.metrics import UNSUPERVISED_SCORERS, graph_modularity

from ._common import markdown_table, write_result
from .clustering import DATASETS, encoder_for


def _modularity_with(n_neighbors):
    """The estimator's ``score`` on a graph of ``n_neighbors`` neighbours (a
    function of the held-out fold's size) instead of 20. On small folds 20
    neighbours reach beyond a sample's own cluster, which could favour fewer
    clusters; these columns test whether the graph's size moves the pick."""
    def scorer(est, X, y=None):
        X = est._validate_X(X, reset=False)
        return graph_modularity(est._score_neighbours(X, n_neighbors(len(X))), est.predict(X))
    return scorer


SCORERS = {
    "score (modularity)": None,
    **UNSUPERVISED_SCORERS,
    "modularity, 5 neighbours": _modularity_with(lambda n: 5),
    "modularity, 10 neighbours": _modularity_with(lambda n: 10),
    "modularity, sqrt(n) neighbours": _modularity_with(score_neighbours),
}


def grid(k):
    return sorted({max(2, round(0.6 * k)), k, round(1.5 * k)})


def _scorer(name):
    scorer = SCORERS[name]
    return (lambda est, X, y=None: est.score(X)) if scorer is None else scorer


def select(dataset, smoke=False, seed=0):
    X, y, kind = DATASETS[dataset]()
    if smoke:
        X, y = X[:150], y[:150]
    k = len(np.unique(y))
    ks = grid(k)
    params = dict(max_epochs=4) if smoke else {}
    start = time.perf_counter()
    search = GridSearchCV(
        NebulaVariationalClusterer(random_state=seed, **encoder_for(kind, X), **params),
        {"n_anchors": ks},
        scoring={name: _scorer(name) for name in SCORERS},
        refit=False,
        cv=KFold(3, shuffle=True, random_state=seed),
    ).fit(X)
    seconds = time.perf_counter() - start
    picks = [ks[int(np.argmax(search.cv_results_[f"mean_test_{name}"]))] for name in SCORERS]
    flat = X.reshape(len(X), -1)
    bic = [GaussianMixture(c, covariance_type="diag", random_state=seed).fit(flat).bic(flat)
           for c in ks]
    return [dataset, k, " ".join(map(str, ks)), *picks, ks[int(np.argmin(bic))], f"{seconds:.0f}"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--name", default="select_k",
                        help="results file (results/<suite>/NAME.md), to run parts side by side")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    datasets = args.datasets[:1] if args.smoke else args.datasets
    rows = []
    for dataset in datasets:
        rows.append(select(dataset, smoke=args.smoke))
        print(" | ".join(str(c) for c in rows[-1]), flush=True)
    table = markdown_table(
        ["dataset", "true k", "grid", *SCORERS, "GaussianMixture BIC", "search s"], rows
    )
    body = (f"`n_anchors` picked by each score (3 shuffled folds, seed 0, {args.threads} torch "
            f"threads); the estimator's own `score` is what a plain GridSearchCV uses.\n\n{table}")
    write_result(args.name, "Choosing n_anchors without labels", body, smoke=args.smoke,
                 script="select_k")
    return rows


if __name__ == "__main__":
    main()
