"""NebulaVariationalClusterer: clustering with Nebula Variational Coding."""

import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, ClusterMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from scipy.special import softmax

from ._anchors import (
    MERGE_PARTNERS,
    anchor_sq_distances,
    merge_anchors,
    nearest_anchor,
    partner_links,
)
from ._base import N_EPOCHS_ATTR_DOC, keeps_global_random_state
from ._distributed import gather_rows, on_rank_zero, total
from ._kinds import SAMPLE_SHAPE_PARAM_DOC
from ._nvc import N_INIT_ATTR_DOC, NebulaBase, nebula_params_doc
from .metrics import graph_modularity

# Below this share of partners in their sample's cluster, fit warns.
LOW_AGREEMENT = 0.5
# Rows of the partner table whose labels are compared at once.
AGREEMENT_ROWS = 65536
# The anchors n_anchors="auto" trains when n_clusters is not an integer.
DEFAULT_ANCHORS = 10


class NebulaVariationalClusterer(
    ClassNamePrefixFeaturesOutMixin, ClusterMixin, NebulaBase
):
    __doc__ = (
        f"""Deep clustering with Nebula Variational Coding (NVC).

    A variational autoencoder whose latent space holds ``n_anchors``
    learnable *nebula anchors* ``a_1..a_K``. Each sample is pulled, through a
    Gaussian KL term, toward the anchors it belongs to, and a metric-learning
    term uses the nearest anchor as a self-supervised pseudo-label [1]_.
    Clusters are the anchors, or groups of anchors when ``n_clusters`` is
    smaller than ``n_anchors`` (over-cluster, then merge).

    Training has two phases (all on a skorch net, see ``net_``):

    1. Warm-up (``warmup_epochs``): the anchors do not exist yet; the loss is
       ``rec(x) + contrastive_weight * InfoNCE(mu(x), mu(x'))`` where ``x'`` is
       one of the ``n_neighbors`` nearest neighbours of ``x`` in input space
       and the similarity is Cauchy, ``-log(1 + ||u - v||^2)``.
    2. Nebula phase: anchors start at the k-means centres of the latent
       means (of 64 single k-means++ starts, the one whose clusters keep the
       partners together best) and are trained with the encoder, while the
       learning rate decays to 0 on a cosine. Per sample, with
       responsibilities ``p_k(x) = softmax_k(-||mu(x) - a_k||^2 / 2)``::

           rec(x) + contrastive_weight * InfoNCE(mu(x), mu(x'))
                  + beta * sum_k sg(p_k(x)) KL(q(z|x) || N(a_k, I))
                  + metric_weight * max(0, ||mu - a_c|| - ||mu - a_n|| + margin)
                  + consistency_weight * (-log sum_k p_k(x) p_k(x'))
                  + balance_weight * (log K + sum_k pbar_k log pbar_k)

       where ``c`` is the nearest anchor of the neighbour ``x'`` (the
       pseudo-label), ``a_n`` the nearest other anchor, ``sg`` a stop-gradient
       (the KL becomes the nearest-anchor KL of [1]_ as the responsibilities
       harden) and ``pbar`` the batch-mean responsibilities (keeps every
       anchor in use).

    ``rec`` is a Bernoulli negative log-likelihood on logits for data in
    [0, 1] and a unit-variance Gaussian one otherwise (``reconstruction``).

    Parameters
    ----------
    n_anchors : int or "auto", default="auto"
        Number of nebula anchors in latent space. "auto" trains as many as
        ``n_clusters`` asks for when it is an integer, else
        {DEFAULT_ANCHORS}; the number trained is in ``n_anchors_``. Set it
        above ``n_clusters`` to over-cluster, then merge.
    n_clusters : int, "auto" or None, default=None
        Number of clusters, the way to ask for k. ``None`` gives one
        cluster per anchor that owns training samples. Fewer than the
        anchors merges them by the partner graph: its nodes are the
        anchors, its edges the pairs of each sample's {MERGE_PARTNERS}
        closest partners that join their members, and anchors are joined
        greedily, then moved one at a time, to maximise the modularity of
        the clustering on it (:func:`sknebula.metrics.graph_modularity`);
        by k-means on the anchors weighted by their mass without partners
        (``n_neighbors=0``). "auto" chooses the number of clusters from
        the data, at most ``n_anchors_``: of the merges to every number,
        the one whose clustering of the training data has the highest
        ``score`` (the modularity on its nearest-neighbour graph); the
        Nebula guide says where to trust it, and without partners it keeps
        one cluster per anchor. An integer must not exceed ``n_anchors``.
    latent_dim : int, default=10
        Dimension of the latent space.
    encoder : {{"mlp", "conv2d", "sequence", "tokens", "pointcloud", "conv3d"}} or type, default="mlp"
        Encoder architecture by name (see the data kinds guide), or an
        ``nn.Module`` class built as
        ``encoder(input_shape, **encoder_params)`` exposing ``out_features``.
    encoder_params : dict, default=None
        Extra keyword arguments for the encoder.
    hidden_dims : tuple of int or "auto", default="auto"
        Hidden layer widths of the encoder (mirrored in the decoder), or
        channels for the convolutional encoders. "auto" takes the
        architecture's own: (256, 256) for "mlp", (32, 64) for "conv2d",
        "sequence" and "tokens", (64, 128, 256) for "pointcloud" and
        (16, 32) for "conv3d".
"""
        + SAMPLE_SHAPE_PARAM_DOC
        + nebula_params_doc('"auto"')
        + f"""    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer, passed to skorch.
    device : str or torch.device, default="auto"
        Torch device; "auto" uses CUDA when available.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (copied, never modified).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the fit's own torch generators (batch
        order, partner draws, noise) and the anchor k-means; torch's global
        generators are left as they were. Results are reproducible on CPU
        for a fixed number of torch threads, also when fits run in threads.
    verbose : int, default=0
        skorch verbosity; 0 prints nothing.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample, consecutive integers from 0.
    anchors_ : ndarray of shape (n_anchors_, latent_dim)
        The nebula anchors in latent space.
    n_anchors_ : int
        Number of anchors trained: ``n_anchors``, or what "auto" made of it.
    anchor_labels_ : ndarray of shape (n_anchors_,)
        Cluster of each anchor.
    weights_ : ndarray of shape (n_anchors_,)
        Fraction of training samples nearest to each anchor.
    n_clusters_ : int
        Number of clusters found: ``n_clusters``, the number "auto" chose,
        or with None the anchors that own training samples.
    partner_agreement_ : float or None
        Share of the training partners (``n_neighbors``, by ``metric``)
        that fall in their sample's cluster; None without partners. The
        model was trained to keep partners together, so a low share says
        that the clusters and the partners disagree: ``fit`` warns below
        {LOW_AGREEMENT}. Compare it with chance, ``(weights_ ** 2).sum()`` for one
        cluster per anchor.
    reconstruction_ : str
        The reconstruction likelihood used.
    objective_ : float
        Final training objective of the kept model (mean loss of its last
        five epochs).
    input_shape_ : tuple of int
        Shape of one input sample.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
"""
        + N_EPOCHS_ATTR_DOC
        + N_INIT_ATTR_DOC
        + """    net_ : skorch.NeuralNet
        The fitted skorch net (``history``, ``save_params``, ``module_``).
    history_ : skorch.History
        Training history of ``net_``.

    See Also
    --------
    NebulaAutoencoder : The same model used as a feature extractor.
    sklearn.mixture.GaussianMixture : Gaussian mixture on the raw input.

    References
    ----------
    .. [1] Wang, Tan, Navab, Tombari. "Nebula Variational Coding for Deep
       Metric Learning." IEEE TPAMI 46(3), 2024, pp. 1397-1411.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_clusters=3, max_epochs=10, random_state=0)
    >>> labels = est.fit_predict(X)
    >>> labels.shape, est.anchors_.shape
    ((60,), (3, 10))
    >>> est.predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])

    The number of clusters chosen from the data, for blobs in 5 features:

    >>> X, _ = make_blobs(n_samples=90, centers=3, n_features=5, random_state=0)
    >>> est = NebulaVariationalClusterer(n_clusters="auto", max_epochs=10, random_state=0)
    >>> est.fit(X).n_clusters_, est.n_anchors_
    (3, 10)

    Images passed as flat rows, their shape declared (the data kinds guide):

    >>> from scipy.ndimage import zoom
    >>> from sklearn.datasets import load_digits
    >>> images = zoom(load_digits().images[:100] / 16, (1, 2, 2))  # 16x16
    >>> X = images.reshape(100, -1)
    >>> est = NebulaVariationalClusterer(5, sample_shape=(16, 16), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> est.input_shape_, est.transform(X).shape
    ((256,), (100, 10))
    """
    )

    _parameter_constraints: dict = {
        **NebulaBase._parameter_constraints,
        "n_anchors": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        n_anchors="auto",
        *,
        n_clusters=None,
        latent_dim=10,
        encoder="mlp",
        encoder_params=None,
        hidden_dims="auto",
        sample_shape=None,
        beta=1.0,
        metric_weight=1.0,
        margin=1.0,
        n_neighbors="auto",
        metric="auto",
        neighbors_algorithm="auto",
        views="auto",
        warmup_epochs="auto",
        contrastive_weight=10.0,
        consistency_weight=1.0,
        balance_weight=5.0,
        reconstruction="auto",
        n_init="auto",
        max_epochs="auto",
        batch_size="auto",
        lr=2e-3,
        optimizer=torch.optim.Adam,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_anchors = n_anchors
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.hidden_dims = hidden_dims
        self.sample_shape = sample_shape
        self.beta = beta
        self.metric_weight = metric_weight
        self.margin = margin
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.neighbors_algorithm = neighbors_algorithm
        self.views = views
        self.warmup_epochs = warmup_epochs
        self.contrastive_weight = contrastive_weight
        self.consistency_weight = consistency_weight
        self.balance_weight = balance_weight
        self.reconstruction = reconstruction
        self.n_init = n_init
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
        """Fit the model and cluster the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data. Data in [0, 1] is reconstructed with a Bernoulli
            likelihood; scale images with MinMaxScaler or by their maximum.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        n_anchors = self._anchor_count()
        if isinstance(self.n_clusters, Integral) and self.n_clusters > n_anchors:
            raise ValueError(
                f"n_clusters={self.n_clusters} must not exceed n_anchors={n_anchors}."
            )
        kept = self._fit_nebula(X, X)
        seed, mu = kept.seed, kept.latents
        nearest = self._nearest_anchor(mu)
        # Data-parallel: the samples of every rank, and one merge for all.
        counts = total(np.bincount(nearest, minlength=self.n_anchors_))
        self.weights_ = counts / counts.sum()
        links = self._anchor_links(nearest, kept.pairs)
        judge = None
        if self.n_clusters == "auto" and links is not None:
            # The number of clusters is judged as score() judges it.
            judge = total(partner_links(nearest, self._score_neighbours(X), self.n_anchors_))
        self.anchor_labels_ = on_rank_zero(
            merge_anchors, counts, self.anchors_, links, self.n_clusters, seed, judge
        )
        self.n_clusters_ = int(self.anchor_labels_.max()) + 1
        self.labels_ = self.anchor_labels_[nearest]
        self.partner_agreement_ = self._partner_agreement(kept.pairs)
        if self.partner_agreement_ is not None and self.partner_agreement_ < LOW_AGREEMENT:
            warnings.warn(
                f"Only {self.partner_agreement_:.0%} of the training partners fall in "
                "their sample's cluster: the clusters do not follow what "
                f"metric={self.metric!r} calls similar. The clustering may be poor; "
                "try another metric (for series: 'sbd', 'dtw', 'spectrum') or fewer "
                "anchors, and compare score() between them.",
                UserWarning,
                stacklevel=3,
            )
        return self

    def _partner_agreement(self, pairs):
        """Share of the training partners in their sample's cluster, or None
        without partners."""
        if pairs.neighbours is None:
            return None
        every = self.labels_ if pairs.offset is None else gather_rows(self.labels_)
        # In row blocks: the labels of the whole partner table at once would
        # be a temporary as large as the table itself.
        same, rows = 0, AGREEMENT_ROWS
        for start in range(0, len(self.labels_), rows):
            block = pairs.neighbours[start : start + rows]
            same += int((every[block] == self.labels_[start : start + rows, None]).sum())
        return total(same) / total(pairs.neighbours.size)

    def _nearest_anchor(self, mu):
        return nearest_anchor(mu, self.anchors_).astype(np.intp)

    def _anchor_count(self):
        """``n_anchors``, or for "auto" ``n_clusters`` when it is an
        integer, else ``DEFAULT_ANCHORS``."""
        if self.n_anchors != "auto":
            return self.n_anchors
        return self.n_clusters if isinstance(self.n_clusters, Integral) else DEFAULT_ANCHORS

    def _anchor_links(self, nearest, pairs):
        """Partner edges between the anchors' members, over the
        ``MERGE_PARTNERS`` closest partners of every sample (of every rank,
        data-parallel; see :func:`sknebula._anchors.partner_links`), or None
        where no merge needs them (no fewer clusters than anchors) or there
        are no partners."""
        as_many = isinstance(self.n_clusters, Integral) and self.n_clusters >= self.n_anchors_
        if self.n_clusters is None or as_many or pairs.neighbours is None:
            return None
        closest = pairs.neighbours[:, :MERGE_PARTNERS]
        # Pooled partners index the rows of every rank.
        theirs = None if pairs.offset is None else gather_rows(nearest)
        return total(partner_links(nearest, closest, self.n_anchors_, theirs))

    def predict(self, X):
        """Cluster of the nearest anchor to each sample's latent mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster labels.
        """
        mu = self.transform(X)
        return self.anchor_labels_[self._nearest_anchor(np.asarray(mu))]

    def predict_proba(self, X):
        """Soft cluster memberships.

        Anchor responsibilities ``softmax_k(-||mu(x) - a_k||^2 / 2)`` summed
        over the anchors of each cluster.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters_)
            Rows sum to 1.
        """
        d = anchor_sq_distances(np.asarray(self.transform(X)), self.anchors_)
        resp = softmax(-0.5 * d, axis=1)
        return resp @ np.eye(self.n_clusters_)[self.anchor_labels_]

    def score_samples(self, X):
        """Per-sample evidence lower bound (ELBO) of log p(x).

        The prior is the anchor mixture ``sum_k w_k N(a_k, I)`` with ``w``
        the anchors' training mass (``weights_``); the reconstruction term
        is taken at the posterior mean. Higher means more typical.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            Per-sample ELBO, in nats.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_)
        return self._elbo(X, X, log_weights)

    def score(self, X, y=None):
        """Modularity of the clustering of X on its nearest-neighbour graph.

        The fraction of each sample's nearest neighbours in X that fall in
        its cluster, minus the fraction expected by chance with the same
        cluster sizes (:func:`sknebula.metrics.neighbour_modularity`). The
        neighbours number the square root of ``n_samples``, between 5 and
        20, so that on small data they stay inside a cluster.
        Neighbours are found as the partners are, by ``metric`` (on the
        flattened input, or the data kind's descriptors). Higher is better, so that a plain ``GridSearchCV`` over
        ``n_anchors`` picks a number of clusters: the held-out ELBO
        (``score_samples``, :func:`sknebula.metrics.elbo_scorer`) is nearly
        flat in it, since more anchors describe the latent space as well.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            New data, at least 2 samples.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        modularity : float
            At most 1; 0 for a single cluster.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        if len(X) < 2:
            raise ValueError("score needs at least 2 samples (n_samples=1).")
        return graph_modularity(self._score_neighbours(X), self.predict(X))

    def sample(self, n_samples=1):
        """Generate samples: draw an anchor by its mass, z ~ N(a_k, I), decode.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        Returns
        -------
        X : ndarray of shape (n_samples, *input_shape_)
            Generated samples (decoder means).
        y : ndarray of shape (n_samples,)
            Anchor each sample was drawn from.
        """
        z, anchor = self._sample_latents(n_samples, self.weights_)
        return self._decode(z), anchor

    @property
    def _n_features_out(self):
        return self.latent_dim
