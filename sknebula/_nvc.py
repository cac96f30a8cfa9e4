"""Nebula Variational Coding training shared by the clusterer and the autoencoder."""

import copy
import warnings
from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import logsumexp
from skorch.callbacks import LRScheduler
from skorch.history import History
from torch.optim.lr_scheduler import LambdaLR
from sklearn.base import TransformerMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import (
    MAX_AUTO_BATCH,
    MIN_AUTO_BATCH,
    SAMPLE_BUDGET,
    BaseDeepEstimator,
    auto_batch,
    auto_epochs,
    auto_restarts,
    max_epochs_doc,
)
from ._distributed import gather_rows, on_rank_zero, pooled_rows, total, world_size
from ._anchors import (
    PLACEMENT_ROWS,
    anchor_array,
    evenly_spaced,
    init_anchors_from_data,
    latent_means,
    nearest_anchor,
    partner_modularity,
    relocate_starving_anchors,
    set_anchors,
)
from ._random import build_seeded, drawing_from, fresh_generator
from ._callbacks import AnchorInitializer, AnchorReseeder, cosine_after_warmup
from ._data import (
    NEIGHBOR_ALGORITHMS,
    NEIGHBORS_ALGORITHM_PARAM_DOC,
    NeighbourPairs,
    check_neighbors_algorithm,
    neighbour_table,
)
from .augment import ImageAugment
from .nn import NebulaVAE, build_encoder_decoder
from .objectives.nebula import NebulaLoss, kl_to_anchors
from .objectives.reconstruction import RECONSTRUCTIONS, decoder_mean, reconstruction_nll
from .series import paired_dtw, paired_sbd, spectrum_features


# The reconstruction weighs in training as if the data had this many
# features, whatever its width (see NebulaLoss); the ELBO (score) keeps the
# full likelihood.
REFERENCE_FEATURES = 64
# The partner views of images (views="auto"): shifts of up to 7% of the
# side, rotations of up to 10 degrees and crops of 85-100% of the area.
PARTNER_IMAGE_VIEWS = dict(
    crop_scale=(0.85, 1.0), flip=0.0, rotation=10.0, translation=0.07, noise=0.0
)
# The share of the epochs that warmup_epochs="auto" trains before the anchors
# exist; the restarts share it and each trains the rest.
WARMUP_SHARE = 0.75
# An anchor owning less than this fraction of its fair share n / K of the
# training samples is re-seeded during training (AnchorReseeder).
STARVING_SHARE = 0.1
# The most neighbours score() judges a clustering on, and the most partner
# candidates per sample that n_neighbors="auto" draws from.
DEFAULT_NEIGHBOURS = 20
# The fewest partner candidates per sample that "auto" draws from.
MIN_NEIGHBOURS = 5
# Restarts are judged on each sample's closest few partners, not on all of
# them: the model was trained to keep every partner together, so the full
# table hardly tells restarts apart, while the closest, the purest, do (the
# Nebula guide has the measurements).
JUDGED_PARTNERS = 5
# Data-parallel, every rank holds the rows of all ranks for partners up to
# this size: partners from a rank's own shard are sparser and cost accuracy
# (the scaling guide). Beyond it (data larger than memory), partners stay
# within each rank's shard.
POOL_BYTES = 2**30



# Parameter docs the clusterer and the autoencoder share word for word.
PARTNERS_PARAM_DOC = """    n_neighbors : int or "auto", default="auto"
        Neighbours among which each sample's partner is drawn, by Euclidean
        distance on features of the data kind (the data kinds guide says
        which shapes are which kind): for images, whatever the encoder, on
        edge orientations pooled over cells of a seventh of the image,
        which a stroke moved or bent a little does not change
        (:func:`sknebula.nn.image.image_features`, the pixels of images too
        small for it); for the "pointcloud" encoder on pose-free shape
        descriptors (``sknebula.nn.pointcloud.shape_distribution``), for
        the "conv3d" encoder on the Fourier magnitudes of the volume
        centred and scaled to one size by its moments, which neither its
        position nor its size changes
        (``sknebula.nn.conv3d.volume_descriptor``), for the "sequence"
        encoder on the series beside its Fourier magnitudes, which no time
        shift changes (``sknebula.nn.sequence.series_descriptor``), for the
        "tokens" encoder on token and bigram frequencies
        (``sknebula.nn.sequence.ngram_profile``); on the flattened sample
        otherwise. 0 trains without partners: the warm-up is then
        reconstruction alone. "auto" is a third of an anchor's fair share
        ``n_samples // n_anchors``, between 5 and 20, so that partners stay
        inside their cluster.
"""


