"""Clustering metrics that sklearn does not ship, and unsupervised scorers for model selection."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics.cluster import contingency_matrix


def clustering_accuracy(labels_true, labels_pred):
    """Accuracy of a clustering under the best one-to-one label matching.

    Clusters are matched to classes with the Hungarian algorithm on the
    contingency table; unmatched clusters count as errors.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground-truth classes.
    labels_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    accuracy : float
        Fraction of samples in a matched cluster of their class, in [0, 1].

    Examples
    --------
    >>> from sknebula.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> clustering_accuracy([0, 0, 1, 1], [0, 0, 0, 1])
    0.75
    """
    table = contingency_matrix(labels_true, labels_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / np.sum(table))


# ---------------------------------------------------------------- scorers
# Unsupervised scorers for GridSearchCV(scoring=...). Each one is a callable
# ``scorer(estimator, X, y=None) -> float`` where greater is better, so it
# plugs into scikit-learn's model selection unchanged and ignores ``y``.


def latent_silhouette_scorer(estimator, X, y=None):
    """Silhouette of the estimator's own clusters in its latent space.

    ``transform(X)`` gives the latent means and ``predict(X)`` the clusters;
    the score is :func:`sklearn.metrics.silhouette_score` of those clusters
    measured in latent space. It rewards clusters that are compact and far
    apart there, and drops when a true group is split over several anchors.
    A model that puts every sample in one cluster (silhouette undefined)
    scores -1, the worst value.

    Parameters
    ----------
    estimator : fitted estimator
        An estimator with ``transform`` and ``predict``.
    X : array-like of shape (n_samples, ...)
        Data to score (e.g. a held-out fold).
    y : Ignored
        Not used, present for the scorer signature.

    Returns
    -------
    score : float
        Silhouette in [-1, 1], higher is better.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.metrics import latent_silhouette_scorer
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(32,), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> -1 <= latent_silhouette_scorer(est, X) <= 1
    True
    """
    from sklearn.metrics import silhouette_score

    Z = np.asarray(estimator.transform(X), dtype=np.float64)
    labels = np.asarray(estimator.predict(X))
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(Z):
        return -1.0
    return float(silhouette_score(Z.reshape(len(Z), -1), labels))


def elbo_scorer(estimator, X, y=None):
    """Mean per-sample evidence lower bound (ELBO) of ``X``.

    The mean of ``estimator.score_samples(X)``, in nats per sample. On a
    held-out fold it measures how well the model generalises as a density;
    note that more anchors rarely lower it, so on its own it tends to prefer
    the largest ``n_anchors`` of a grid (see :func:`make_penalised_elbo_scorer`).

    Parameters
    ----------
    estimator : fitted estimator
        An estimator whose ``score_samples`` returns a per-sample ELBO.
    X : array-like of shape (n_samples, ...)
        Data to score.
    y : Ignored
        Not used, present for the scorer signature.

    Returns
    -------
    score : float
        Mean ELBO, higher is better.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.metrics import elbo_scorer
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(32,), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> bool(elbo_scorer(est, X) == est.score_samples(X).mean())
    True
    """
    if not hasattr(estimator, "score_samples"):
        raise TypeError(
            f"{type(estimator).__name__} has no score_samples; the ELBO scorers "
            "need a per-sample evidence lower bound."
        )
    return float(np.mean(estimator.score_samples(X)))


def _n_anchor_params(estimator):
    anchors = getattr(estimator, "anchors_", None)
    if anchors is None:
        raise ValueError(
            f"{type(estimator).__name__} has no anchors_; use "
            "make_penalised_elbo_scorer(n_params='all') or pass a callable."
        )
    n_anchors, latent_dim = np.shape(anchors)
    # K anchor positions plus K - 1 free mixture weights.
    return n_anchors * latent_dim + n_anchors - 1


def _n_network_params(estimator):
    module = estimator.net_.module_
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def make_penalised_elbo_scorer(n_params="anchors"):
    """Make a BIC-like scorer: the ELBO minus a penalty per parameter.

    For ``n`` scored samples with per-sample ELBOs ``e_i``, and ``p`` counted
    parameters, the score is the Bayesian information criterion written as a
    per-sample log-likelihood (divided by ``-2 n``, so higher is better)::

        (sum_i e_i - p / 2 * log(n)) / n

    Parameters
    ----------
    n_params : {"anchors", "all"} or callable, default="anchors"
        Which parameters ``p`` counts. "anchors" counts the latent mixture
        (``K * latent_dim`` anchor coordinates and ``K - 1`` weights), the
        only part that grows with ``n_anchors``: the right count to choose
        ``n_anchors`` with everything else fixed. "all" counts every
        trainable parameter of the network, which compares architectures but
        weighs very heavily on small data. A callable gets the fitted
        estimator and returns ``p``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.metrics import elbo_scorer, make_penalised_elbo_scorer
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(32,), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> bic = make_penalised_elbo_scorer()
    >>> bool(bic(est, X) < elbo_scorer(est, X))
    True
    """
    if n_params == "anchors":
        count = _n_anchor_params
    elif n_params == "all":
        count = _n_network_params
    elif callable(n_params):
        count = n_params
    else:
        raise ValueError(
            f"n_params must be 'anchors', 'all' or a callable, got {n_params!r}."
        )

    def penalised_elbo_scorer(estimator, X, y=None):
        elbo = np.asarray(estimator.score_samples(X), dtype=np.float64)
        n = len(elbo)
        return float((elbo.sum() - 0.5 * count(estimator) * np.log(n)) / n)

    return penalised_elbo_scorer


penalised_elbo_scorer = make_penalised_elbo_scorer()
penalised_elbo_scorer.__doc__ = """BIC-like penalised ELBO counting the anchor parameters.

