"""Training cost that grows linearly with n: epochs from a sample budget,
approximate neighbour search, and data read from a memory map."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)
from sknebula import _base
from sknebula._base import MIN_AUTO_EPOCHS, SAMPLE_BUDGET, auto_epochs

SMALL = dict(hidden_dims=(16,), latent_dim=2, random_state=0)


def _blobs(n=120, seed=0):
    X, y = make_blobs(n_samples=n, centers=3, n_features=6, random_state=seed)
    return X.astype(np.float32), y


def test_auto_epochs_full_passes_on_small_data_then_a_sample_budget():
    assert auto_epochs(1797, 250) == 250
    assert auto_epochs(SAMPLE_BUDGET // 250, 250) == 250
    # Beyond that, the samples seen stay at the budget: cost stops growing.
    for n in (10_000, 100_000):
        epochs = auto_epochs(n, 250)
        assert epochs < 250
        assert SAMPLE_BUDGET <= epochs * n < SAMPLE_BUDGET + n
    assert auto_epochs(10**7, 250) == MIN_AUTO_EPOCHS
    assert auto_epochs(10, 100) == 100


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: NebulaVariationalClusterer(n_anchors=3, **kw),
        lambda **kw: NebulaAutoencoder(n_anchors=3, **kw),
        VariationalSimSiam,
        VariationalJointEmbedding,
        lambda **kw: LabelDisentangledVAE(relevant_dim=2, irrelevant_dim=2, **kw),
    ],
)
def test_max_epochs_auto_trains_the_budgeted_epochs(monkeypatch, make):
    X, y = _blobs()
    params = dict(SMALL)
    if "relevant_dim" in make().get_params():
        params.pop("latent_dim")  # the disentangled VAE sizes two latents
    # A budget of 6 passes over these 120 samples: "auto" must train 6 epochs.
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", 6 * len(X))
    est = make(**params).fit(X, y)
    assert est.max_epochs == "auto"  # the parameter is left as given
    assert est.n_epochs_ == 6 == len(est.history_)
    est = make(**params, max_epochs=5).fit(X, y)
    assert est.n_epochs_ == 5 == len(est.history_)


def test_auto_warmup_is_a_share_of_the_epochs_trained(monkeypatch):
    X, _ = _blobs()
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", 10 * len(X))
    est = NebulaVariationalClusterer(n_anchors=3, n_neighbors=5, **SMALL).fit(X)
    # The contrastive warm-up term stops when the anchors are placed, at 60%.
    warm = [epoch for epoch in est.history_ if "train_contrastive" in epoch]
    assert est.n_epochs_ == 10 and len(warm) == 6


def test_warmup_longer_than_the_auto_epochs_is_refused(monkeypatch):
    X, _ = _blobs()
    monkeypatch.setattr(_base, "SAMPLE_BUDGET", 5 * len(X))
    est = NebulaVariationalClusterer(n_anchors=3, warmup_epochs=8, **SMALL)
    with pytest.raises(ValueError, match=r"warmup_epochs=8 must be smaller than the 5"):
        est.fit(X)
