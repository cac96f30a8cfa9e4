"""A fit draws from its own generators: the caller's global torch and numpy
random states are the same after it as before."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)

QUICK = dict(hidden_dims=(16,), max_epochs=3, batch_size=32, random_state=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NebulaVariationalClusterer(n_anchors=3, latent_dim=2, n_init=2, **QUICK),
        lambda: NebulaAutoencoder(n_anchors=3, latent_dim=2, **QUICK),
        lambda: VariationalSimSiam(latent_dim=4, **QUICK),
        lambda: VariationalJointEmbedding(latent_dim=4, **QUICK),
        lambda: LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2, **QUICK),
    ],
    ids=["clusterer", "autoencoder", "simsiam", "vje", "disentangled"],
)
def test_fit_leaves_the_global_random_state_alone(make):
    X, y = make_blobs(n_samples=60, centers=3, n_features=5, random_state=0)

    def draws():
        return torch.rand(4), np.random.rand(4)

    torch.manual_seed(123)
    np.random.seed(123)
    expected = draws()
    torch.manual_seed(123)
    np.random.seed(123)
    make().fit(X, y)
    got = draws()
    assert torch.equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_a_refit_is_reproducible_whatever_the_global_state():
    X, _ = make_blobs(n_samples=60, centers=3, n_features=5, random_state=0)
    est = NebulaVariationalClusterer(n_anchors=3, latent_dim=2, **QUICK)
    torch.manual_seed(1)
    first = est.fit(X).transform(X)
    torch.manual_seed(2)
    torch.rand(10)
    np.testing.assert_array_equal(est.fit(X).transform(X), first)


_FIT_IN_ORDER = """
import {first}, {second}
import numpy as np
import torch
from sklearn.datasets import load_digits
from sknebula import NebulaVariationalClusterer

torch.set_num_threads(1)
X, _ = load_digits(return_X_y=True)
est = NebulaVariationalClusterer(
    n_anchors=10, hidden_dims=(32,), max_epochs=12, n_init=2, random_state=3
).fit(X[:600] / 16)
print(est.anchors_.tobytes().hex())
"""


def test_the_fit_does_not_depend_on_which_library_is_imported_first():
    # scikit-learn and torch may or may not share an OpenMP runtime depending
    # on the import order; the anchor placement (k-means) must not read its
    # thread count from it.
    import os
    import subprocess
    import sys

    def anchors(first, second):
        done = subprocess.run(
            [sys.executable, "-c", _FIT_IN_ORDER.format(first=first, second=second)],
            capture_output=True, text=True, timeout=300,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.split()[-1]

    assert anchors("sklearn.cluster", "torch") == anchors("torch", "sklearn.cluster")



@pytest.mark.parametrize("cls", [NebulaVariationalClusterer, NebulaAutoencoder])
def test_fits_in_threads_match_fits_one_after_another(cls):
    # A threaded GridSearchCV runs fits side by side. Drawing their batch
    # order, partners and noise from torch's global generator, they would
    # interleave their draws (this failed so every time).
    from concurrent.futures import ThreadPoolExecutor

    X, _ = make_blobs(n_samples=90, centers=3, n_features=5, random_state=0)
    fits = [cls(n_anchors=3, latent_dim=2, n_init=2, **{**QUICK, "random_state": s})
            for s in (0, 1)]
    alone = [est.fit(X).transform(X) for est in fits]
    with ThreadPoolExecutor(2) as pool:
        side_by_side = list(pool.map(lambda est: est.fit(X).transform(X), fits))
    for got, expected in zip(side_by_side, alone):
        np.testing.assert_array_equal(got, expected)


def test_a_fitted_model_holds_no_generator():
    import pickle

    X, _ = make_blobs(n_samples=60, centers=3, n_features=5, random_state=0)
    est = NebulaVariationalClusterer(n_anchors=3, latent_dim=2, **QUICK).fit(X)
    assert est.net_.module_.noise_generator is None
    # In training mode the module draws noise: from torch's global generator
    # once the fit's own is gone.
    module = pickle.loads(pickle.dumps(est)).net_.module_.train()
    x = torch.as_tensor(X[:4], dtype=torch.float32)
    torch.manual_seed(0)
    first = module(x)["z"]
    torch.manual_seed(0)
    np.testing.assert_array_equal(module(x)["z"].detach(), first.detach())
