"""Persistence, determinism and interruption."""

import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer

TINY = dict(hidden_dims=(16,), latent_dim=3, max_epochs=6, batch_size=32, random_state=0)
ESTIMATORS = [NebulaVariationalClusterer, NebulaAutoencoder]


@pytest.fixture
def X():
    return np.random.RandomState(0).rand(80, 6)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_pickle_and_joblib_round_trips(Est, X, tmp_path):
    est = Est(n_anchors=4, **TINY).fit(X)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    for restored in (pickle.loads(pickle.dumps(est)), joblib.load(path)):
        np.testing.assert_array_equal(restored.transform(X), est.transform(X))
        np.testing.assert_array_equal(restored.predict(X), est.predict(X))
        assert restored.score(X) == est.score(X)
    # The skorch net's own persistence works too.
    est.net_.save_params(f_params=tmp_path / "params.pt")
    assert (tmp_path / "params.pt").stat().st_size > 0


def test_two_fits_in_one_process_are_identical(X):
    a = NebulaVariationalClusterer(n_anchors=4, **TINY).fit(X)
    b = NebulaVariationalClusterer(n_anchors=4, **TINY).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.anchors_, b.anchors_)
    c = NebulaVariationalClusterer(n_anchors=4, **{**TINY, "random_state": 1}).fit(X)
    assert not np.array_equal(a.transform(X), c.transform(X))


def test_fits_in_two_processes_are_identical(X, tmp_path):
    """Same random_state and thread count: the same model in a fresh interpreter."""
    threads = torch.get_num_threads()
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(f"""
        import numpy as np, torch
        torch.set_num_threads({threads})
        from sknebula import NebulaVariationalClusterer
        X = np.load({str(tmp_path / "X.npy")!r})
        est = NebulaVariationalClusterer(n_anchors=4, **{TINY!r}).fit(X)
        np.save({str(tmp_path / "Z.npy")!r}, est.transform(X))
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    here = NebulaVariationalClusterer(n_anchors=4, **TINY).fit(X).transform(X)
    np.testing.assert_array_equal(np.load(tmp_path / "Z.npy"), here)


class _InterruptAt(Callback):
    """Interrupts at the ``epoch``-th epoch of the fit: the warm-up's, or
    those of the anchor phase that follows it (a net of its own)."""

    def __init__(self, epoch, warmup):
        self.epoch, self.warmup = epoch, warmup

    def on_epoch_end(self, net, **kwargs):
        before = self.warmup if net.module_.anchors_placed else 0
        if before + len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("epoch", [1, 7])  # during the warm-up (6 epochs), then after it
def test_keyboard_interrupt_leaves_a_usable_estimator_and_says_so(X, epoch):
    est = NebulaVariationalClusterer(n_anchors=4, n_init=2, **{**TINY, "max_epochs": 8},
                                     callbacks=[_InterruptAt(epoch, warmup=6)])
    with pytest.warns(UserWarning, match=f"stopped after {epoch} of 8 epochs"):
        est.fit(X)
    assert len(est.history_) == epoch
    assert est.predict(X).shape == (80,)
    assert np.isfinite(est.anchors_).all() and np.isfinite(est.score(X))

