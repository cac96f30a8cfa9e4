"""NebulaVariationalClusterer as a user would use it."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from skorch.callbacks import Callback

from sknebula import NebulaVariationalClusterer
from sknebula._data import neighbour_table
from sknebula._nvc import score_neighbours
from sknebula.metrics import clustering_accuracy, graph_modularity, neighbour_modularity


def test_fitted_attributes_and_methods(blobs, fast):
    X, _ = blobs
    est = NebulaVariationalClusterer(n_anchors=5, **fast).fit(X)
    n = len(X)
    assert est.anchors_.shape == (5, 4)
    assert est.labels_.shape == (n,) and est.labels_.dtype.kind == "i"
    assert np.array_equal(np.unique(est.labels_), np.arange(est.n_clusters_))
    assert np.array_equal(est.predict(X), est.labels_)
    proba = est.predict_proba(X)
    assert proba.shape == (n, est.n_clusters_)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert est.transform(X).shape == (n, 4)
    scores = est.score_samples(X)
    assert scores.shape == (n,) and np.isfinite(scores).all()
    assert 0 < est.score(X) <= 1  # modularity of the clustering; score_samples is the ELBO
    assert est.inverse_transform(est.transform(X)).shape == X.shape
    samples, anchors = est.sample(7)
    assert samples.shape == (7, 5) and anchors.shape == (7,)
    assert set(anchors) <= set(np.flatnonzero(est.weights_))
    assert est.weights_.sum() == pytest.approx(1.0)
    assert len(est.history_) == fast["max_epochs"]


def test_score_is_the_modularity_on_a_graph_that_stays_inside_small_clusters(blobs, fast):
    # Four groups of 7, in two pairs of nearby groups. 20 neighbours (most
    # of the 28 samples) reach into the paired group, and merging the pairs
    # scores higher; the score's sqrt(n) = 5 neighbours prefer the groups.
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [30.0, 0.0], [33.0, 0.0]])
    X = np.repeat(centres, 7, axis=0) + rng.normal(scale=0.3, size=(28, 2))
    groups = np.repeat(np.arange(4), 7)
    pairs = groups // 2
    wide, narrow = neighbour_table(X, 20), neighbour_table(X, score_neighbours(len(X)))
    assert score_neighbours(len(X)) == 5
    assert graph_modularity(wide, pairs) > graph_modularity(wide, groups)
    assert graph_modularity(narrow, groups) > graph_modularity(narrow, pairs)
    # Large data keeps 20, tiny data at least 5.
    assert score_neighbours(10_000) == 20 and score_neighbours(4) == 5

    X, _ = blobs
    est = NebulaVariationalClusterer(n_anchors=3, **fast).fit(X)
    table = neighbour_table(np.asarray(X, np.float32), score_neighbours(len(X)))
    assert table.shape[1] == 12  # sqrt(150)
    assert est.score(X) == pytest.approx(graph_modularity(table, est.predict(X)))


def test_recovers_separated_blobs(blobs, fast):
    X, y = blobs
    labels = NebulaVariationalClusterer(n_anchors=6, n_clusters=3, **fast).fit_predict(X)
    assert adjusted_rand_score(y, labels) > 0.9


class _Snapshot(Callback):
    """Records the encoder weights at the start and end of training."""

    store = {}

    def on_train_begin(self, net, **kwargs):
        self.store["begin"] = [p.detach().clone() for p in net.module_.parameters()]

    def on_train_end(self, net, **kwargs):
        self.store["end"] = [p.detach().clone() for p in net.module_.parameters()]


def test_training_lowers_the_loss_and_moves_every_weight(digits):
    X, _ = digits
    est = NebulaVariationalClusterer(
        n_anchors=10, max_epochs=20, hidden_dims=(64,), random_state=0, callbacks=[_Snapshot()]
    ).fit(X[:600])
    rec = est.history_[:, "train_reconstruction"]
    assert rec[-1] < 0.8 * rec[0]
    contrastive = [h["train_contrastive"] for h in est.history_ if "train_contrastive" in h]
    assert contrastive[-1] < contrastive[0]
    nebula_phase = [h for h in est.history_ if "train_kl" in h]
    assert nebula_phase, "the anchors were never placed"
    begin, end = _Snapshot.store["begin"], _Snapshot.store["end"]
    moved = [not torch.equal(b, e) for b, e in zip(begin, end)]
    assert all(moved), "some parameters (anchors included) never changed"
    assert est.transform(X[:50]).std(0).min() > 1e-3


def test_trained_model_beats_kmeans_and_untrained_model_on_digits(digits):
    X, y = digits
    trained = NebulaVariationalClusterer(max_epochs=60, random_state=0).fit(X)
    acc = clustering_accuracy(y, trained.labels_)
    untrained = NebulaVariationalClusterer(max_epochs=1, warmup_epochs=0, lr=1e-9, random_state=0)
    acc_untrained = clustering_accuracy(y, untrained.fit(X).labels_)
    acc_kmeans = clustering_accuracy(y, KMeans(10, n_init=10, random_state=0).fit_predict(X))
    assert acc > 0.8
    assert acc > acc_kmeans + 0.03
    assert acc > acc_untrained + 0.1


def test_same_random_state_same_result(blobs, fast):
    X, _ = blobs
    a = NebulaVariationalClusterer(n_anchors=5, **fast).fit(X)
    b = NebulaVariationalClusterer(n_anchors=5, **fast).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_pipeline_fit_predict_and_grid_search(digits):
    X, _ = digits
    X = X[:300] * 16
    settings = dict(hidden_dims=(32,), max_epochs=4, random_state=0)
    labels = make_pipeline(
        MinMaxScaler(), NebulaVariationalClusterer(n_anchors=10, **settings)
    ).fit_predict(X)
    assert labels.shape == (300,) and len(np.unique(labels)) > 1
    search = GridSearchCV(
        NebulaVariationalClusterer(**settings), {"n_anchors": [5, 10]}, cv=3
    ).fit(X / 16)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and scores[0] != scores[1]
    # The search scores with the clusterer's own score, the modularity of
    # the held-out clustering on the held-out neighbour graph: the winner
    # fitted on the first split's training folds gives its recorded score
    # (10 neighbours: the square root of the 100 held-out rows).
    winner = int(np.argmax(scores))
    held_out = X[:100] / 16
    fold = clone(search.estimator).set_params(n_anchors=[5, 10][winner]).fit(X[100:] / 16)
    modularity = neighbour_modularity(held_out, fold.predict(held_out), n_neighbors=10)
    assert search.cv_results_["split0_test_score"][winner] == pytest.approx(modularity)
    # It then refits the winner on all the data.
    best = search.best_estimator_
    assert best.n_anchors == [5, 10][winner] and best.n_clusters_ == best.n_anchors
    assert best.labels_.shape == (300,)


def test_pandas_in_and_out(blobs, fast):
    X, _ = blobs
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = NebulaVariationalClusterer(n_anchors=3, **fast).set_output(transform="pandas").fit(df)
    assert list(est.feature_names_in_) == list(df.columns)
    out = est.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"nebulavariationalclusterer{i}" for i in range(4)]


def test_pickle_and_clone(blobs, fast):
    X, _ = blobs
    est = NebulaVariationalClusterer(n_anchors=3, **fast).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    np.testing.assert_allclose(restored.transform(X), est.transform(X))
    fresh = clone(est)
    assert not hasattr(fresh, "net_") and fresh.get_params() == est.get_params()


def test_nd_input_with_the_mlp(digits, fast):
    X, _ = digits
    images = X[:100].reshape(-1, 8, 8)
    est = NebulaVariationalClusterer(n_anchors=4, **fast).fit(images)
    assert est.input_shape_ == (8, 8)
    assert est.inverse_transform(est.transform(images)).shape == images.shape
    with pytest.raises(ValueError, match="shape"):
        est.predict(X[:5].reshape(-1, 8, 4, 2))


@pytest.mark.parametrize(
    "params, X_fn, match",
    [
        (dict(n_anchors=20), lambda X: X[:10], "n_anchors=20"),
        (dict(n_anchors=3, n_clusters=5), lambda X: X, "n_clusters=5"),
        (dict(n_anchors=3, warmup_epochs=50), lambda X: X, "warmup_epochs"),
        (dict(n_anchors=3, hidden_dims=(0,)), lambda X: X, "hidden_dims"),
        (dict(n_anchors=3, reconstruction="bernoulli"), lambda X: X, r"\[0, 1\]"),
        (dict(n_anchors=3, device="tpu9"), lambda X: X, "device"),
    ],
)
def test_bad_settings_fail_before_training(blobs, fast, params, X_fn, match):
    X, _ = blobs
    est = NebulaVariationalClusterer(**{**fast, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X_fn(X))
    assert not hasattr(est, "net_")


def test_inverse_transform_checks_latent_width(blobs, fast):
    X, _ = blobs
    est = NebulaVariationalClusterer(n_anchors=3, **fast).fit(X)
    with pytest.raises(ValueError, match="latent_dim=4"):
        est.inverse_transform(np.zeros((2, 3)))


def test_inputs_and_callbacks_are_not_mutated(blobs, fast):
    X, _ = blobs
    X = X.copy()
    X.setflags(write=False)
    before = X.copy()
    cb = _Snapshot()
    params_before = cb.get_params()
    NebulaVariationalClusterer(n_anchors=3, callbacks=[cb], **fast).fit(X)
    np.testing.assert_array_equal(X, before)
    assert cb.get_params() == params_before and not hasattr(cb, "initialized_")


class _PoisonedAdam(torch.optim.Adam):
    """Turns every weight into NaN after the first step."""

    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                p.data.fill_(float("nan"))
        return loss


def test_divergence_stops_with_a_clear_error(blobs, fast):
    X, _ = blobs
    est = NebulaVariationalClusterer(n_anchors=3, optimizer=_PoisonedAdam, **{**fast, "batch_size": 16})
    with pytest.raises(FloatingPointError, match="epoch 1.*lower `lr`"):
        est.fit(X)
    assert not hasattr(est, "net_")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_predicts_on_cpu_after_pickling(blobs, fast, monkeypatch):
    X, _ = blobs
    est = NebulaVariationalClusterer(n_anchors=3, **{**fast, "device": "cuda"}).fit(X)
    assert est.net_.device == "cuda"
    expected = est.predict(X)
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(Warning):
        restored = pickle.loads(blob)
    assert restored.net_.device == "cpu"
    np.testing.assert_array_equal(restored.predict(X), expected)