METRIC_PARAM_DOC = """    metric : {"auto", "euclidean", "spectrum", "sbd", "dtw"}, callable or transformer, default="auto"
        What makes two samples partners. "auto" is the data kind's own
        (see ``n_neighbors``); "euclidean" the Euclidean distance on the
        flattened input, the pixels of images included. For series
        (``encoder="sequence"``): "spectrum" compares the magnitudes of
        their Fourier spectra alone (blind to where in time events fall;
        :func:`sknebula.series.spectrum_features`),
        "sbd" k-Shape's shape-based distance (the best cross-correlation
        over every time shift; :func:`sknebula.series.paired_sbd`), "dtw"
        dynamic time warping within a band of 10% of the length
        (:func:`sknebula.series.paired_dtw`). A callable ``metric(a, b)``
        takes two samples (arrays of one sample's shape) and returns their
        distance. "sbd", "dtw" and a callable rank the
        ``5 * n_neighbors`` (at least 50) nearest candidates of the "auto"
        search, so their cost stays linear in the number of samples. A
        scikit-learn transformer (an object with ``fit_transform``, such as
        ``PCA(30)`` or ``umap.UMAP()``) finds partners as the Euclidean
        neighbours of its output: a clone of it is fitted on the flattened
        samples each search compares (the training set, or the data
        ``score`` judges). The data kinds guide says which to pick when.
"""
VIEWS_PARAM_DOC = """    views : "auto", callable or None, default="auto"
        Augmentation each drawn partner passes through before it is
        encoded, afresh every time: the partner the contrastive and
        consistency terms compare a sample with is then a view of a
        neighbour, which teaches the encoder the invariances the views
        hold. "auto" gives images (``encoder="conv2d"``) a small random
        shift, rotation and zoom (:func:`partner_image_views`) and other
        data kinds none; None draws partners as they are. A callable maps a
        float torch batch to one of the same shape (for flattened images:
        ``ImageAugment(image_shape=(28, 28), flip=0.0)``, see
        :mod:`sknebula.augment`); it draws from the fit's own generator
        when it takes a ``generator`` keyword. The sample itself, and what
        it reconstructs, stay as they are; the graph that judges a
        clustering (placement, restarts, ``score``) is the partner table's.
"""
# Partner metrics that only series can use.
SERIES_METRICS = ("spectrum", "sbd", "dtw")


def partner_image_views(image_shape=None):
    """The image views ``views="auto"`` gives image partners: a small
    random shift, rotation and zoom, the invariances of nearly every image
    kind; no flip, which changes a digit or a letter, and no noise."""
    return ImageAugment(**PARTNER_IMAGE_VIEWS, image_shape=image_shape)


def _paired(metric):
    """A user's ``metric(a, b)`` applied to paired rows."""
    def distances(A, B):
        return np.fromiter((metric(a, b) for a, b in zip(A, B)), dtype=np.float64, count=len(A))
    return distances


def _transformed(transformer):
    """Features: a clone of ``transformer`` fitted on the (flattened)
    samples the search compares, and their transform."""
    def features(X):
        flat = np.asarray(X).reshape(len(X), -1)
        return np.asarray(clone(transformer).fit_transform(flat), dtype=np.float32)
    return features


def partner_search(metric, kind):
    """``(features, distance)`` of the partner search that ``metric`` asks
    for on samples of ``kind``, a :class:`~sknebula._kinds.SampleKind`
    (see :func:`sknebula._data.neighbour_table`)."""
    if hasattr(metric, "fit_transform"):
        return _transformed(metric), None
    features = kind.partner_features
    if metric == "auto":
        return features, None
    if metric == "euclidean":
        return None, None
    if metric == "spectrum":
        return spectrum_features, None
    return features, {"sbd": paired_sbd, "dtw": paired_dtw}.get(metric) or _paired(metric)


def _largest_n(restarts):
    """The most samples on which ``n_init="auto"`` trains ``restarts``
    restarts, found from the code's own rules (for the docs)."""
    def trained(n):
        batch = auto_batch(n, NebulaBase._full_passes, NebulaBase._min_steps)
        epochs = auto_epochs(n, NebulaBase._full_passes, batch, NebulaBase._min_steps)
        return auto_restarts(n, epochs, WARMUP_SHARE)
    lo, hi = 1, SAMPLE_BUDGET
    while lo < hi:  # restarts fall as n grows
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if trained(mid) >= restarts else (lo, mid - 1)
    return lo


