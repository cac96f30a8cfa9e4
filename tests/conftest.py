import os

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs


@pytest.fixture(scope="session")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, n_features=5, cluster_std=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture
def fast():
    """Small, quick settings for API tests."""
    return dict(hidden_dims=(32,), latent_dim=4, max_epochs=10, batch_size=64, random_state=0)


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """Restore the worker's torch thread count after each test: a benchmark's
    main() sets its own, and the tests after it in that worker would run
    oversubscribed beside the other workers."""
    import torch

    threads = torch.get_num_threads()
    yield
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def pytest_configure(config):
    # Reproducible thread count: results depend on it (see docs).
    import torch

    # Under pytest-xdist (-n) each test process gets its share of the cores,
    # so that two processes on two cores do not each start two threads.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = max(1, (cores or 1) // workers)
    threads = min(2, share, torch.get_num_threads())
    torch.set_num_threads(threads)
    # scikit-learn's OpenMP and the BLAS pools too: left at one thread per
    # core in every worker, their spinning threads slowed some tests ten-fold.
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    # The example scripts and the multi-process tests run in subprocesses:
    # they inherit the share too, or two workers each start a two-thread
    # child on two cores (oversubscribed, several times slower).
    os.environ["OMP_NUM_THREADS"] = str(threads)
    np.set_printoptions(precision=4)
