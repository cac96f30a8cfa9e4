"""skorch callbacks: one concern each."""

import math

import numpy as np
import torch
from skorch.callbacks import Callback
from sklearn.cluster import KMeans

from ._net import batched_apply


def init_anchors_from_data(net, X, random_state):
    """Place the anchors at the k-means++ centres of the latent means of X."""
    module = net.module_
    mu = batched_apply(
        module, X, lambda m, x: m.encode(x)[0], net.device, 1024
    )
    n_anchors = module.anchors.shape[0]
    km = KMeans(n_clusters=n_anchors, n_init=3, random_state=random_state).fit(mu)
    with torch.no_grad():
        module.anchors.copy_(torch.as_tensor(km.cluster_centers_, dtype=module.anchors.dtype))
        module.anchors_ready.fill_(True)


class AnchorInitializer(Callback):
    """Initialise the nebula anchors from data once the warm-up is over.

    Parameters
    ----------
    warmup_epochs : int
        Epochs trained before the anchors exist (0: initialise at the start).
    random_state : int
        Seed of the k-means that places the anchors.
    """

    def __init__(self, warmup_epochs, random_state):
        self.warmup_epochs = warmup_epochs
        self.random_state = random_state

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._X = X.X
        if self.warmup_epochs == 0 and not bool(net.module_.anchors_ready):
            init_anchors_from_data(net, self._X, self.random_state)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.warmup_epochs and not bool(net.module_.anchors_ready):
            init_anchors_from_data(net, self._X, self.random_state)

    def on_train_end(self, net, **kwargs):
        # Do not keep (and pickle) a reference to the training data.
        self._X = None


class DivergenceGuard(Callback):
    """Stop training with a clear error as soon as the loss is not finite."""

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"Training diverged at epoch {len(net.history)}: the loss is {loss}. "
                "Try a lower `lr` or standardise the input."
            )


class TermAverager(Callback):
    """Average the batch terms of the objective into epoch history entries.

    A term recorded per batch as ``"kl"`` appears per epoch as ``"train_kl"``.
    """

    def on_epoch_end(self, net, **kwargs):
        batches = net.history[-1, "batches"]
        names = {k for b in batches for k in b} - {"train_loss", "train_batch_size"}
        for name in sorted(names):
            values = [b[name] for b in batches if name in b]
            weights = [b["train_batch_size"] for b in batches if name in b]
            net.history.record("train_" + name, float(np.average(values, weights=weights)))
