"""Probabilistic self-supervised embeddings: VI-SimSiam and VJE.

Both estimators learn from two random views of every training sample
(``sknebula.augment``, drawn afresh for every batch) with no
reconstruction and no negatives. Inference uses the un-augmented input
only, so ``transform``, ``score_samples`` and friends are deterministic.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import N_EPOCHS_ATTR_DOC, BaseDeepEstimator, max_epochs_doc, keeps_global_random_state
from ._data import (
    NEIGHBOR_ALGORITHMS,
    NEIGHBORS_ALGORITHM_PARAM_DOC,
    check_neighbors_algorithm,
    neighbour_table,
)
from ._kinds import SAMPLE_SHAPE_PARAM_DOC
from .augment import TwoViews, make_augmentation
from .nn import build_encoder
from .nn.siamese import VISimSiamNet, VJENet
from .objectives import spherical
from .objectives.spherical import VISimSiamLoss
from .objectives.student_t import VJELoss, mixture_log_likelihood


def _nearest_distance_score(features, reference, k):
    """Minus the mean Euclidean distance to the ``k`` nearest references.

    ``features`` ``(n, F)`` and ``reference`` ``(M, F)``; returns ``(n,)``.
    A reference equal to the row (squared distance below ``1e-6`` of their
    mean squared norm) is left out, unless that would leave fewer than
    ``k`` references: a reference sample scored against its own set then
    gets a leave-one-out score, on the scale of new samples'.
    """
    f_sq = features.pow(2).sum(1, keepdim=True)
    r_sq = reference.pow(2).sum(1)
    d2 = (f_sq + r_sq - 2.0 * features @ reference.T).clamp(min=0.0)
    itself = d2 <= 1e-6 * 0.5 * (f_sq + r_sq)
    itself &= ((~itself).sum(1, keepdim=True) >= k)
    d2 = d2.masked_fill(itself, float("inf"))
    nearest = torch.topk(d2, k, dim=1, largest=False).values
    return -nearest.sqrt().mean(1)


class _SiameseBase(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepEstimator):
    """Fit a two-view module on augmented views of X."""

    _parameter_constraints: dict = {
        **BaseDeepEstimator._parameter_constraints,
        "augmentation": [StrOptions({"auto", "vector", "image", "tokens"}), callable],
        "n_neighbors": [Interval(Integral, 0, None, closed="left")],
        "neighbors_algorithm": [StrOptions(set(NEIGHBOR_ALGORITHMS))],
        "representation": [StrOptions({"head", "backbone"})],
        "decorrelation": [Interval(Real, 0, None, closed="left")],
    }

    # The two-view module the subclass trains.
    _module_class = None

    def _build_module(self):
        """The encoder for samples of ``input_shape_`` under the subclass's
        heads; see :meth:`BaseDeepEstimator._build_module`."""
        encoder = build_encoder(
            self.encoder, self.input_shape_, self._hidden_dims(self.input_shape_),
            self.encoder_params,
        )
        return self._module_class(encoder, self.latent_dim)

    def _fit_views(self, X, criterion_params):
        self._check_hyper_parameters()
        check_neighbors_algorithm(self.neighbors_algorithm)
        self._seed_torch()
        module = self._build_module()
        kind = self._sample_kind()
        augmentation = make_augmentation(
            self.augmentation, kind, getattr(module.encoder, "vocab_size", None)
        )
        self._resolve_epochs(len(X))
        net = self._make_net(module, self._criterion, criterion_params, len(X))
        # A copy: torch must not share (or warn about) read-only user memory.
        X32 = np.array(X, dtype=np.float32)
        neighbours = neighbour_table(
            X32, self.n_neighbors, kind.partner_features, self.neighbors_algorithm
        )
        self._fit_net(net, TwoViews(X32, augmentation, neighbours))
        self.net_ = net
        self._recalibrate_batch_norm(X32)
        return self

    def _recalibrate_batch_norm(self, X):
        """Re-estimate batch-norm statistics on the clean training data.

        Training only sees augmented views, whose feature means differ from
        those of clean inputs (masking and mixing shift them); inference on
        clean inputs with the views' running statistics gives every
        embedding a common offset. One pass over X in train mode with
        cumulative averaging (``momentum=None``) fixes the statistics.
        """
        module = self.net_.module_
        norms = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)]
        if not norms:
            return
        saved = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        single = module.embed if hasattr(module, "embed") else module.posterior
        device = self.net_.device
        module.train()
        with torch.no_grad():
            batch = max(self.batch_size, 2)
            for start in range(0, len(X), batch):
                xb = torch.from_numpy(X[start : start + batch])
                if len(xb) < 2:  # one row cannot give a variance
                    continue
                single(xb.to(device))
        module.eval()
        for m, momentum in zip(norms, saved):
            m.momentum = momentum

    def _checked(self, X):
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def _backbone_features(self, X):
        return self._apply(X, lambda m, x: m.encoder(x))

    @property
    def _n_features_out(self):
        if self.representation == "backbone":
            return self.net_.module_.encoder.out_features
        return self.latent_dim


_COMMON_PARAMS_DOC = (
    """
    latent_dim : int, default=64
        Dimension of the embedding.
    encoder : {"mlp", "conv2d", "sequence", "tokens", "pointcloud", "conv3d"} or type, default="mlp"
        Backbone by name (see the data kinds guide), or an ``nn.Module``
        class built as ``encoder(input_shape, **encoder_params)`` exposing
        ``out_features``.
    encoder_params : dict, default=None
        Extra keyword arguments for the encoder.
    hidden_dims : tuple of int, default=(512, 512)
        Hidden widths of the backbone; the projector is as wide as the last.
