"""Scale-out on Dask: a grid search on a cluster of worker processes, and
batched inference on a dask array through dask-ml.

Needs the ``dask`` extra (dask[array], distributed, dask-ml); skipped
without it.
"""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

import joblib  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer  # noqa: E402
from sknebula.metrics import latent_silhouette_scorer  # noqa: E402

TINY = dict(hidden_dims=(32,), latent_dim=3, max_epochs=4, batch_size=64, random_state=0)

@pytest.fixture(scope="module")
def client():
    # Worker processes (not threads): each fit is pickled to another Python
    # process, as on a real cluster. One thread per worker keeps torch's
    # results reproducible (they depend on the thread count).
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        env={"OMP_NUM_THREADS": "1"},
    )
    with distributed.Client(cluster) as c:
        c.run(torch.set_num_threads, 1)
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def blobs3():
    X, y = make_blobs(n_samples=120, centers=3, n_features=5, random_state=0)
    return StandardScaler().fit_transform(X), y


def test_grid_search_runs_on_dask_workers(client, blobs3):
    X, _ = blobs3
    grid = {"n_anchors": [2, 3, 4]}
    search = GridSearchCV(
        NebulaVariationalClusterer(**TINY), grid, scoring=latent_silhouette_scorer, cv=2
    )
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_backend("dask"):
            search.fit(X)
    # The 3 x 2 fits ran as tasks of the cluster's workers.
    workers = {t["worker"] for t in tasks.data}
    assert len(tasks.data) >= 6 and workers <= set(client.scheduler_info()["workers"])
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))

    # The same search run here scores the candidates alike: the workers
    # trained real models. Within a tolerance, not bit for bit: the workers
    # run one torch thread, this process may run more, and the thread count
    # changes the floating-point sums (see docs/user_guide/scaling.rst).
    local = GridSearchCV(
        NebulaVariationalClusterer(**TINY), grid, scoring=latent_silhouette_scorer, cv=2
    ).fit(X)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=0.05
    )
    assert search.best_estimator_.predict(X).shape == (len(X),)


def test_parallel_post_fit_predicts_and_transforms_dask_arrays(client, blobs3):
    X, _ = blobs3
    est = NebulaVariationalClusterer(n_anchors=3, **TINY)
    wrapped = dask_ml_wrappers.ParallelPostFit(
        est,
        predict_meta=np.array([], dtype=np.intp),
        transform_meta=np.empty((0, TINY["latent_dim"])),
    ).fit(X)
    # A larger-than-one-block array: inference runs block by block on the
    # workers, never holding all rows in one process.
    big = da.from_array(np.tile(X, (5, 1)), chunks=(100, X.shape[1]))
    labels = wrapped.predict(big)
    Z = wrapped.transform(big)
    assert isinstance(labels, da.Array) and isinstance(Z, da.Array)
    assert labels.numblocks[0] == big.numblocks[0]
    np.testing.assert_array_equal(labels.compute(), np.tile(wrapped.estimator.predict(X), 5))
    np.testing.assert_allclose(Z.compute(), np.tile(wrapped.estimator.transform(X), (5, 1)))


def test_parallel_post_fit_autoencoder_transform(client, blobs3):
    X, _ = blobs3
    wrapped = dask_ml_wrappers.ParallelPostFit(
        NebulaAutoencoder(n_anchors=3, **TINY),
        transform_meta=np.empty((0, TINY["latent_dim"])),
    ).fit(X)
    Z = wrapped.transform(da.from_array(X, chunks=(50, X.shape[1]))).compute()
    assert Z.shape == (len(X), TINY["latent_dim"]) and np.ptp(Z, axis=0).min() > 0
    np.testing.assert_allclose(Z, wrapped.estimator.transform(X))