def _auto_batch_limit():
    """The fewest samples on which ``batch_size="auto"`` takes the largest
    batch (for the docs)."""
    passes, steps = NebulaBase._full_passes, NebulaBase._min_steps
    return next(n for n in range(1, MAX_AUTO_BATCH * steps)
                if auto_batch(n, passes, steps) == MAX_AUTO_BATCH)


def nebula_params_doc(n_init_default):
    """The docs of the training hyper-parameters that the clusterer and
    the autoencoder share, from ``beta`` to ``lr``: written once."""
    return (
        """    beta : float, default=1.0
        Weight of the KL term to the anchors.
    metric_weight : float, default=1.0
        Weight of the anchor triplet (metric-learning) term.
    margin : float, default=1.0
        Margin of the triplet term, in latent distance units.
"""
        + PARTNERS_PARAM_DOC
        + METRIC_PARAM_DOC
        + NEIGHBORS_ALGORITHM_PARAM_DOC
        + VIEWS_PARAM_DOC
        + f"""    warmup_epochs : int or "auto", default="auto"
        Epochs before the anchors are placed; "auto" is
        {WARMUP_SHARE:.0%} of the epochs trained (``n_epochs_``). The
        restarts (``n_init``) share one warm-up.
    contrastive_weight : float, default=10.0
        Weight of the InfoNCE term between partners, in both phases.
    consistency_weight : float, default=1.0
        Weight of the term that makes a sample and its partner share anchors.
    balance_weight : float, default=5.0
        Weight of the term that keeps every anchor in use.
    reconstruction : {{"auto", "bernoulli", "gaussian", "categorical", "chamfer"}}, default="auto"
        Likelihood of the decoder. "auto" takes the encoder's own
        ("categorical" for tokens, "chamfer" for point clouds), else
        "bernoulli" when the target (the input, unless a target is given)
        lies in [0, 1] and "gaussian" otherwise. A Gaussian has the
        target's own standard deviation, so the objective does not depend
        on the units of the data, and in training the reconstruction weighs
        as {REFERENCE_FEATURES} features' worth whatever the width
        (``score`` keeps the full likelihood).
    n_init : int or "auto", default={n_init_default}
        Number of restarts of the anchor phase, from different seeds after
        one shared warm-up. The kept one is the one whose anchor assignment
        best keeps each sample's closest partners together (modularity on
        their graph; the final training objective without partners). Each
        restart costs the epochs after the warm-up. "auto" restarts as often
        as all of them together stay within the sample budget of
        ``max_epochs="auto"``: 3 times on up to {_largest_n(3):,} samples,
        twice on up to {_largest_n(2):,}, else once; once too when
        ``max_epochs`` is an integer. The restarts trained are in
        ``n_init_``.
"""
        + max_epochs_doc(
            NebulaBase._full_passes,
            "Total training epochs (warm-up included).",
            NebulaBase._min_steps,
        )
        + f"""    batch_size : int or "auto", default="auto"
        Mini-batch size. The in-batch terms (InfoNCE's negatives, the
        anchor balance) see a batch at a time, so it is part of the
        objective as well as of the cost. "auto" takes {MAX_AUTO_BATCH}, or,
        where {NebulaBase._full_passes} epochs of {MAX_AUTO_BATCH} would make
        fewer than {NebulaBase._min_steps} optimiser steps (fewer than
        {_auto_batch_limit():,} samples), the batch that makes them in
        {NebulaBase._full_passes} epochs, at least {MIN_AUTO_BATCH}: small data
        takes more, smaller steps rather than more passes. With an integer
        ``max_epochs``, {MAX_AUTO_BATCH}. The batch used is in ``batch_size_``.
    lr : float, default=2e-3
        Learning rate.
"""
    )


N_INIT_ATTR_DOC = """    n_init_ : int
        Restarts trained: ``n_init``, or what "auto" made of it.
    batch_size_ : int
        Mini-batch size trained: ``batch_size``, or what "auto" made of it.
"""