"""
    + SAMPLE_SHAPE_PARAM_DOC
    + """    augmentation : {"auto", "vector", "image", "tokens"} or callable, default="auto"
        View generator. "auto" follows the data kind (the data kinds guide
        says which shapes are which kind, for "mlp" and user classes; the
        other encoders read one kind each):
        :class:`~sknebula.augment.ImageAugment` for images,
        :class:`~sknebula.augment.TokenAugment` for tokens,
        :class:`~sknebula.augment.VectorAugment` for the other kinds.
        A callable maps a float32 torch batch to a batch of the same shape
        and should draw its randomness from torch's global generator
        (seeded by ``random_state``).
    n_neighbors : int, default=N_NEIGHBORS_DEFAULT
        When > 0, the second view of a sample is an augmented copy of one of
        its ``n_neighbors`` nearest neighbours in input space (Euclidean,
        on the data kind's features as the nebula estimators' partners are,
        see the data kinds guide; redrawn every time) instead
        of the sample itself: a stronger positive pair on small data sets.N_NEIGHBORS_WHY
"""
    + NEIGHBORS_ALGORITHM_PARAM_DOC
    + """    representation : {"head", "backbone"}, default="head"
        What ``transform`` returns: the head's output the objective is
        written on (see ``transform``), or the backbone's features ``f(x)``
        (width ``hidden_dims[-1]`` for the MLP), the representation SimSiam
        and its variational readings evaluate downstream. On digits the
        backbone features probe better (see the user guide).
"""
    + max_epochs_doc(100)
    + """    batch_size : int, default=256
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer, passed to skorch.
    device : str or torch.device, default="auto"
        Torch device; "auto" uses CUDA when available.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (copied, never modified).
    random_state : int, RandomState instance or None, default=None
        Seeds torch (weights, batch order and views). Results are
        reproducible on CPU for a fixed number of torch threads.
    verbose : int, default=0
        skorch verbosity; 0 prints nothing.
"""
)

_COMMON_ATTRIBUTES_DOC = (
    """
    input_shape_ : tuple of int
        Shape of one input sample.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
"""
    + N_EPOCHS_ATTR_DOC
    + """    net_ : skorch.NeuralNet
        The fitted skorch net (``history``, ``save_params``, ``module_``).
    history_ : skorch.History
        Training history of ``net_`` (per-epoch loss and its terms).
