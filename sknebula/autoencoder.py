"""NebulaAutoencoder: the NVC encoder-decoder as a feature extractor."""

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from ._base import N_EPOCHS_ATTR_DOC, keeps_global_random_state
from ._kinds import SAMPLE_SHAPE_PARAM_DOC
from ._nvc import N_INIT_ATTR_DOC, NebulaBase, nebula_params_doc
from .objectives.reconstruction import chamfer_distance


class NebulaAutoencoder(ClassNamePrefixFeaturesOutMixin, NebulaBase):
    __doc__ = (
        """NVC-regularised autoencoder: features, reconstruction and completion.

    The model and objective of :class:`NebulaVariationalClusterer` (latent
    anchors, KL to the anchors, anchor triplet term; see its docstring for
    the formula), used for what the encoder and decoder give: ``transform``
    returns latent features organised around the anchors, ``predict``
    reconstructs. Given a target ``y`` at fit time, the decoder learns to
    produce ``y`` from ``X`` (e.g. complete data from a partial input).

    Parameters
    ----------
    n_anchors : int, default=10
        Number of nebula anchors in latent space.
    latent_dim : int, default=10
        Dimension of the latent space (number of output features).
    encoder : {"mlp", "conv2d", "sequence", "tokens", "pointcloud", "conv3d"} or type, default="mlp"
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
        + nebula_params_doc("1")
        + """    optimizer : torch optimizer class, default=torch.optim.Adam
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
    anchors_ : ndarray of shape (n_anchors, latent_dim)
        The nebula anchors in latent space.
    n_anchors_ : int
        Number of anchors trained (``n_anchors``).
    reconstruction_ : str
        The reconstruction likelihood used.
    objective_ : float
        Final training objective of the kept model (mean loss of its last
        five epochs).
    input_shape_ : tuple of int
        Shape of one input sample.
    target_shape_ : tuple of int
        Shape of one reconstruction target (``input_shape_`` unless ``y``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
"""
        + N_EPOCHS_ATTR_DOC
        + N_INIT_ATTR_DOC
        + """    net_ : skorch.NeuralNet
        The fitted skorch net.
    history_ : skorch.History
        Training history of ``net_``.

    See Also
    --------
    NebulaVariationalClusterer : The same model used for clustering.
    sklearn.decomposition.PCA : Linear feature extraction.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknebula import NebulaAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X[:200] / 16
    >>> ae = NebulaAutoencoder(latent_dim=5, max_epochs=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (200, 5)
    >>> ae.predict(X).shape
    (200, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['nebulaautoencoder0', 'nebulaautoencoder1'], dtype=object)
    """
    )

    def __init__(
        self,
        n_anchors=10,
        *,
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
        n_init=1,
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

    def _target(self, X, Y):
        """The reconstruction target: Y when it is a matrix (or n-d), else X.

        A 1-d ``Y`` is what a Pipeline passes for a supervised final step
        (class labels); it is not a reconstruction target and is ignored.
        """
        if Y is None:
            return X
        Y = check_array(Y, allow_nd=True, ensure_2d=False, dtype=[np.float64, np.float32])
        if Y.ndim == 1:
            return X
        check_consistent_length(X, Y)
        return Y

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_global_random_state
    def fit(self, X, y=None):
        """Fit the autoencoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Input data.
        y : array-like of shape (n_samples, n_targets) or (n_samples, ...), default=None
            Target the decoder learns to produce from ``X`` (e.g. the full
            data when ``X`` is partial). ``None`` or a 1-d array (labels, as
            passed in a Pipeline) reconstructs ``X``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        target = self._target(X, y)
        # Recorded first: the network is built from it.
        self.target_shape_ = target.shape[1:]
        self._fit_nebula(X, target)
        return self

    def predict(self, X):
        """Reconstruct (or complete) X through the latent mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Input data.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, *target_shape_)
            Reconstruction, or completion when fitted with a target ``y``.
        """
        return self._decode(self.transform(X))

    def score(self, X, y=None):
        """Reconstruction quality, higher is better.

        R^2 over the flattened target features, like a multi-output
        regressor, for real-valued data. Where R^2 means nothing, the score
        follows the data kind: minus the mean Chamfer distance for point
        clouds (``reconstruction_="chamfer"``: points have no order), and the
        fraction of tokens reproduced for token sequences
        (``reconstruction_="categorical"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Input data.
        y : array-like, default=None
            Target to compare with; ``X`` when ``None`` or 1-d.

        Returns
        -------
        score : float
            The score described above.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        target = self._target(X, y)
        Y_pred = self._decode(self._latent_means(X))
        n = len(Y_pred)
        if self.reconstruction_ == "chamfer":
            distances = chamfer_distance(torch.as_tensor(Y_pred), torch.as_tensor(target))
            return -float(distances.mean())
        if self.reconstruction_ == "categorical":
            return float(np.mean(Y_pred == target))
        return float(r2_score(target.reshape(n, -1), Y_pred.reshape(n, -1)))

    @property
    def _n_features_out(self):
        return self.latent_dim