def auto_neighbours(n_samples, n_anchors):
    """Partner candidates per sample for ``n_neighbors="auto"``.

    A partner should come from its sample's own cluster, which holds about
    ``n_samples / n_anchors`` samples: searching a third of that keeps the
    candidates inside it. Between 5 and 20.
    """
    fair_share = n_samples // n_anchors
    return int(np.clip(fair_share // 3, MIN_NEIGHBOURS, DEFAULT_NEIGHBOURS))


def score_neighbours(n_samples):
    """Neighbours per sample of the graph ``score`` judges a clustering on.

    The square root of the number of samples, between 5 and 20. Like the
    partners, the graph should stay inside a sample's cluster; it cannot
    follow ``n_anchors`` as the partners do, since a search compares
    clusterings with different anchor counts on the same graph. A fixed 20
    reached beyond the clusters of small held-out folds (the Nebula guide's
    "Choosing n_anchors" has the measurements).
    """
    return int(np.clip(np.sqrt(n_samples), MIN_NEIGHBOURS, DEFAULT_NEIGHBOURS))


def _spread(target, max_rows=100_000):
    """Standard deviation of ``target``, on evenly spaced rows of large data:
    ``np.std`` makes a full-size temporary, too much for a memory map."""
    step = -(-len(target) // max_rows)
    return np.std(target[::step])


class Restart(NamedTuple):
    """One trained restart of the anchor phase."""

    net: object
    seed: int
    # Latent means of this rank's training rows under the trained net.
    latents: np.ndarray
    # Label-free quality (higher is better); None when it is the only one.
    quality: float | None
    # The training pairs: the partner table, its pool and offset.
    pairs: NeighbourPairs


def join_histories(warm, net):
    """Prepend the warm-up net's epochs to ``net``'s history, numbered on,
    so that ``history_`` shows the whole fit."""
    history = History(list(warm.history) + [dict(e) for e in net.history])
    for epoch, entry in enumerate(history, start=1):
        entry["epoch"] = epoch
    net.history_ = history


def final_objective(history, last=5):
    """Mean training loss of the last few epochs."""
    losses = history[:, "train_loss"]
    return float(np.mean(losses[-min(last, len(losses)):]))


class NebulaBase(TransformerMixin, BaseDeepEstimator):
    """Fit an NVC model; ``transform`` and ``inverse_transform`` are written
    here once (a TransformerMixin, so that ``set_output`` wraps them);
    subclasses add the sklearn role on top."""

    _criterion = NebulaLoss

    _parameter_constraints: dict = {
        **BaseDeepEstimator._parameter_constraints,
        "n_anchors": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "metric_weight": [Interval(Real, 0, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "metric": [
            StrOptions({"auto", "euclidean", *SERIES_METRICS}), callable,
            HasMethods(["fit_transform"]),
        ],
        "neighbors_algorithm": [StrOptions(set(NEIGHBOR_ALGORITHMS))],
        "views": [StrOptions({"auto"}), callable, None],
        "warmup_epochs": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "contrastive_weight": [Interval(Real, 0, None, closed="left")],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "balance_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction": [StrOptions({"auto", *RECONSTRUCTIONS})],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    }

    # On small data a fit makes 80 passes and at least 320 steps (80 passes
    # of digits are 320 batches of 512; smaller data takes smaller batches,
    # see auto_batch); the warm-up takes WARMUP_SHARE.
    _full_passes = 80
    _min_steps = 320
    _data_parallel = True

    def _anchor_count(self):
        """The number of anchors to train: ``n_anchors`` (a subclass may
        resolve an "auto" of its own)."""
        return self.n_anchors

    def _warmup_epochs(self):
        if self.warmup_epochs == "auto":
            return int(WARMUP_SHARE * self.n_epochs_)
        if self.warmup_epochs >= self.n_epochs_:
            raise ValueError(
                f"warmup_epochs={self.warmup_epochs} must be smaller than the "
                f"{self.n_epochs_} training epochs (max_epochs={self.max_epochs!r}), "
                "or the anchors are never trained."
            )
        return self.warmup_epochs

    def _score_neighbours(self, X, n_neighbors=None):
        """Each sample's nearest neighbours for ``score``, found as the
        partners are: ``n_neighbors`` of them, by default
        :func:`score_neighbours` of the number of samples."""
        if n_neighbors is None:
            n_neighbors = score_neighbours(len(X))
        features, distance = partner_search(self.metric, self._sample_kind(X.shape[1:]))
        return neighbour_table(
            np.asarray(X, dtype=np.float32), n_neighbors, features, self.neighbors_algorithm,
            distance=distance,
        )

    def _neighbours(self, X, queries=None):
        """Each sample's partner candidates (those of the rows in the slice
        ``queries``), or None to warm up without."""
        n_neighbors = self.n_neighbors
        if n_neighbors == "auto":
            n_neighbors = auto_neighbours(len(X), self._anchor_count())
        features, distance = partner_search(self.metric, self._sample_kind(X.shape[1:]))
        return neighbour_table(
            X, n_neighbors, features, self.neighbors_algorithm, queries, distance
        )

    def _fit_nebula(self, X, target):
        """Train the NVC model on validated X to reconstruct ``target``.

        One warm-up, shared by the ``n_init_`` restarts of the anchor phase
        that follow it from different seeds; the best restart by
        :meth:`_restart_quality` is kept. Sets ``net_``, ``anchors_``,
        ``objective_`` and ``reconstruction_``; returns the kept
        :class:`Restart`.
        """
        self._check_hyper_parameters()
        check_neighbors_algorithm(self.neighbors_algorithm)
        if self.metric in SERIES_METRICS and self.encoder != "sequence":
            raise ValueError(
                f"metric={self.metric!r} compares series; it needs "
                f"encoder='sequence', got encoder={self.encoder!r}. Use 'auto', "
                "'euclidean' or a callable."
            )
        self.n_anchors_ = self._anchor_count()
        if len(X) < self.n_anchors_:
            raise ValueError(
                f"n_samples={len(X)} should be >= n_anchors={self.n_anchors_}: "
                "every anchor needs at least one sample."
            )
        self._resolve_epochs(len(X))
        self._resolve_restarts(len(X))
        warmup = self._warmup_epochs()
        reconstruction = self._reconstruction(target)
        X32 = np.asarray(X, dtype=np.float32)
        seeds = self._seeds(self.n_init_)
        # Built first: a sample shape that does not fit the encoder is
        # reported before the neighbour search.
        module, generator = build_seeded(self._build_module, seeds[0])
        if reconstruction == "gaussian":
            module.loc.fill_(float(target.mean()))
            module.scale.fill_(float(_spread(target)) or 1.0)
        data = self._pairs(X32, X32 if target is X else np.asarray(target, np.float32))
        criterion_params = self._criterion_params(reconstruction, target)
        warm = self._warm_up(module, data, criterion_params, warmup, generator, seeds[0])
        # A warm-up stopped early (interrupted, or by a callback) ends the fit.
        stopped = warm is not None and len(warm.history) < warmup
        epochs = 0 if stopped else self.n_epochs_ - warmup
        restarts = []
        for seed in seeds[: 1 if stopped else None]:
            start = copy.deepcopy(module if warm is None else warm.module_)
            restarts.append(
                self._anchor_phase(start, X32, data, criterion_params, warm, epochs, seed)
            )
            if len(restarts[-1].net.history) < self.n_epochs_:
                break  # stopped early: the user asked for the model as it is
        best = max(restarts, key=lambda r: r.quality)
        net = best.net
        self.objective_ = total(final_objective(net.history)) / world_size()
        self.net_ = net
        self.reconstruction_ = reconstruction
        self.anchors_ = anchor_array(net)
        return best

    def _pairs(self, X32, Y32):
        """The training pairs: each sample with its partner candidates,
        drawn (data-parallel) from the rows of every rank where they fit,
        each partner seen through :meth:`_partner_views`."""
        views = self._partner_views(X32.shape[1:])
        pool, offset = pooled_rows(X32, POOL_BYTES)
        if pool is None:
            return NeighbourPairs(X32, Y32, self._neighbours(X32), views=views)
        # Each rank searches only its own rows' partners among the pool.
        neighbours = self._neighbours(pool, slice(offset, offset + len(X32)))
        return NeighbourPairs(X32, Y32, neighbours, pool, offset, views=views)

    def _partner_views(self, sample_shape):
        """The augmentation each drawn partner passes through, or None."""
        if self.views != "auto":
            return self.views
        kind = self._sample_kind(sample_shape)
        if kind.partner_views == "image":
            return partner_image_views(kind.image_shape)
        return None

    def _resolve_restarts(self, n_samples):
        """Set ``n_init_``, the restarts this fit trains (after
        ``n_epochs_``; data-parallel, from the samples of all ranks)."""
        if self.n_init != "auto":
            self.n_init_ = int(self.n_init)
        elif self.max_epochs == "auto":
            self.n_init_ = auto_restarts(total(n_samples), self.n_epochs_, WARMUP_SHARE)
        else:
            self.n_init_ = 1
        return self.n_init_

    @staticmethod
    def _restart_quality(net, mu, neighbours, offset=None, every_mu=None):
        """Label-free quality of a trained restart (higher is better), from
        its latent means ``mu`` and the partner table ``neighbours`` (which
        indexes the rows of all ranks from ``offset`` on when pooled, see
        :class:`sknebula._data.NeighbourPairs`, whose latents ``every_mu``
        are then gathered here unless given).

        The modularity of the nearest-anchor assignment on the graph of each
        sample's ``JUDGED_PARTNERS`` closest partners
        (:func:`sknebula.metrics.graph_modularity`): whether the anchors keep
        the neighbours the model was told to trust together, beyond chance.
        Without partners (``n_neighbors=0``), the final objective. Judged, as
        the anchor placement is, on at most ``PLACEMENT_ROWS`` evenly spaced
        rows and their partners, so that the cost does not grow with the data.
        """
        if neighbours is None:
            quality = -final_objective(net.history)
        else:
            rows = evenly_spaced(len(mu), PLACEMENT_ROWS)
            closest = neighbours[:, :JUDGED_PARTNERS]
            if offset is None:
                space, start = mu, 0
            else:
                space = gather_rows(mu) if every_mu is None else every_mu
                start = offset
            quality = partner_modularity(space, closest, anchor_array(net), rows, start)
        # Data-parallel, each rank judges its own shard: every rank must
        # keep the same restart, so they keep the best mean.
        return total(quality) / world_size()

    def _build_module(self):
        """The VAE with ``n_anchors_`` anchors for samples of ``input_shape_``
        and targets of ``target_shape_`` (the autoencoder's; the input's
        otherwise); see :meth:`BaseDeepEstimator._build_module`."""
        encoder, decoder = build_encoder_decoder(
            self.encoder,
            self.input_shape_,
            getattr(self, "target_shape_", self.input_shape_),
            self.latent_dim,
            self._hidden_dims(self.input_shape_),
            self.encoder_params,
        )
        return NebulaVAE(encoder, decoder, self.latent_dim, self.n_anchors_)

    def _criterion_params(self, reconstruction, target):
        n_target_features = int(np.prod(target.shape[1:]))
        return dict(
            reconstruction=reconstruction,
            reconstruction_weight=REFERENCE_FEATURES / n_target_features,
            beta=self.beta,
            metric_weight=self.metric_weight,
            margin=self.margin,
            contrastive_weight=self.contrastive_weight,
            consistency_weight=self.consistency_weight,
            balance_weight=self.balance_weight,
        )

    def _warm_up(self, module, data, criterion_params, warmup, generator, seed):
        """Train ``module`` for the ``warmup`` epochs before the anchors
        exist (at the full rate), drawing from ``generator`` (see
        :mod:`sknebula._random`); the net, or None without a warm-up.

        Restarts share it: what sets restarts apart is where the anchors
        land and how the assignment settles, which the anchor phase decides.
        """
        if warmup == 0:
            return None
        # The rate is constant here; the scheduler records it in the history.
        constant = partial(cosine_after_warmup, warmup_epochs=warmup, n_epochs=warmup)
        net = self._make_net(
            module, self._criterion, criterion_params, len(data), warmup,
            callbacks=[("lr", LRScheduler(policy=LambdaLR, lr_lambda=constant))],
        )
        with drawing_from(generator, seed, net.device, module, data):
            return self._fit_net(net, data, warmup)

    def _anchor_phase(self, module, X32, data, criterion_params, warm, epochs, seed):
        """One restart: place the anchors on ``module`` (fresh, or a copy of
        the warm-up's) and train the remaining epochs on a fresh net while
        the rate decays to 0 on a cosine; every anchor is then given
        samples. Returns a :class:`Restart`."""
        net = self._make_net(
            module,
            self._criterion,
            criterion_params,
            len(X32),
            epochs,
            callbacks=[
                ("anchors", AnchorInitializer(seed)),
                (
                    "reseed",
                    AnchorReseeder(
                        STARVING_SHARE, settle_epochs=max(1, epochs // 10), random_state=seed
                    ),
                ),
                (
                    "lr",
                    LRScheduler(
                        policy=LambdaLR,
                        lr_lambda=partial(cosine_after_warmup, warmup_epochs=0, n_epochs=epochs),
                    ),
                ),
            ],
        )
        if epochs > 0:
            with drawing_from(fresh_generator(seed), seed, net.device, module, data):
                self._fit_net(net, data, epochs, before=self.n_epochs_ - epochs)
        else:  # the warm-up was stopped early: no anchor phase to train
            net.initialize()
        if not net.module_.anchors_placed:
            init_anchors_from_data(net, X32, seed, data.neighbours, offset=data.offset)
        if warm is not None:
            join_histories(warm, net)
        mu = latent_means(net, X32)
        every_mu = self._revive_dead_anchors(net, mu, seed)
        quality = None
        if self.n_init_ > 1:
            quality = self._restart_quality(net, mu, data.neighbours, data.offset, every_mu)
        return Restart(net, seed, mu, quality, data)

    def _revive_dead_anchors(self, net, mu, seed):
        """Give every anchor that owns no training sample (latent means
        ``mu``) half of the largest cluster; warn if some still own none
        (fewer distinct latents than anchors). Returns the latents of every
        rank's rows, gathered for the decision."""
        mu = gather_rows(mu)
        anchors = anchor_array(net)
        new, moved = on_rank_zero(relocate_starving_anchors, mu, anchors, 1, seed)
        if moved:
            set_anchors(net, new, moved)
        counts = np.bincount(nearest_anchor(mu, new), minlength=len(new))
        if (counts == 0).any():
            warnings.warn(
                f"{int((counts == 0).sum())} of n_anchors={len(new)} anchors own no "
                "training sample: the data has too few distinct samples (or the "
                "encoder maps them onto too few points) for that many anchors.",
                UserWarning,
            )
        return mu

    # -------------------------------------------------------------- inference
    def transform(self, X):
        """Latent means of X (the learnt features).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            Posterior means.
        """
        check_is_fitted(self)
        return self._latent_means(self._validate_X(X, reset=False))

    def inverse_transform(self, X):
        """Decode latent vectors to data space (decoder means).

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Latent vectors.

        Returns
        -------
        X_original : ndarray of shape (n_samples, ...)
            Decoded samples, of the shape of one training sample
            (``input_shape_``), or of one target where the autoencoder was
            given one (``target_shape_``).
        """
        check_is_fitted(self)
        return self._decode(self._check_latent(X))

    def _latent_means(self, X):
        return self._apply(X, lambda m, x: m.encode(x)[0])

    def _check_latent(self, Z):
        Z = check_array(Z, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Latent X has {Z.shape[1]} features, but {type(self).__name__} "
                f"has latent_dim={self.latent_dim}."
            )
        return Z

    def _decode(self, Z):
        return self._apply(
            Z, lambda m, z: decoder_mean(self.reconstruction_, m.decode(z))
        )

    def _nll_and_kl(self, X, target):
        """Reconstruction NLL at the posterior mean and KL to every anchor."""

        n = len(X)
        Xf = X.reshape(n, -1)
        tf = target.reshape(n, -1)
        joined = np.concatenate([Xf, tf], axis=1)
        split = Xf.shape[1]
        x_shape, t_shape = X.shape[1:], target.shape[1:]

        def terms(m, batch):
            x = batch[:, :split].reshape(-1, *x_shape)
            t = batch[:, split:].reshape(-1, *t_shape)
            mu, logvar = m.encode(x)
            nll = reconstruction_nll(self.reconstruction_, m.decode(mu), t, m.scale)
            return nll, kl_to_anchors(mu, logvar, m.anchors)

        return self._apply(joined, terms)

    def _elbo(self, X, target, log_weights):
        """Per-sample ELBO with the anchor mixture prior sum_k pi_k N(a_k, I).

        KL(q || mixture) is bounded above by -log sum_k pi_k exp(-KL(q || N(a_k, I))),
        so the value returned is a lower bound of the ELBO (the reconstruction
        term is evaluated at the posterior mean).
        """
        nll, kl = self._nll_and_kl(X, target)
        return -nll + logsumexp(log_weights - kl, axis=1)

    def _sample_latents(self, n_samples, weights):
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples}. It must be >= 1.")
        rng = check_random_state(self.random_state)
        anchor = rng.choice(len(self.anchors_), size=n_samples, p=weights)
        z = self.anchors_[anchor] + rng.standard_normal(size=(n_samples, self.anchors_.shape[1]))
        return z, anchor