Equal to ``make_penalised_elbo_scorer(n_params="anchors")``; see there.
"""

UNSUPERVISED_SCORERS = {
    "latent_silhouette": latent_silhouette_scorer,
    "elbo": elbo_scorer,
    "penalised_elbo": penalised_elbo_scorer,
}
"""The three scorers by name, for multi-metric ``GridSearchCV(scoring=...)``."""

__all__ = [
    "UNSUPERVISED_SCORERS",
    "clustering_accuracy",
    "elbo_scorer",
    "graph_modularity",
    "latent_silhouette_scorer",
    "make_penalised_elbo_scorer",
    "neighbour_modularity",
    "penalised_elbo_scorer",
]


def neighbour_modularity(X, labels, n_neighbors=20):
    """Modularity of a clustering on the k-nearest-neighbour graph of X.

    The fraction of each sample's ``n_neighbors`` nearest neighbours (by
    Euclidean distance on the rows of X) that share its label, averaged,
    minus the fraction expected if labels were shuffled with the same
    cluster sizes, ``sum_c (n_c / n)^2`` (Newman's modularity of the
    partition on the directed kNN graph, whose degrees are all k). It
    rewards clusters that keep neighbours together and, unlike the
    agreement alone, does not grow by merging clusters: one cluster scores
    0. Higher is better; at most 1.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features on which neighbours are found.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    n_neighbors : int, default=20
        Neighbours per sample (at most ``n_samples - 1``).

    Returns
    -------
    modularity : float

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.metrics import neighbour_modularity
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1))] + np.arange(10)[:, None] * 1e-3
    >>> round(neighbour_modularity(X, [0] * 5 + [1] * 5, n_neighbors=3), 3)
    0.5
    >>> neighbour_modularity(X, [0] * 10, n_neighbors=3)
    0.0
    """
    from ._data import neighbour_table

    X = np.asarray(X, dtype=np.float64)
    neighbours = neighbour_table(X.reshape(len(X), -1), n_neighbors)
    if neighbours is None:
        raise ValueError("neighbour_modularity needs at least 2 samples and 1 neighbour.")
    return graph_modularity(neighbours, labels)


def graph_modularity(neighbours, labels):
    """:func:`neighbour_modularity` on a given neighbour table.

    Parameters
    ----------
    neighbours : ndarray of shape (n_samples, k)
        Row ``i`` holds the indices of the neighbours of sample ``i``.
    labels : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    modularity : float
    """
    labels = np.unique(np.asarray(labels), return_inverse=True)[1]
    agreement = (labels[neighbours] == labels[:, None]).mean()
    shares = np.bincount(labels) / len(labels)
    return float(agreement - (shares**2).sum())
