"""Display objects for fitted sknebula estimators (needs matplotlib).

Like scikit-learn's displays (e.g. ``ConfusionMatrixDisplay``), each class
holds the numbers to plot, draws them with ``plot`` and is usually built
with ``from_estimator``; the matplotlib artists are kept as attributes
ending in ``_`` so that a figure can be restyled after the fact.
matplotlib is imported only when something is drawn (``pip install
sknebula[plot]``).
"""

import numpy as np
from sklearn.base import is_classifier, is_clusterer, is_outlier_detector
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from ._kinds import kind_of

__all__ = [
    "LatentSpaceDisplay",
    "ReconstructionDisplay",
    "TrainingHistoryDisplay",
    "plot_history",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sknebula.plotting needs matplotlib: pip install 'sknebula[plot]'."
        ) from exc
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


class LatentSpaceDisplay:
    """Latent space in two dimensions, with the anchors and cluster colours.

    Build it with :meth:`from_estimator`; the constructor takes points that
    are already two-dimensional.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
        The samples' latent means, projected to two dimensions.
    labels : ndarray of shape (n_samples,), default=None
        What colours the points (clusters or classes); None draws one colour.
    anchors : ndarray of shape (n_anchors, 2), default=None
        Projected anchors (or class means), drawn as black crosses.
    explained_variance_ratio : ndarray of shape (2,), default=None
        Variance of the latent space along each axis, shown in the labels.
    estimator_name : str, default=None
        Used in the title.

    Attributes
    ----------
    scatter_ : matplotlib.collections.PathCollection
        The samples.
    anchors_ : matplotlib.collections.PathCollection or None
        The anchors.
    ax_ : matplotlib.axes.Axes
        Axes with the plot.
    figure_ : matplotlib.figure.Figure
        Figure containing the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.plotting import LatentSpaceDisplay
    >>> X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(32,), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> disp = LatentSpaceDisplay.from_estimator(est, X)
    >>> disp.scatter_.get_offsets().shape, disp.anchors_.get_offsets().shape
    ((60, 2), (3, 2))
    """

    def __init__(
        self,
        embedding,
        *,
        labels=None,
        anchors=None,
        explained_variance_ratio=None,
        estimator_name=None,
    ):
        self.embedding = embedding
        self.labels = labels
        self.anchors = anchors
        self.explained_variance_ratio = explained_variance_ratio
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, cmap="tab10", scatter_kwargs=None, anchor_kwargs=None):
        """Draw the display.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        cmap : str or Colormap, default="tab10"
            Colour map of the labels.
        scatter_kwargs : dict, default=None
            Extra keyword arguments for the samples' ``scatter``.
        anchor_kwargs : dict, default=None
            Extra keyword arguments for the anchors' ``scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, with the artists set.
        """
        ax = _axes(ax)
        points = np.asarray(self.embedding)
        kwargs = {"s": 12, "alpha": 0.8}
        if self.labels is not None:
            kwargs.update(c=np.asarray(self.labels), cmap=cmap)
        kwargs.update(scatter_kwargs or {})
        self.scatter_ = ax.scatter(points[:, 0], points[:, 1], **kwargs)
        self.anchors_ = None
        if self.anchors is not None:
            anchors = np.asarray(self.anchors)
            akw = {"marker": "X", "s": 120, "c": "black", "edgecolors": "white",
                   "label": "anchors"}
            akw.update(anchor_kwargs or {})
            self.anchors_ = ax.scatter(anchors[:, 0], anchors[:, 1], **akw)
            ax.legend(loc="best")
        names = ["latent component 1", "latent component 2"]
        if self.explained_variance_ratio is not None:
            names = [f"{n} ({r:.0%})" for n, r in zip(names, self.explained_variance_ratio)]
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: latent space")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, y=None, *, anchors="auto", ax=None, cmap="tab10",
        scatter_kwargs=None, anchor_kwargs=None,
    ):
        """Plot the latent means of ``X`` in two dimensions.

        ``transform(X)`` is projected on its first two principal components
        (kept as is when it has two dimensions, padded when it has one); the
        anchors go through the same projection.

        Parameters
        ----------
        estimator : fitted estimator
            An estimator with ``transform``.
        X : array-like of shape (n_samples, ...)
            Data to embed.
        y : array-like of shape (n_samples,), default=None
            Labels to colour by. None colours by the estimator's clusters
            (or classes, or inlier/outlier) when it predicts them, else by
            the nearest anchor.
        anchors : "auto", array-like of shape (n_anchors, latent_dim) or None, default="auto"
            Points to mark in latent space; "auto" takes ``anchors_`` when
            the estimator has them and they live in the transform's space.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        cmap : str or Colormap, default="tab10"
            Colour map of the labels.
        scatter_kwargs : dict, default=None
            Extra keyword arguments for the samples' ``scatter``.
        anchor_kwargs : dict, default=None
            Extra keyword arguments for the anchors' ``scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
            The drawn display.
        """
        check_is_fitted(estimator)
        Z = np.asarray(estimator.transform(X), dtype=np.float64)
        Z = Z.reshape(len(Z), -1)
        if isinstance(anchors, str):
            if anchors != "auto":
                raise ValueError(f"anchors must be 'auto', an array or None, got {anchors!r}.")
            anchors = getattr(estimator, "anchors_", None)
            if anchors is not None and np.shape(anchors)[1] != Z.shape[1]:
                anchors = None  # anchors of a sub-space (e.g. one latent block)
        elif anchors is not None:
            anchors = np.asarray(anchors, dtype=np.float64)
            if anchors.ndim != 2 or anchors.shape[1] != Z.shape[1]:
                raise ValueError(
                    f"anchors must have shape (n_anchors, {Z.shape[1]}), got {anchors.shape}."
                )
        labels = y
        if labels is None:
            labels = _predicted_groups(estimator, X, Z, anchors)
        points, anchors_2d, ratio = _project(Z, anchors)
        return cls(
            points,
            labels=None if labels is None else np.asarray(labels),
            anchors=anchors_2d,
            explained_variance_ratio=ratio,
            estimator_name=type(estimator).__name__,
        ).plot(ax=ax, cmap=cmap, scatter_kwargs=scatter_kwargs, anchor_kwargs=anchor_kwargs)


