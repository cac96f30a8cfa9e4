"""The base estimator shared by every sknebula estimator.

It owns what is not specific to a method: hyper-parameter validation,
input validation, seeding, device choice, building and fitting the skorch
net, and batched inference. Subclasses build the module and the criterion.
"""

import copy
import functools
import textwrap
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import ProgressBar
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _distributed
from ._callbacks import DivergenceGuard, TermAverager
from ._data import batch_loader
from ._kinds import kind_of
from ._random import global_state_kept
from ._net import NebulaNet, batched_apply
from .nn import ARCHITECTURES, auto_hidden_dims, default_reconstruction
from .series import equal_length, is_series_list, is_unequal_length


# max_epochs="auto": every sample is seen this many times in all, up to the
# estimator's full number of passes and down to MIN_AUTO_EPOCHS, so that fit
# cost stops growing with n on large data.
SAMPLE_BUDGET = 2_048_000
MIN_AUTO_EPOCHS = 4


def auto_epochs(n_samples, full_passes, batch_size=None, min_steps=0, epoch_rows=None):
    """Epochs for ``max_epochs="auto"``: ``full_passes`` on small data, a
    fixed budget of samples seen on large data, never fewer than 4; and, with
    ``batch_size``, at least ``min_steps`` optimiser steps, which a small
    data set takes in few batches an epoch. An epoch steps through
    ``epoch_rows`` rows (``n_samples``; data-parallel, the largest shard,
    since every rank takes a batch each step)."""
    n_samples = max(n_samples, 1)
    epochs = -(-SAMPLE_BUDGET // n_samples)  # ceil
    epochs = min(full_passes, max(MIN_AUTO_EPOCHS, epochs))
    if batch_size is not None:
        rows = max(int(epoch_rows or n_samples), 1)
        steps_per_epoch = -(-rows // min(batch_size, rows))
        epochs = max(epochs, -(-min_steps // steps_per_epoch))
    return int(epochs)


# batch_size="auto" (the nebula estimators): the largest batch, and the
# smallest it shrinks to on small data.
MAX_AUTO_BATCH = 512
MIN_AUTO_BATCH = 64


def auto_batch(epoch_rows, full_passes, min_steps):
    """Batch for ``batch_size="auto"``: ``MAX_AUTO_BATCH``, or, on data so
    small that ``full_passes`` epochs at it make fewer than ``min_steps``
    optimiser steps, the batch that makes them in ``full_passes`` epochs
    (at least ``MIN_AUTO_BATCH``): small data then takes more, smaller
    steps instead of more passes. An epoch steps through ``epoch_rows``
    rows (data-parallel, those of the largest shard)."""
    rows = max(int(epoch_rows), 1)
    if -(-rows // MAX_AUTO_BATCH) * full_passes >= min_steps:
        return MAX_AUTO_BATCH
    return int(max(MIN_AUTO_BATCH, -(-rows * full_passes // max(min_steps, 1))))


# n_init="auto": restarts while all of them together see no more samples
# than SAMPLE_BUDGET, at most MAX_AUTO_RESTARTS.
MAX_AUTO_RESTARTS = 3


def auto_restarts(n_samples, n_epochs, shared_share=0.0):
    """Restarts for ``n_init="auto"`` once ``max_epochs="auto"`` chose
    ``n_epochs``: as many as the sample budget holds, 1 to 3. Restarts share
    the first ``shared_share`` of the epochs (a warm-up trained once)."""
    one_restart = max(n_samples * n_epochs, 1)
    budget = SAMPLE_BUDGET / one_restart - shared_share
    fits = int(budget / (1.0 - shared_share)) if budget > 0 else 0
    return int(min(MAX_AUTO_RESTARTS, max(1, fits)))


def max_epochs_doc(full_passes, what="Training epochs.", min_steps=0):
    """The ``max_epochs`` parameter doc of an estimator whose "auto" makes
    ``full_passes`` passes over small data (and at least ``min_steps``
    optimiser steps)."""
    text = (
        f'{what} "auto" trains {full_passes} epochs on up to '
        f"{SAMPLE_BUDGET // full_passes:,} samples and, on more, as many as see "
        f"{SAMPLE_BUDGET:,} samples in all (at least {MIN_AUTO_EPOCHS}), so that "
        "the cost of training stops growing with the number of samples"
    )
    if min_steps:
        text += (
            f"; on data so small that {full_passes} epochs make fewer than "
            f"{min_steps} optimiser steps, as many epochs as make {min_steps}"
        )
    text += ". The epochs trained are in ``n_epochs_``."
    body = textwrap.fill(text, 72, initial_indent=" " * 8, subsequent_indent=" " * 8)
    return f'    max_epochs : int or "auto", default="auto"\n{body}\n'


N_EPOCHS_ATTR_DOC = """    n_epochs_ : int
        Epochs trained: ``max_epochs``, or what "auto" made of it.
    images_centred_ : bool
        Whether every image (training and new) is moved by whole pixels to
        put its centre of mass at the frame's centre before anything reads
        it: images whose training centres of mass spread by more than a
        pixel (objects anywhere in the frame), never other kinds. The
        outputs that are images (reconstructions, samples) are centred too.
        The data kinds guide has the rule.
"""


def keeps_global_random_state(fit):
    """Make ``fit`` leave torch's global random generators (CPU and every
    CUDA device) as it found them.

    Training seeds torch from ``random_state`` (module initialisation, the
    reparameterisation noise, the views and partner draws); without this,
    a fit would change what the caller's own torch code draws next.
    """

    @functools.wraps(fit)
    def fit_with_own_generators(self, *args, **kwargs):
        with global_state_kept():
            return fit(self, *args, **kwargs)

    return fit_with_own_generators


def _hidden_dims_ok(hidden_dims):
    return all(isinstance(h, Integral) and h > 0 for h in hidden_dims)


def _holds_integers(X):
    """Whether the user's X has an integer dtype (before validation casts)."""
    if isinstance(X, torch.Tensor):
        return not (X.is_floating_point() or X.is_complex())
    dtype = getattr(X, "dtype", None)  # None for lists and data frames
    return dtype is not None and np.issubdtype(np.dtype(dtype), np.integer)


class BaseDeepEstimator(BaseEstimator):
    """Shared machinery; not a public estimator."""

    # What max_epochs="auto" trains on data of up to 8,192 samples (the
    # Nebula estimators override it).
    _full_passes = 100
    # The fewest optimiser steps max_epochs="auto" trains (0: no floor).
    _min_steps = 0
    # Whether fit under an initialised torch.distributed process group
    # trains one model from the ranks' shards (see _distributed).
    _data_parallel = False
    # The objective (an nn.Module class returning the loss) the net trains;
    # sknebula.io.load rebuilds the net around the same one.
    _criterion = None

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions(set(ARCHITECTURES)), type],
        "encoder_params": [dict, None],
        "hidden_dims": [StrOptions({"auto"}), tuple, list],
        "sample_shape": [tuple, list, None],
        "max_epochs": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "device": [str, torch.device],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ input
    def _validate_X(self, X, reset):
        """Validate X (2-d or n-d), record or check its per-sample shape.

        Series of unequal lengths for the "sequence" encoder (a list of
        arrays, or NaN padding) are first resampled to the longest one's
        length; after fit, such series and any list of series arrays are
        resampled to the training length.
        """
        integer_input = _holds_integers(X)
        if self.encoder == "sequence" and (
            is_unequal_length(X) or (not reset and is_series_list(X))
        ):
            X = equal_length(X, None if reset else self.input_shape_[-1])
        X = validate_data(
            self,
            X,
            reset=reset,
            allow_nd=True,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if reset else 1,
        )
        if 0 in X.shape[1:]:
            # validate_data counts features over every axis but the first
            # only for 2-d input; an empty axis of an n-d sample is as empty.
            raise ValueError(
                f"Found array with 0 feature(s) (samples of shape {X.shape[1:]}) while "
                "a minimum of 1 is required."
            )
        # max and min, not abs: no copy of X (which may be a memory map).
        largest = max(abs(float(X.max())), abs(float(X.min()))) if X.size else 0.0
        if largest > np.finfo(np.float32).max:
            # Training runs in float32, where such values become inf.
            raise ValueError(
                "X contains values too large for float32 training "
                f"(largest magnitude {largest:.3g}); rescale the data."
            )
        if reset:
            self.input_shape_ = X.shape[1:]
            kind = self._sample_kind()
            hint = kind.hint(X, integer_input)
            if hint is not None:
                warnings.warn(hint, UserWarning, stacklevel=3)
            self.images_centred_ = kind.centres(X)
        elif X.shape[1:] != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but {type(self).__name__} "
                f"was fitted on samples of shape {self.input_shape_}."
            )
        # Files of earlier releases lack the attribute: they never centred.
        if getattr(self, "images_centred_", False):
            X = self._sample_kind().centred(X)
        return X

    def _sample_kind(self, shape=None):
        """The :class:`~sknebula._kinds.SampleKind` of samples of ``shape``
        (by default the fitted ``input_shape_``): what kind they are, and
        what follows from it."""
        return kind_of(self, shape)

    def _check_hyper_parameters(self):
        if self.hidden_dims != "auto" and not _hidden_dims_ok(self.hidden_dims):
            raise ValueError(
                f"hidden_dims must be a sequence of positive ints or 'auto', got "
                f"{self.hidden_dims!r}."
            )
        self._device()  # fails early on an unknown device string
        if _distributed.is_active() and not self._data_parallel:
            raise NotImplementedError(
                f"{type(self).__name__} does not train data-parallel yet, and a "
                "torch.distributed process group is initialised; fit it in one "
                "process (NebulaVariationalClusterer and NebulaAutoencoder do)."
            )

    def _build_module(self):
        """The network, built from the parameters and the fitted shapes alone
        (``input_shape_`` and what the subclass records before it builds).

        ``fit`` trains what it returns and :func:`sknebula.io.load` fills it
        with saved weights, so a model file never says how a network is
        built. Subclasses implement it.
        """
        raise NotImplementedError

    def _hidden_dims(self, input_shape):
        """``hidden_dims`` as a tuple; "auto" takes the architecture's own
        (widths for the MLP, channels for the convolutions)."""
        if isinstance(self.hidden_dims, str):
            return auto_hidden_dims(self.encoder, input_shape)
        return tuple(self.hidden_dims)

    def _reconstruction(self, target):
        """The reconstruction likelihood for ``target``.

        An explicit ``reconstruction`` wins (and Bernoulli is refused for data
        outside [0, 1]); "auto" takes the architecture's own likelihood, or
        Bernoulli for data in [0, 1] and Gaussian otherwise.
        """
        kind = self.reconstruction
        if kind == "auto":
            kind = default_reconstruction(self.encoder)
        if kind is None:
            return "bernoulli" if target.min() >= 0 and target.max() <= 1 else "gaussian"
        if kind == "bernoulli" and (target.min() < 0 or target.max() > 1):
            raise ValueError(
                "reconstruction='bernoulli' needs targets in [0, 1]; scale the "
                "data (e.g. MinMaxScaler) or use reconstruction='gaussian'."
            )
        return kind

    # --------------------------------------------------------------- training
    def _resolve_epochs(self, n_samples):
        """Set ``batch_size_`` and ``n_epochs_``, the batch and the epochs
        this fit trains, from ``batch_size``, ``max_epochs`` and the number
        of training samples (of all ranks, data-parallel)."""
        rows = _distributed.total(n_samples, "max")
        if self.batch_size == "auto":
            # Smaller batches make the step floor of max_epochs="auto"; whoever
            # fixes the epochs fixes the cost, as with n_init="auto".
            self.batch_size_ = MAX_AUTO_BATCH
            if self.max_epochs == "auto":
                self.batch_size_ = auto_batch(rows, self._full_passes, self._min_steps)
        else:
            self.batch_size_ = int(self.batch_size)
        if self.max_epochs == "auto":
            self.n_epochs_ = auto_epochs(
                _distributed.total(n_samples), self._full_passes, self.batch_size_,
                self._min_steps, epoch_rows=rows,
            )
        else:
            self.n_epochs_ = int(self.max_epochs)
        return self.n_epochs_

    def _device(self):
        if isinstance(self.device, str) and self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        try:
            return str(torch.device(self.device))
        except RuntimeError as exc:
            raise ValueError(f"Unknown device {self.device!r}: {exc}") from None

    def _seeds(self, n):
        """``n`` seeds drawn from ``random_state`` (the first is the one
        :meth:`_seed_torch` uses), for restarts."""
        rng = check_random_state(self.random_state)
        return [int(rng.randint(np.iinfo(np.int32).max)) for _ in range(n)]

    def _seed_torch(self):
        """Seed torch from ``random_state``; return the seed for other RNGs.

        Called at the start of every fit, so that refitting with the same
        ``random_state`` gives the same model (for a fixed thread count).
        """
        seed = self._seeds(1)[0]
        torch.manual_seed(seed)
        return seed

    def _make_net(self, module, criterion, criterion_params, n_samples, max_epochs=None,
                  callbacks=()):
        """A NebulaNet for ``max_epochs`` epochs, by default ``n_epochs_``
        (call :meth:`_resolve_epochs` first)."""
        user_callbacks = [copy.deepcopy(cb) for cb in (self.callbacks or [])]
        # verbose=1: skorch's epoch table (PrintLog); verbose>=1 adds a
        # progress bar over the batches of each epoch.
        progress = [("progress", ProgressBar())] if self.verbose else []
        net_params = {f"criterion__{k}": v for k, v in criterion_params.items()}
        parallel = []
        if _distributed.is_active():
            # Every rank takes batches of batch_size, so the in-batch terms
            # (InfoNCE, anchor balance) see what they see in one process (on
            # digits, halving it per rank cost accuracy), and as many steps
            # per epoch as the largest shard.
            net_params["iterator_train__epoch_samples"] = _distributed.total(n_samples, "max")
            parallel = [("allreduce", _distributed.GradientAllReduce())]
        return NebulaNet(
            module=module,
            criterion=criterion,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.n_epochs_ if max_epochs is None else max_epochs,
            batch_size=min(self.batch_size_, n_samples),
            train_split=None,
            iterator_train=batch_loader,
            device=self._device(),
            callbacks=[
                *parallel,
                ("divergence", DivergenceGuard()),
                ("terms", TermAverager()),
                *callbacks,
                *progress,
                *user_callbacks,
            ],
            verbose=self.verbose,
            **net_params,
        )

    def _fit_net(self, net, data, epochs=None, before=0):
        """Fit ``net`` on ``data`` for ``epochs`` (by default ``n_epochs_``),
        the part of the fit that follows ``before`` epochs already trained;
        warn when training ended early.

        skorch ends training quietly on KeyboardInterrupt (and callbacks such
        as EarlyStopping stop it that way), keeping the epochs done so far;
        the estimator is then usable, and the user is told.
        """
        net.fit(data, None)
        done, planned = len(net.history), self.n_epochs_ if epochs is None else epochs
        if done < planned:
            warnings.warn(
                f"Training stopped after {before + done} of {self.n_epochs_} epochs "
                "(interrupted, or stopped by a callback); the estimator holds the model "
                "as it was then.",
                UserWarning,
            )
        return net

    # -------------------------------------------------------------- inference
    def _apply(self, X, fn):
        """Batched, gradient-free ``fn(module, x)`` over validated X."""
        return batched_apply(
            self.net_.module_, X, fn, self.net_.device, max(self.batch_size_, 256)
        )

    @property
    def history_(self):
        """skorch ``History`` of the last fit (per-epoch losses and terms)."""
        check_is_fitted(self, "net_")
        return self.net_.history