"""
)


class VariationalSimSiam(_SiameseBase):
    __doc__ = (
        """Self-supervised embeddings with uncertainty: VI-SimSiam.

    SimSiam read as variational inference [1]_: the posterior over the
    embedding direction of a view is a Power Spherical distribution [2]_
    ``q(z | x) = PS(mu(x), kappa(x))`` on the unit sphere ``S^(d-1)``, with
    ``mu(x) = h(g(f(x))) / ||.||`` (backbone ``f``, projector ``g``,
    predictor ``h``) and a concentration head ``kappa(x) > 0``. For two
    views ``x1, x2`` of a sample and stop-gradient targets
    ``t_i = sg(g(f(x_i))) / ||.||`` the loss is::

        1/2 sum_{(i,j) in {(1,2), (2,1)}} [ -kappa_i log(1 + mu_i . t_j)
                                           + log N(kappa_i, d) ]

    with ``log N(kappa, d) = (a+b) log 2 + b log pi + lgamma(a) - lgamma(a+b)``,
    ``a = (d-1)/2 + kappa``, ``b = (d-1)/2``. Without the normaliser
    ``kappa`` would grow without bound; with it ``kappa`` settles where the
    views agree, so a low ``kappa`` marks an input whose views disagree
    (an uncertain representation). The concentration head reads the
    direction of ``f(x)``, not its norm, so that inputs noisier than any
    view get a lower ``kappa`` rather than an extrapolated higher one; it
    is still best calibrated on corruptions the views contain. With
    ``decorrelation > 0`` the loss also has
    ``decorrelation * sum_{j != k} C_jk^2 / d``, with ``C`` the covariance
    of the projector outputs ``g(f(x))`` over the batch (per view).

    Parameters
    ----------
    decorrelation : float, default=0.1
        Weight of a penalty on the squared off-diagonal covariances of the
        projector outputs over each batch (as in VICReg), added to the
        loss: an explicit stand-in for the uniformity the paper leaves to
        the predictor; 0 is the paper's objective. It trades the
        uncertainty for the embedding: a larger weight raises the probes of
        the embedding and flattens ``kappa``'s response to input noise (the
        user guide's benchmark measures 0, 0.1 and 1)."""
        + _COMMON_PARAMS_DOC.replace("N_NEIGHBORS_DEFAULT", "10").replace(
            "N_NEIGHBORS_WHY",
            "\n        The user guide's benchmark compares 10 with 0 on digits; 0"
            "\n        draws both views from the sample.",
        )
        + """
    Attributes
    ----------"""
        + _COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    VariationalJointEmbedding : Gaussian posterior, Student-t likelihood,
        likelihood-based outlier scores.

    References
    ----------
    .. [1] Nakamura, Okada, Taniguchi. "Representation Uncertainty in
       Self-Supervised Learning as Variational Inference." ICCV 2023,
       pp. 16484-16493.
    .. [2] De Cao, Aziz. "The Power Spherical distribution." ICML 2020
       INNF+ workshop (arXiv:2006.04437).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import VariationalSimSiam
    >>> X, _ = make_blobs(n_samples=60, n_features=5, centers=3, random_state=0)
    >>> est = VariationalSimSiam(latent_dim=8, hidden_dims=(32,), max_epochs=5,
    ...                          random_state=0).fit(X)
    >>> Z = est.transform(X)
    >>> Z.shape
    (60, 8)
    >>> bool(abs((Z ** 2).sum(axis=1) - 1).max() < 1e-9)
    True
    >>> bool((est.predict_concentration(X) > 0).all())
    True
    """
    )

    _module_class = VISimSiamNet
    _criterion = VISimSiamLoss

    def __init__(
        self,
        *,
        decorrelation=0.1,
        latent_dim=64,
        encoder="mlp",
        encoder_params=None,
        hidden_dims=(512, 512),
        sample_shape=None,
        augmentation="auto",
        n_neighbors=10,
        neighbors_algorithm="auto",
        representation="head",
        max_epochs="auto",
        batch_size=256,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.decorrelation = decorrelation
        self.latent_dim = latent_dim
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.hidden_dims = hidden_dims
        self.sample_shape = sample_shape
        self.augmentation = augmentation
        self.n_neighbors = n_neighbors
        self.neighbors_algorithm = neighbors_algorithm
        self.representation = representation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_global_random_state
    def fit(self, X, y=None):
        """Fit the model on two random views of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data; ``(n, H, W)`` or ``(n, C, H, W)`` arrays get image
            augmentations under ``augmentation="auto"``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        if self.latent_dim < 2:
            raise ValueError(f"latent_dim={self.latent_dim} must be >= 2 for a sphere S^(d-1).")
        return self._fit_views(
            X, {"decorrelation": self.decorrelation}
        )

    def _embed(self, X):
        def fn(m, x):
            z, p, kappa = m.embed(x)
            normalize = torch.nn.functional.normalize
            return normalize(p, dim=1), normalize(z, dim=1), kappa

        return self._apply(X, fn)

    def transform(self, X):
        """Posterior mean directions ``mu(x)`` (unit norm), or backbone features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out)
            Unit-norm mean directions of the Power Spherical posterior
            (``latent_dim`` columns), or with ``representation="backbone"``
            the backbone features ``f(x)``.
        """
        X = self._checked(X)
        if self.representation == "backbone":
            return self._backbone_features(X)
        return self._embed(X)[0]

    def predict_concentration(self, X):
        """Posterior concentration ``kappa(x)``: higher is more certain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        kappa : ndarray of shape (n_samples,)
            Concentrations, > 0. ``1 / kappa`` is a per-sample uncertainty;
            ``kappa / (latent_dim - 1 + kappa)`` is the expected cosine
            between a posterior sample and ``mu(x)``.
        """
        return self._embed(self._checked(X))[2]

    def score_samples(self, X):
        """Self-consistency log-likelihood of each sample (higher = more typical).

        ``log PS(t(x); mu(x), kappa(x))`` with ``t(x) = g(f(x)) / ||.||`` the
        un-augmented input's own target direction: the VI-SimSiam
        log-likelihood with both views equal to ``x``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Log-densities on the sphere, in nats.
        """
        mu, t, kappa = self._embed(self._checked(X))
        return spherical.log_prob(
            torch.from_numpy(t), torch.from_numpy(mu), torch.from_numpy(kappa)
        ).numpy()