def _predicted_groups(estimator, X, Z, anchors):
    """Cluster, class or inlier labels of X; else the nearest anchor; else None."""
    kinds = (is_clusterer, is_classifier, is_outlier_detector)
    if hasattr(estimator, "predict") and any(kind(estimator) for kind in kinds):
        return estimator.predict(X)
    if anchors is not None:
        # e.g. NebulaAutoencoder, whose predict reconstructs.
        return ((Z[:, None, :] - anchors[None]) ** 2).sum(-1).argmin(1)
    return None


def _project(Z, anchors):
    """2-d coordinates of Z (and anchors): PCA above two dimensions."""
    if Z.shape[1] == 1:
        pad = lambda A: np.hstack([A, np.zeros((len(A), 1))])  # noqa: E731
        return pad(Z), None if anchors is None else pad(anchors), None
    if Z.shape[1] == 2:
        return Z, anchors, None
    pca = PCA(n_components=2).fit(Z)
    projected = None if anchors is None else pca.transform(anchors)
    return pca.transform(Z), projected, pca.explained_variance_ratio_


class TrainingHistoryDisplay:
    """Training curves: one line per recorded quantity against the epoch.

    Parameters
    ----------
    curves : dict of str to ndarray of shape (n_epochs,)
        The values per epoch (NaN where a quantity was not recorded, e.g. a
        term that exists only after the warm-up).
    estimator_name : str, default=None
        Used in the title.

    Attributes
    ----------
    lines_ : dict of str to matplotlib.lines.Line2D
        One line per curve.
    ax_ : matplotlib.axes.Axes
        Axes with the plot.
    figure_ : matplotlib.figure.Figure
        Figure containing the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.plotting import TrainingHistoryDisplay
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(32,), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> disp = TrainingHistoryDisplay.from_estimator(est, keys=["train_loss"])
    >>> len(disp.lines_["train_loss"].get_xdata())
    5
    """

    def __init__(self, curves, *, estimator_name=None):
        self.curves = curves
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, logy=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        logy : bool, default=False
            Logarithmic y axis (for positive quantities).

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with the artists set.
        """
        ax = _axes(ax)
        self.lines_ = {}
        for name, values in self.curves.items():
            epochs = np.arange(1, len(values) + 1)
            (self.lines_[name],) = ax.plot(epochs, values, label=name)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("value")
        if self.curves:
            ax.legend(loc="best")
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: training")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, keys=None, ax=None, logy=False):
        """Plot the training curves of a fitted estimator's ``history_``.

        Parameters
        ----------
        estimator : fitted estimator
            An estimator with a skorch ``history_``.
        keys : list of str, default=None
            Epoch-level history entries to plot; None plots the loss and
            every recorded objective term (entries starting with ``train_``
            or ``valid_``, except batch sizes and counts).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        logy : bool, default=False
            Logarithmic y axis.

        Returns
        -------
        display : TrainingHistoryDisplay
            The drawn display.
        """
        history = estimator.history_
        if keys is None:
            seen = {}
            for row in history:
                for key in row:
                    seen.setdefault(key, None)
            keys = [
                k for k in seen
                if k.startswith(("train_", "valid_"))
                and not k.endswith(("batch_size", "batch_count"))
                and not isinstance(history[0].get(k, 0.0), bool)
            ]
        else:
            missing = [k for k in keys if not any(k in row for row in history)]
            if missing:
                raise ValueError(f"history_ has no entries {missing}.")
        curves = {
            k: np.array([float(row.get(k, np.nan)) for row in history]) for k in keys
        }
        return cls(curves, estimator_name=type(estimator).__name__).plot(ax=ax, logy=logy)


def plot_history(estimator, *, keys=None, ax=None, logy=False):
    """Plot an estimator's training curves (shortcut for the display).

    Parameters
    ----------
    estimator : fitted estimator
        An estimator with a skorch ``history_``.
    keys : list of str, default=None
        History entries to plot; see :meth:`TrainingHistoryDisplay.from_estimator`.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.
    logy : bool, default=False
        Logarithmic y axis.

    Returns
    -------
    display : TrainingHistoryDisplay
        The drawn display.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_blobs
    >>> from sknebula import NebulaVariationalClusterer
    >>> from sknebula.plotting import plot_history
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> est = NebulaVariationalClusterer(n_anchors=3, hidden_dims=(32,), max_epochs=5,
    ...                                  random_state=0).fit(X)
    >>> "train_loss" in plot_history(est).lines_
    True
    """
    return TrainingHistoryDisplay.from_estimator(estimator, keys=keys, ax=ax, logy=logy)


def _as_images(A, image_shape):
    """Reshape rows of A to images imshow accepts: (n, H, W) or (n, H, W, C)."""
    A = np.asarray(A, dtype=np.float64)
    A = A.reshape(len(A), *image_shape)
    if A.ndim == 4:  # channels first, as torch stores images
        A = np.moveaxis(A, 1, -1)
        if A.shape[-1] == 1:
            A = A[..., 0]
    return A


def _image_shape(estimator, image_shape):
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) not in (2, 3):
            raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape}.")
        return image_shape
    input_shape = getattr(estimator, "input_shape_", None)
    shape = None if input_shape is None else kind_of(estimator).plot_shape
    if shape is None:
        raise ValueError(
            f"Cannot tell the image shape of samples of shape {input_shape}; pass "
            "image_shape=(H, W)."
        )
    return shape


class ReconstructionDisplay:
    """A grid of images: originals on the top row, reconstructions below.

    Parameters
    ----------
    originals : ndarray of shape (n_images, H, W) or (n_images, H, W, C)
        The input images.
    reconstructions : ndarray of the same shape
        The model's reconstructions.
    estimator_name : str, default=None
        Used in the title.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes of shape (2, n_images)
        Top row originals, bottom row reconstructions.
    images_ : ndarray of matplotlib AxesImage of shape (2, n_images)
        The drawn images.
    figure_ : matplotlib.figure.Figure
        Figure containing the grid.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sknebula import NebulaAutoencoder
    >>> from sknebula.plotting import ReconstructionDisplay
    >>> X = load_digits().data[:100] / 16
    >>> ae = NebulaAutoencoder(hidden_dims=(32,), max_epochs=3, random_state=0).fit(X)
    >>> ReconstructionDisplay.from_estimator(ae, X, n_images=5).axes_.shape
    (2, 5)
    """

    def __init__(self, originals, reconstructions, *, estimator_name=None):
        self.originals = originals
        self.reconstructions = reconstructions
        self.estimator_name = estimator_name

    def plot(self, *, cmap="gray_r", figure=None):
        """Draw the grid.

        Parameters
        ----------
        cmap : str or Colormap, default="gray_r"
            Colour map of single-channel images.
        figure : matplotlib Figure, default=None
            Figure to draw in (its content is kept); a new one when None.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with the artists set.
        """
        plt = _pyplot()
        n = len(self.originals)
        if figure is None:
            figure = plt.figure(figsize=(1.2 * n, 2.6))
        axes = np.asarray(figure.subplots(2, n, squeeze=False))
        images = np.empty_like(axes)
        for row, data in enumerate((self.originals, self.reconstructions)):
            for j in range(n):
                img = np.clip(np.asarray(data[j]), 0, 1) if np.ndim(data[j]) == 3 else data[j]
                images[row, j] = axes[row, j].imshow(img, cmap=cmap)
                axes[row, j].set_axis_off()
        axes[0, 0].set_title("input", loc="left", fontsize="small")
        axes[1, 0].set_title("reconstruction", loc="left", fontsize="small")
        if self.estimator_name:
            figure.suptitle(self.estimator_name)
        self.axes_, self.images_, self.figure_ = axes, images, figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, *, n_images=8, image_shape=None, random_state=None,
        cmap="gray_r", figure=None,
    ):
        """Reconstruct some images of X and draw them under the originals.

        The reconstruction is ``inverse_transform(transform(X))``, i.e. the
        decoder mean at the posterior mean.

        Parameters
        ----------
        estimator : fitted estimator
            An estimator with ``transform`` and ``inverse_transform``.
        X : array-like of shape (n_samples, ...)
            Images (flat rows or arrays of the fitted sample shape).
        n_images : int, default=8
            Number of images; the first ones, or a random subset when
            ``random_state`` is given.
        image_shape : tuple of int, default=None
            (H, W) or channels-first (C, H, W); None takes the images'
            shape from the estimator (its ``sample_shape``, else
            ``input_shape_``; square images when flat).
        random_state : int, RandomState instance or None, default=None
            Draws the subset; None takes the first ``n_images`` samples.
        cmap : str or Colormap, default="gray_r"
            Colour map of single-channel images.
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one when None.

        Returns
        -------
        display : ReconstructionDisplay
            The drawn display.
        """
        from sklearn.utils import check_random_state

        check_is_fitted(estimator)
        shape = _image_shape(estimator, image_shape)
        X = np.asarray(X)
        if n_images < 1:
            raise ValueError(f"n_images must be >= 1, got {n_images}.")
        n_images = min(n_images, len(X))
        if random_state is None:
            idx = np.arange(n_images)
        else:
            idx = check_random_state(random_state).choice(len(X), n_images, replace=False)
        subset = X[idx]
        recon = estimator.inverse_transform(estimator.transform(subset))
        return cls(
            _as_images(subset, shape),
            _as_images(recon, shape),
            estimator_name=type(estimator).__name__,
        ).plot(cmap=cmap, figure=figure)
