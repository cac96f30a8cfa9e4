"""Unsupervised scorers and the parsimonious refit rule in scikit-learn searches."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import (
    UNSUPERVISED_SCORERS,
    elbo_scorer,
    latent_silhouette_scorer,
    make_penalised_elbo_scorer,
    penalised_elbo_scorer,
)
from sknebula.model_selection import parsimonious_refit

TINY = dict(hidden_dims=(32,), latent_dim=4, batch_size=64, random_state=0)


class _Stub(BaseEstimator):
    """Fitted stand-in with known outputs, to check the scorers' arithmetic."""

    def __init__(self, elbo=None, labels=None, n_anchors=3, latent_dim=2):
        self.elbo = elbo
        self.labels = labels
        self.n_anchors = n_anchors
        self.latent_dim = latent_dim

    def fit(self, X=None, y=None):
        self.anchors_ = np.zeros((self.n_anchors, self.latent_dim))
        return self

    def score_samples(self, X):
        return np.asarray(self.elbo, dtype=float)

    def transform(self, X):
        return np.asarray(X, dtype=float)

    def predict(self, X):
        return np.asarray(self.labels)


@pytest.fixture(scope="module")
def four_blobs():
    X, y = make_blobs(n_samples=300, centers=4, n_features=10, random_state=1)
    return StandardScaler().fit_transform(X), y


def test_search_recovers_the_number_of_blobs(four_blobs):
    X, y = four_blobs
    search = GridSearchCV(
        NebulaVariationalClusterer(max_epochs=15, **TINY),
        {"n_anchors": [2, 3, 4, 6]},
        scoring=UNSUPERVISED_SCORERS,
        refit=parsimonious_refit("latent_silhouette"),
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X)
    for name in UNSUPERVISED_SCORERS:
        scores = search.cv_results_[f"mean_test_{name}"]
        assert np.all(np.isfinite(scores)), name
        assert np.ptp(scores) > 0, name  # the scorers tell candidates apart
    assert search.best_params_ == {"n_anchors": 4}
    assert adjusted_rand_score(y, search.best_estimator_.labels_) > 0.9
    sil = search.cv_results_["mean_test_latent_silhouette"]
    assert sil[2] > sil[0]  # four anchors beat two on four blobs


def test_silhouette_is_worst_for_a_single_cluster():
    X = np.random.default_rng(0).normal(size=(10, 2))
    assert latent_silhouette_scorer(_Stub(labels=np.zeros(10)).fit(), X) == -1.0
    assert latent_silhouette_scorer(_Stub(labels=np.arange(10)).fit(), X) == -1.0
    labels = (X[:, 0] > 0).astype(int)
    assert -1 < latent_silhouette_scorer(_Stub(labels=labels).fit(), X) <= 1


def test_elbo_scorer_is_the_mean_score_and_needs_score_samples(four_blobs):
    X, _ = four_blobs
    est = NebulaVariationalClusterer(n_anchors=4, max_epochs=4, **TINY).fit(X)
    assert elbo_scorer(est, X[:50]) == pytest.approx(est.score_samples(X[:50]).mean())
    with pytest.raises(TypeError, match="score_samples"):
        elbo_scorer(KMeans(n_clusters=2, n_init=1).fit(X), X)


def test_penalised_elbo_is_bic_per_sample():
    elbo = np.array([-1.0, -2.0, -3.0, -4.0])
    stub = _Stub(elbo=elbo, n_anchors=3, latent_dim=2).fit()
    p = 3 * 2 + 3 - 1  # anchor coordinates and free weights
    expected = (elbo.sum() - 0.5 * p * np.log(4)) / 4
    assert penalised_elbo_scorer(stub, np.zeros((4, 1))) == pytest.approx(expected)
    # More anchors, bigger penalty; same ELBO.
    more = _Stub(elbo=elbo, n_anchors=6, latent_dim=2).fit()
    assert penalised_elbo_scorer(more, np.zeros((4, 1))) < expected
    custom = make_penalised_elbo_scorer(n_params=lambda est: 0)
    assert custom(stub, np.zeros((4, 1))) == pytest.approx(elbo.mean())


def test_penalised_elbo_all_parameters(four_blobs):
    X, _ = four_blobs
    est = NebulaVariationalClusterer(n_anchors=4, max_epochs=3, **TINY).fit(X)
    n_weights = sum(p.numel() for p in est.net_.module_.parameters() if p.requires_grad)
    assert n_weights > est.anchors_.size  # the network, not only the anchors
    elbo = est.score_samples(X).mean()
    got = make_penalised_elbo_scorer("all")(est, X)
    assert got == pytest.approx(elbo - 0.5 * n_weights * np.log(len(X)) / len(X))


def test_penalised_elbo_bad_arguments():
    with pytest.raises(ValueError, match="n_params"):
        make_penalised_elbo_scorer("some")
    no_anchors = _Stub(elbo=[0.0, 0.0])  # not fitted: no anchors_
    with pytest.raises(ValueError, match="anchors_"):
        penalised_elbo_scorer(no_anchors, np.zeros((2, 1)))


def _results(means, stds, values, key="score"):
    return {
        f"mean_test_{key}": np.array(means, dtype=float),
        f"std_test_{key}": np.array(stds, dtype=float),
        "param_n_anchors": np.ma.MaskedArray(np.array(values, dtype=object)),
    }


def test_parsimonious_refit_prefers_fewest_anchors_near_the_best():
    res = _results([0.5, 0.80, 0.90, 0.91, 0.905], [0.01, 0.01, 0.02, 0.01, 0.01], [2, 3, 4, 5, 6])
    assert parsimonious_refit()(res) == 2  # 0.90 is within 0.01 of 0.91
    assert parsimonious_refit(tolerance=0.0)(res) == 3
    assert parsimonious_refit(tolerance=0.2)(res) == 1
    # The grid order does not matter, only the parameter values.
    shuffled = _results([0.91, 0.90, 0.5], [0.01, 0.02, 0.01], [5, 4, 2], key="sil")
    assert parsimonious_refit("sil")(shuffled) == 1


def test_parsimonious_refit_skips_failed_candidates_and_checks_tolerance():
    res = _results([np.nan, 0.7, 0.6], [np.nan, 0.0, 0.0], [2, 3, 4])
    assert parsimonious_refit()(res) == 1
    with pytest.raises(ValueError, match="finite"):
        parsimonious_refit()(_results([np.nan], [np.nan], [2]))
    with pytest.raises(ValueError, match="tolerance"):
        parsimonious_refit(tolerance=-1)
