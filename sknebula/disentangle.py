"""LabelDisentangledVAE: a VAE with label-relevant and label-irrelevant latents."""

from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import ClassifierMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_y,
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from ._base import N_EPOCHS_ATTR_DOC, BaseDeepEstimator, max_epochs_doc, keeps_global_random_state
from ._kinds import SAMPLE_SHAPE_PARAM_DOC
from .nn import build_encoder_decoder
from .nn.disentangle import LabelDisentangledModule
from .objectives.disentangle import DisentangleLoss
from .objectives.reconstruction import RECONSTRUCTIONS, decoder_mean


# Hidden width of the adversarial classifier on z_u.
ADVERSARY_HIDDEN = 64


class _LabelledBatches(torch.utils.data.Dataset):
    """Yields ``({"x": X[i]}, {"x": X[i], "y": y[i]})`` for index arrays ``i``.

    The target carries the input (reconstruction) and the label, so that the
    criterion sees both; batches are gathered in one indexing call (see
    :func:`sknebula._data.batch_loader`).
    """

    def __init__(self, X, y):
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        x = self.X[np.asarray(index)]
        return {"x": x}, {"x": x, "y": self.y[np.asarray(index)]}


class LabelDisentangledVAE(ClassifierMixin, TransformerMixin, BaseDeepEstimator):
    __doc__ = (
        """VAE with a label-relevant and a label-irrelevant latent (Zheng & Sun, 2019).

    Two encoders map ``x`` to Gaussian posteriors over a label-relevant code
    ``z_s`` (``relevant_dim``) and a label-irrelevant code ``z_u``
    (``irrelevant_dim``); one decoder reconstructs ``x`` from ``[z_s, z_u]``
    [1]_. The prior of ``z_s`` is a Gaussian mixture with one learnable mean
    ``m_c`` per class, ``p(z_s | c) = N(m_c, I)``; the prior of ``z_u`` is
    ``N(0, I)``. The per-sample loss is::

        rec(x | z_s, z_u)
          + beta * [KL(q(z_s|x) || N(m_y, I)) + KL(q(z_u|x) || N(0, I))]
          + classification_weight * CE(y, softmax_c(-||z_s - m_c||^2 / 2))
          + adversarial_weight * [CE(y, A(sg(mu_u))) + CE(uniform, A_sg(mu_u))]

    The classification term (cross-entropy of the class posterior of the
    mixture) raises the mutual information between ``z_s`` and the label.
    Unlike the paper, the reconstruction gradient stops at ``z_s``: the
    ``z_s`` encoder is trained by the label terms only (the decoder still
    reads ``z_s``), so the style of a sample has nowhere to go but ``z_u``;
    without this, style went to ``z_s`` and ``z_u`` was nearly unused.
    The last term follows the authors' code: an adversary ``A`` (a small
    MLP) learns to predict the label from the mean of ``z_u`` while the
    ``z_u`` encoder is trained to make its prediction uniform (``sg`` is a
    stop-gradient; ``A_sg`` has stop-gradient weights), so that ``z_u`` keeps
    the style and drops the label. ``rec`` is a Bernoulli negative
    log-likelihood on logits for data in [0, 1], a unit-variance Gaussian one
    otherwise (``reconstruction``).

    Prediction is the most probable mixture component of the ``z_s`` mean;
    ``transform`` gives ``[mu_s, mu_u]``; :meth:`generate` decodes a class
    mean with random ``z_u``; :meth:`swap_style` decodes the ``z_s`` of one
    sample with the ``z_u`` of another.

    Parameters
    ----------
    relevant_dim : int, default=10
        Dimension of the label-relevant code ``z_s``.
    irrelevant_dim : int, default=10
        Dimension of the label-irrelevant code ``z_u``.
    encoder : str or nn.Module class, default="mlp"
        Encoder architecture, a key of :data:`sknebula.nn.ARCHITECTURES`, or
        a module class built as ``encoder(input_shape, **encoder_params)``
        exposing ``out_features``. Two are built, one per code.
    encoder_params : dict, default=None
        Extra keyword arguments for the encoders.
    hidden_dims : tuple of int, default=(256, 256)
        Hidden layer widths of the encoders (mirrored in the decoder).
"""
        + SAMPLE_SHAPE_PARAM_DOC
        + """    classification_weight : float, default=1.0
        Weight of the mixture classification term on ``z_s``.
    beta : float, default=0.3
        Weight of the two KL terms. At 1 (the plain ELBO) the style of small
        images is hardly worth its KL price and ``z_u`` carries little of it
        (on 8x8 digits, see ``benchmarks/disentangle.py``); below 1 it
        carries the style.
    adversarial_weight : float, default=1.0
        Weight of the adversary that strips the label from ``z_u``; 0 turns
        it off (and builds no adversary).
    reconstruction : {"auto", "bernoulli", "gaussian"}, default="auto"
        Likelihood of the decoder; "auto" takes the architecture's own, else
        "bernoulli" for data in [0, 1] and "gaussian" otherwise.
"""
        + max_epochs_doc(100)
        + """    batch_size : int, default=128
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
        Seeds torch (weights, class means, batches, reparameterisation) and
        the ``z_u`` draws of :meth:`generate`. Fits are reproducible on CPU
        for a fixed number of torch threads.
    verbose : int, default=0
        skorch verbosity; 0 prints nothing.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_means_ : ndarray of shape (n_classes, relevant_dim)
        Means ``m_c`` of the class components of the ``z_s`` prior.
    reconstruction_ : str
        The reconstruction likelihood used.
    input_shape_ : tuple of int
        Shape of one input sample.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
"""
        + N_EPOCHS_ATTR_DOC
        + """    net_ : skorch.NeuralNet
        The fitted skorch net (``history``, ``save_params``, ``module_``).
    history_ : skorch.History
        Training history of ``net_``, with the objective's terms per epoch.

    See Also
    --------
    NebulaVariationalClusterer : The unsupervised model with latent anchors.
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : Gaussian
        class-conditional model on the raw input.

    References
    ----------
    .. [1] Zheng, Sun. "Disentangling Latent Space for VAE by Label
       Relevant/Irrelevant Dimensions." CVPR 2019, pp. 12192-12201.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknebula import LabelDisentangledVAE
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300] / 16, y[:300]
    >>> vae = LabelDisentangledVAE(relevant_dim=4, irrelevant_dim=3,
    ...                            max_epochs=5, random_state=0).fit(X, y)
    >>> vae.predict_proba(X[:2]).shape
    (2, 10)
    >>> vae.transform(X[:2]).shape
    (2, 7)
    >>> vae.get_feature_names_out()[[0, 4]]
    array(['zs0', 'zu0'], dtype=object)
    >>> vae.generate(3, n_samples=5).shape
    (5, 64)
    >>> vae.swap_style(X[:4], X[4:8]).shape
    (4, 64)
    """
    )

    _criterion = DisentangleLoss

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in BaseDeepEstimator._parameter_constraints.items()
            if k != "latent_dim"
        },
        "relevant_dim": [Interval(Integral, 1, None, closed="left")],
        "irrelevant_dim": [Interval(Integral, 1, None, closed="left")],
        "classification_weight": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction": [StrOptions({"auto", *RECONSTRUCTIONS})],
    }

    def __init__(
        self,
        relevant_dim=10,
        irrelevant_dim=10,
        *,
        encoder="mlp",
        encoder_params=None,
        hidden_dims=(256, 256),
        sample_shape=None,
        classification_weight=1.0,
        beta=0.3,
        adversarial_weight=1.0,
        reconstruction="auto",
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.relevant_dim = relevant_dim
        self.irrelevant_dim = irrelevant_dim
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.hidden_dims = hidden_dims
        self.sample_shape = sample_shape
        self.classification_weight = classification_weight
        self.beta = beta
        self.adversarial_weight = adversarial_weight
        self.reconstruction = reconstruction
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    # -------------------------------------------------------------- training
    def _build_module(self):
        """Two encoders and a decoder for samples of ``input_shape_``, with a
        mean per class of ``classes_`` (and the adversary on ``z_u`` where
        ``adversarial_weight`` > 0); see
        :meth:`BaseDeepEstimator._build_module`."""
        build = dict(
            encoder=self.encoder,
            input_shape=self.input_shape_,
            output_shape=self.input_shape_,
            latent_dim=int(self.relevant_dim) + int(self.irrelevant_dim),
            hidden_dims=self._hidden_dims(self.input_shape_),
            encoder_params=self.encoder_params,
        )
        encoder_s, decoder = build_encoder_decoder(**build)
        encoder_u, _ = build_encoder_decoder(**build)
        return LabelDisentangledModule(
            encoder_s,
            encoder_u,
            decoder,
            int(self.relevant_dim),
            int(self.irrelevant_dim),
            len(self.classes_),
            adversary_hidden=ADVERSARY_HIDDEN if self.adversarial_weight > 0 else None,
        )

    def _validate_y(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = _check_y(y, estimator=self)
        check_consistent_length(X, y)
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"got 1 class ({classes[0]!r})."
            )
        return classes, y_encoded

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_global_random_state
    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data. Data in [0, 1] is reconstructed with a Bernoulli
            likelihood; scale images with MinMaxScaler or by their maximum.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings, ...); at least two classes.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        classes, y_encoded = self._validate_y(X, y)
        self._check_hyper_parameters()
        reconstruction = self._reconstruction(X)
        self._seed_torch()

        # Recorded first: the network is built from them.
        self.classes_ = classes
        module = self._build_module()
        criterion_params = dict(
            reconstruction=reconstruction,
            beta=self.beta,
            classification_weight=self.classification_weight,
            adversarial_weight=self.adversarial_weight,
        )
        self._resolve_epochs(len(X))
        net = self._make_net(module, self._criterion, criterion_params, len(X))
        data = _LabelledBatches(np.asarray(X, dtype=np.float32), y_encoded.astype(np.int64))
        self._fit_net(net, data)

        self.net_ = net
        self.reconstruction_ = reconstruction
        self.class_means_ = net.module_.class_means.detach().cpu().double().numpy()
        return self

    # ------------------------------------------------------------- inference
    def _means(self, X):
        """Posterior means ``(mu_s, mu_u)`` of validated X."""
        return self._apply(X, lambda m, x: m.encode(x)[0::2])

    def _decode(self, z_s, z_u):
        joined = np.concatenate([z_s, z_u], axis=1)
        split = z_s.shape[1]
        return self._apply(
            joined,
            lambda m, z: decoder_mean(
                self.reconstruction_, m.decode(z[:, :split], z[:, split:])
            ),
        )

    def predict_proba(self, X):
        """Posterior over the class components of the ``z_s`` prior.

        ``p(c | x) = softmax_c(-||mu_s(x) - m_c||^2 / 2)``: the equal-weight
        mixture posterior at the ``z_s`` mean, as trained.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        mu_s, _ = self._means(self._validate_X(X, reset=False))
        d = ((mu_s[:, None, :] - self.class_means_[None]) ** 2).sum(-1)
        return softmax(-0.5 * d, axis=1)

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(1)]

    def transform(self, X):
        """Posterior means ``[mu_s, mu_u]`` of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Input data.

        Returns
        -------
        Z : ndarray of shape (n_samples, relevant_dim + irrelevant_dim)
            Label-relevant then label-irrelevant features.
        """
        check_is_fitted(self)
        return np.concatenate(self._means(self._validate_X(X, reset=False)), axis=1)

    def inverse_transform(self, X):
        """Decode ``[z_s, z_u]`` latents to data space (decoder means).

        Parameters
        ----------
        X : array-like of shape (n_samples, relevant_dim + irrelevant_dim)
            Latent vectors, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, ...)
            Decoded samples, each of shape ``input_shape_``.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        n_rel = self.class_means_.shape[1]
        if Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"Latent X has {Z.shape[1]} features, but {type(self).__name__} "
                f"has relevant_dim + irrelevant_dim = {self._n_features_out}."
            )
        return self._decode(Z[:, :n_rel], Z[:, n_rel:])

    def generate(self, class_label, n_samples=1, random_state=None):
        """Generate samples of one class: decode ``[m_c, z_u]``, ``z_u ~ N(0, I)``.

        Parameters
        ----------
        class_label : object
            A label from ``classes_``.
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seed of the ``z_u`` draws; ``None`` uses the estimator's
            ``random_state``.

        Returns
        -------
        X : ndarray of shape (n_samples, ...)
            Generated samples (decoder means), each of shape ``input_shape_``.
        """
        check_is_fitted(self)
        hits = np.flatnonzero(self.classes_ == class_label)
        if len(hits) == 0:
            raise ValueError(
                f"Unknown class_label {class_label!r}; the classes are {list(self.classes_)}."
            )
        if int(n_samples) != n_samples or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        n_irr = self._n_features_out - self.class_means_.shape[1]
        z_u = rng.standard_normal(size=(int(n_samples), n_irr))
        z_s = np.repeat(self.class_means_[hits[:1]], int(n_samples), axis=0)
        return self._decode(z_s, z_u)

    def swap_style(self, X_content, X_style):
        """Decode the ``z_s`` of ``X_content`` with the ``z_u`` of ``X_style``.

        Parameters
        ----------
        X_content : array-like of shape (n_samples, ...)
            Samples whose label-relevant code (class) is kept.
        X_style : array-like of shape (n_samples, ...) or (1, ...)
            Samples whose label-irrelevant code (style) is used; a single
            sample gives its style to every content sample.

        Returns
        -------
        X_swapped : ndarray of shape (n_samples, ...)
            Decoder means, each of shape ``input_shape_``.
        """
        check_is_fitted(self)
        mu_s, _ = self._means(self._validate_X(X_content, reset=False))
        _, mu_u = self._means(self._validate_X(X_style, reset=False))
        if len(mu_u) == 1:
            mu_u = np.repeat(mu_u, len(mu_s), axis=0)
        elif len(mu_u) != len(mu_s):
            raise ValueError(
                f"X_style has {len(mu_u)} samples; it needs 1 or as many as "
                f"X_content ({len(mu_s)})."
            )
        return self._decode(mu_s, mu_u)

    def get_feature_names_out(self, input_features=None):
        """Names of the ``transform`` output: ``zs0, zs1, ..., zu0, zu1, ...``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the features seen in fit.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Output feature names.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        n_rel = self.class_means_.shape[1]
        names = [f"zs{i}" for i in range(n_rel)]
        names += [f"zu{i}" for i in range(self._n_features_out - n_rel)]
        return np.asarray(names, dtype=object)

    @property
    def _n_features_out(self):
        # From the fitted module, not the (possibly re-set) parameters.
        module = self.net_.module_
        return module.head_s.mu.out_features + module.head_u.mu.out_features