class VariationalJointEmbedding(OutlierMixin, _SiameseBase):
    __doc__ = (
        """Variational Joint Embedding (VJE): probabilistic embeddings and outlier scores.

    A latent-variable model on encoder embeddings [1]_. For a view ``x``
    the embedding is ``e(x) = g(f(x))`` (backbone ``f``, SimSiam projector
    ``g``) and the amortised posterior is
    ``q(z | x) = N(mu(e), diag s^2(e))``. The embedding of the other view
    is modelled by a polar Student-t with ``df`` degrees of freedom whose
    directional scale is the posterior's ``s`` (shared, no extra head)::

        log p(e_b | z) = log t_D(||z|| e_b/||e_b|| - z; 0, diag s_a^2, df)
                       + log t_1(log||e_b|| - log||z||; 0, sigma_r^2, df)

        ELBO_ab = E_q(z|x_a)[log p(sg(e_b) | z)] - KL(q(z|x_a) || N(0, I))

    and training maximises ``(ELBO_ab + ELBO_ba) / 2`` with one
    reparameterised sample of ``z`` (``sg``: stop-gradient; ``sigma_r``
    learnt), less ``decorrelation * sum_{j != k} C_jk^2 / D`` with ``C``
    the batch covariance of the embeddings of each view (a sknebula
    addition against dimensional collapse; 0 removes it). The directional
    residual is the target direction placed on the sphere of radius
    ``||z||``, so ``s_a / ||z||`` acts as an angular scale.

    ``score_samples(x)`` (higher is more normal) compares the clean input
    with the clean training samples ``x_1..x_N``. Under the default
    ``anomaly_score="knn"`` it is minus the mean Euclidean distance from the
    backbone features ``f(x)`` to those of its ``k = score_neighbors``
    nearest training samples::

        score(x) = -(1/k) sum_{j=1..k} ||f(x) - f(x_(j))||

    (the k-NN outlier score, PyOD's ``KNN(method="mean")``, in the learnt
    backbone space). With ``anomaly_score="likelihood"`` it is the
    likelihood of the input's embedding under the same polar Student-t
    placed at each clean training embedding, with that sample's posterior
    scale::

        score(x) = log (1/N) sum_i p(e(x) | z = e(x_i)),  scale s(x_i)

    Both leave out a training sample equal to ``x`` in the space they
    compare in (so training samples get leave-one-out scores, and
    ``offset_`` suits new data). They are deterministic and cost ``O(N)``
    per sample. The projector's embedding is trained to ignore what views
    of a sample do not share, which on one class of training data also
    discards much of what tells other classes apart; the backbone keeps
    more of the input, which is why the k-NN score reads the backbone (the
    user guide's one-class table compares both scores with the classical
    detectors).

    Parameters
    ----------
    df : float, default=5.0
        Degrees of freedom of the Student-t likelihood; heavy tails keep
        disagreeing views from dominating the gradient.
    contamination : "auto" or float in (0, 0.5], default=0.1
        Expected fraction of outliers in the training data; sets
        ``offset_`` to that quantile of the (leave-one-out) training scores,
        so ``predict`` flags that share of the training data. "auto" flags
        training scores more than 3 robust standard deviations (1.4826 x
        median absolute deviation) below the median.
    anomaly_score : {"knn", "likelihood"}, default="knn"
        What ``score_samples`` computes (formulas above): minus the mean
        distance to the ``score_neighbors`` nearest training samples in the
        backbone's feature space, or the polar Student-t mixture likelihood
        of the embedding. Fixed at fit (``anomaly_score_``), like
        ``offset_``: changing it with ``set_params`` takes effect at the
        next fit, and until then the scoring methods warn and keep the
        fitted score, so that scores and threshold never mix two scales.
    score_neighbors : int, default=5
        Number of nearest training samples the "knn" score averages over
        (at most the number of training samples less one). Fixed at fit
        (``score_neighbors_``), as ``anomaly_score`` is.
    decorrelation : float, default=1.0
        Weight of a penalty on the squared off-diagonal covariances of the
        embeddings over each batch (as in VICReg), added to the negative
        ELBO. Agreement between views alone lets the embedding collapse
        onto a few directions, after which unseen inputs land among the
        training embeddings (the user guide measures this on digits). 0
        gives the paper's objective unchanged."""
        + _COMMON_PARAMS_DOC.replace("N_NEIGHBORS_DEFAULT", "0").replace("N_NEIGHBORS_WHY", "")
        + """
    Attributes
    ----------
    offset_ : float
        Threshold on ``score_samples`` (scikit-learn's convention, as in
        ``IsolationForest``): ``decision_function = score_samples -
        offset_``, and ``predict`` calls a sample an outlier where that is
        negative, i.e. where ``score_samples < offset_``.
    threshold_ : float
        The same threshold in PyOD's convention, on the scale of
        ``decision_scores_`` (outlier scores, higher is more abnormal):
        ``threshold_ = -offset_``, so ``decision_scores_ > threshold_``
        marks exactly the training samples that ``predict`` calls outliers.
    decision_scores_ : ndarray of shape (n_samples,)
        Outlier scores of the training samples in PyOD's convention
        (``-score_samples``, leave-one-out; higher is more abnormal).
    anomaly_score_ : {"knn", "likelihood"}
        The score the model was fitted with, which ``score_samples``,
        ``decision_function``, ``predict``, ``offset_``, ``threshold_`` and
        ``decision_scores_`` all use.
    score_neighbors_ : int
        Number of nearest training samples the "knn" score averages over
        (``score_neighbors``, at most the number of training samples less
        one).
    embeddings_ : ndarray of shape (n_samples, latent_dim)
        Embeddings ``e(x_i)`` of the clean training samples, the centres of
        the "likelihood" score's mixture.
    features_ : ndarray of shape (n_samples, n_backbone_features)
        Backbone features ``f(x_i)`` of the clean training samples, the
        reference set of the "knn" score.
    posterior_log_vars_ : ndarray of shape (n_samples, latent_dim)
        Posterior log-variances of the training samples, its scales."""
        + _COMMON_ATTRIBUTES_DOC
        + """
    See Also
    --------
    VariationalSimSiam : Power Spherical posterior with a concentration.
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.

    References
    ----------
    .. [1] Oji, Fieguth. "Joint Embedding Variational Bayes."
       arXiv:2602.05639, 2026.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import VariationalJointEmbedding
    >>> X, _ = make_blobs(n_samples=60, n_features=5, centers=3, random_state=0)
    >>> est = VariationalJointEmbedding(latent_dim=8, hidden_dims=(32,), max_epochs=5,
    ...                                 random_state=0).fit(X)
    >>> est.transform(X).shape
    (60, 8)
    >>> labels = est.predict(X)
    >>> sorted(set(labels.tolist()))
    [-1, 1]
    >>> float((labels == -1).mean())
    0.1
    """
    )

    _module_class = VJENet
    _criterion = VJELoss

    _parameter_constraints: dict = {
        **_SiameseBase._parameter_constraints,
        "df": [Interval(Real, 0, None, closed="neither")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "anomaly_score": [StrOptions({"knn", "likelihood"})],
        "score_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        df=5.0,
        contamination=0.1,
        anomaly_score="knn",
        score_neighbors=5,
        decorrelation=1.0,
        latent_dim=64,
        encoder="mlp",
        encoder_params=None,
        hidden_dims=(512, 512),
        sample_shape=None,
        augmentation="auto",
        n_neighbors=0,
        neighbors_algorithm="auto",
        representation="head",
        max_epochs="auto",
        batch_size=256,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.df = df
        self.contamination = contamination
        self.anomaly_score = anomaly_score
        self.score_neighbors = score_neighbors
        self.decorrelation = decorrelation
        self.latent_dim = latent_dim
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.hidden_dims = hidden_dims
        self.sample_shape = sample_shape
        self.augmentation = augmentation
        self.n_neighbors = n_neighbors
        self.neighbors_algorithm = neighbors_algorithm
        self.representation = representation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_global_random_state
    def fit(self, X, y=None):
        """Fit the model on two random views of every sample, then set ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data; ``(n, H, W)`` or ``(n, C, H, W)`` arrays get image
            augmentations under ``augmentation="auto"``.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        self._fit_views(
            X, {"df": self.df, "decorrelation": self.decorrelation}
        )
        # The clean training samples are the reference set of score_samples.
        self.embeddings_, _, self.posterior_log_vars_ = self._apply(
            X, lambda m, x: m.posterior(x)
        )
        self.features_ = self._backbone_features(X)
        # The score and its threshold are fixed here, together (see _score).
        self.anomaly_score_ = self.anomaly_score
        self.score_neighbors_ = self._effective_score_neighbors()
        scores = self._score(X)
        if self.contamination == "auto":
            median = np.median(scores)
            spread = 1.4826 * np.median(np.abs(scores - median))
            self.offset_ = float(median - 3.0 * spread)
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        # PyOD's convention: outlier scores grow with abnormality, and
        # decision_scores_ > threshold_ <=> scores < offset_ <=> predict == -1.
        self.threshold_ = -self.offset_
        self.decision_scores_ = -scores
        return self

    def _effective_score_neighbors(self):
        return min(self.score_neighbors, max(len(self.features_) - 1, 1))

    def _score(self, X):
        """The fitted score of validated X, on the scale of ``offset_``."""
        changed = []
        if self.anomaly_score != self.anomaly_score_:
            changed.append(f"anomaly_score={self.anomaly_score!r}")
        if self.anomaly_score_ == "knn" and self._effective_score_neighbors() != self.score_neighbors_:
            changed.append(f"score_neighbors={self.score_neighbors!r}")
        if self.anomaly_score_ == "likelihood" and self.df != self.net_.criterion_.df:
            changed.append(f"df={self.df!r}")
        if changed:
            warnings.warn(
                f"{type(self).__name__} was fitted with anomaly_score="
                f"{self.anomaly_score_!r}, score_neighbors={self.score_neighbors_!r}, "
                f"df={self.net_.criterion_.df!r}; what was set since ({', '.join(changed)}) "
                "takes effect at the next fit. Until then score_samples, "
                "decision_function, predict, offset_ and threshold_ keep the fitted "
                "score, so that scores and threshold share one scale: refit to use "
                "the new setting.",
                UserWarning,
                stacklevel=3,
            )
        if self.anomaly_score_ == "knn":
            return self._knn_score(X)
        return self._likelihood_score(X)

    def _knn_score(self, X):
        memory = torch.from_numpy(self.features_)
        k = self.score_neighbors_

        def fn(m, x):
            f = m.encoder(x)
            return _nearest_distance_score(f, memory.to(device=f.device, dtype=f.dtype), k)

        return self._apply(X, fn)

    def _likelihood_score(self, X):
        module = self.net_.module_
        radial_log_scale = float(module.radial_log_scale.detach())
        memory = torch.from_numpy(self.embeddings_)
        memory_logvar = torch.from_numpy(self.posterior_log_vars_)
        df = self.net_.criterion_.df

        def fn(m, x):
            e = m.posterior(x)[0]
            return mixture_log_likelihood(
                e,
                memory.to(device=x.device, dtype=x.dtype),
                memory_logvar.to(device=x.device, dtype=x.dtype),
                radial_log_scale,
                df,
                leave_out_self=True,
            )

        return self._apply(X, fn)

    def transform(self, X):
        """Embeddings ``e(x)`` of the un-augmented input, or backbone features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        E : ndarray of shape (n_samples, n_features_out)
            Encoder embeddings (the quantity the model is a density over),
            or with ``representation="backbone"`` the backbone features
            ``f(x)``.
        """
        X = self._checked(X)
        if self.representation == "backbone":
            return self._backbone_features(X)
        return self._apply(X, lambda m, x: m.posterior(x)[0])

    def score_samples(self, X):
        """Normality of each sample (higher = more normal).

        The score is the one fitted (``anomaly_score_``). With "knn",
        ``-(1/k) sum_{j<=k} ||f(x) - f(x_(j))||``: minus the mean Euclidean
        distance from the un-augmented input's backbone features to those
        of its ``k = score_neighbors_`` nearest clean training samples. With
        "likelihood", ``log (1/N) sum_i p(e(x) | z = e(x_i))``: the polar Student-t
        likelihood of the input's embedding placed at every clean training
        embedding with that sample's posterior scale ``s(x_i)``, averaged in
        probability. Both are deterministic. A training sample equal to
        ``x`` (in the space compared) is left out, so that a training sample
        gets a leave-one-out score, comparable with those of new samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus mean distances ("knn"), or log-likelihoods in nats
            ("likelihood").
        """
        return self._score(self._checked(X))

    def decision_function(self, X):
        """``score_samples(X) - offset_``; negative values are outliers.

        scikit-learn's sign: higher is more normal. PyOD's outlier score of
        ``X`` (the scale of ``decision_scores_`` and ``threshold_``) is
        ``-score_samples(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Shifted scores.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 where ``decision_function(X) >= 0``, -1 elsewhere: -1 exactly
            where ``-score_samples(X) > threshold_``.
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)
