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


def pytest_configure(config):
    # Reproducible thread count: results depend on it (see docs).
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    np.set_printoptions(precision=4)
