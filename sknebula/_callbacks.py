"""skorch callbacks: one concern each."""

import math

import numpy as np
import torch
from skorch.callbacks import Callback

from ._anchors import (
    anchor_array,
    init_anchors_from_data,
    relocate_starving_anchors,
    set_anchors,
    training_latents,
)
from ._distributed import gather_rows, on_rank_zero, world_size


class AnchorInitializer(Callback):
    """Place the nebula anchors from data when training begins (the anchor
    phase starts from the warm-up's network, trained on a net of its own).

    Parameters
    ----------
    random_state : int
        Seed of the k-means that places the anchors.
    """

    def __init__(self, random_state):
        self.random_state = random_state

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # X is the training NeighbourPairs: its rows and partner table.
        if not net.module_.anchors_placed:
            init_anchors_from_data(
                net, X.X, self.random_state, X.neighbours, offset=X.offset
            )


def cosine_after_warmup(epoch, warmup_epochs, n_epochs):
    """Learning-rate factor: 1 through the warm-up, then a cosine from 1 to 0
    over the nebula phase (for ``torch.optim.lr_scheduler.LambdaLR``).

    At a constant rate a settled assignment could still flip late (the
    Nebula guide has the case); a rate that decays lets the anchors settle.
    """
    if epoch < warmup_epochs:
        return 1.0
    progress = (epoch - warmup_epochs) / max(1, n_epochs - warmup_epochs)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


class AnchorReseeder(Callback):
    """Re-seed starving anchors during the nebula phase.

    After every epoch once the anchors exist (but the last ``settle_epochs``,
    which let the moved anchors settle), an anchor whose share of the
    training latents falls below ``min_share`` of the fair share ``1/K``
    takes half of the largest cluster
    (:func:`relocate_starving_anchors`). Without it an anchor that loses its
    samples stays dead: nothing in the objective pulls it back.

    Parameters
    ----------
    min_share : float
        Fraction of the fair share ``n / K`` below which an anchor starves.
    settle_epochs : int
        Final epochs without re-seeding.
    random_state : int
        Seed of the splits and of the latent subsample.
    max_samples : int, default=10000
        Latents are computed on at most this many training samples.
    """

    def __init__(self, min_share, settle_epochs, random_state, max_samples=10000):
        self.min_share = min_share
        self.settle_epochs = settle_epochs
        self.random_state = random_state
        self.max_samples = max_samples

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        data = X.X
        max_samples = self.max_samples // world_size()  # per rank
        if len(data) > max_samples:
            rows = np.random.RandomState(self.random_state).choice(
                len(data), max_samples, replace=False
            )
            data = data[np.sort(rows)]
        self._X = data

    def on_epoch_end(self, net, **kwargs):
        if not net.module_.anchors_placed or len(net.history) > net.max_epochs - self.settle_epochs:
            return
        anchors = anchor_array(net)
        mu = gather_rows(training_latents(net, self._X))
        min_count = self.min_share * len(mu) / len(anchors)
        new, moved = on_rank_zero(
            relocate_starving_anchors, mu, anchors, min_count, self.random_state
        )
        net.history.record("reseeded", len(moved) // 2)
        if moved:
            set_anchors(net, new, moved)

    def on_train_end(self, net, **kwargs):
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
            recorded = [b for b in batches if name in b]
            # Terms an accelerator kept as tensors become floats, in one
            # transfer per term and epoch; CPU terms are floats already.
            pending = [b for b in recorded if torch.is_tensor(b[name])]
            if pending:
                read = torch.stack([b[name].float() for b in pending]).tolist()
                for batch, value in zip(pending, read):
                    batch[name] = value
            values = [b[name] for b in recorded]
            weights = [b["train_batch_size"] for b in recorded]
            net.history.record("train_" + name, float(np.average(values, weights=weights)))
