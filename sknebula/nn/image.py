"""Partner features for images: where the strokes run, not which pixels.

Two images of one class rarely share pixels where a stroke sits a pixel
further or bends a little, so pixel distances find many partners from other
classes. Edge orientations pooled over small cells, the idea behind HOG and
SIFT descriptors, do not change under such shifts and warps, nor under a
change of contrast.
"""

import numpy as np
from scipy.ndimage import gaussian_filter

# Orientation bins over the full circle: signed, since a dark stroke on a
# light ground is not the same edge as the reverse (SIFT's eight).
ORIENTATIONS = 8
# Cells across the image's longer side: pooling regions that scale with the
# image, so the tolerance to a shift is a share of the object's size.
CELLS = 7
# Images of this many pixels across are smoothed by one pixel before the
# gradients (less for smaller ones), so single-pixel noise is no edge.
SMOOTHING_SIDE = 28
# Below this many pixels a side, a cell is under two pixels wide and its
# histogram only re-encodes pixel differences (8x8 digits lose with it).
MIN_SIDE = 2 * CELLS
# Images per block, so that memory stays bounded on large sets.
CHUNK = 1024


def image_descriptor(X):
    """Features whose Euclidean neighbours are images of similar shape.

    Each channel is smoothed, its gradient orientations are binned softly
    into ``ORIENTATIONS`` directions weighted by the gradient magnitude, each
    orientation map is pooled with a Gaussian over cells of a ``CELLS``-th of
    the image and subsampled by half a cell, and the whole is scaled to unit
    length. A stroke moved by less than a cell, or a contrast change, barely
    moves the features.

    Parameters
    ----------
    X : array-like of shape (n_samples, H, W) or (n_samples, C, H, W)
        Images, channels first.

    Returns
    -------
    features : ndarray of shape (n_samples, n_features), float32
        Unit-length rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.image import image_descriptor
    >>> X = np.zeros((3, 28, 28))
    >>> X[0, 4:24, 12:14] = 1.0  # a vertical bar
    >>> X[1, 4:24, 14:16] = 1.0  # the same bar, two pixels to the right
    >>> X[2, 13:15, 4:24] = 1.0  # a horizontal bar
    >>> F = image_descriptor(X)
    >>> d = np.linalg.norm(F[:, None] - F[None], axis=-1)
    >>> bool(d[0, 1] < d[0, 2])  # the shifted bar is the nearer
    True
    >>> bool(np.linalg.norm(X[0] - X[1]) > np.linalg.norm(X[0] - X[2]))  # in pixels it is not
    True
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim not in (3, 4):
        raise ValueError(
            f"image_descriptor needs images of shape (n_samples, H, W) or "
            f"(n_samples, C, H, W), got an array of shape {X.shape}."
        )
    images = X.reshape(len(X), -1, *X.shape[-2:])
    blocks = [_describe(images[i : i + CHUNK]) for i in range(0, len(images), CHUNK)]
    features = np.concatenate(blocks) if blocks else np.zeros((0, 0), np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


def image_features(X):
    """The partner features of images: :func:`image_descriptor` where every
    cell spans two pixels or more (``MIN_SIDE``), else the flattened pixels.

    Parameters
    ----------
    X : array-like of shape (n_samples, H, W) or (n_samples, C, H, W)
        Images, channels first.

    Returns
    -------
    features : ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.image import image_features
    >>> image_features(np.zeros((2, 28, 28))).shape  # edge orientations
    (2, 1568)
    >>> image_features(np.zeros((2, 8, 8))).shape  # too small: the pixels
    (2, 64)
    """
    X = np.asarray(X)
    if not large_enough(X.shape[-2:]):
        return X.reshape(len(X), -1)
    return image_descriptor(X)


def large_enough(image_size):
    """Whether images of ``(H, W)`` get :func:`image_descriptor` as partner
    features: both sides of ``MIN_SIDE`` pixels or more."""
    return min(image_size) >= MIN_SIDE


def _describe(images):
    """Pooled orientation maps of images (n, C, H, W), flattened."""
    side = max(images.shape[-2:])
    smoothed = gaussian_filter(images, (0, 0, *[side / SMOOTHING_SIDE] * 2))
    gy, gx = np.gradient(smoothed, axis=(2, 3))
    magnitude = np.hypot(gx, gy)
    angle = np.arctan2(gy, gx)
    width = 2 * np.pi / ORIENTATIONS
    maps = []
    for k in range(ORIENTATIONS):
        # Soft binning: a gradient between two directions feeds both.
        offset = np.abs(np.remainder(angle - k * width + np.pi, 2 * np.pi) - np.pi)
        maps.append(magnitude * np.clip(1 - offset / width, 0, None))
    cell = side / CELLS
    pooled = gaussian_filter(np.stack(maps, axis=2), (0, 0, 0, cell / 2, cell / 2))
    step = max(1, round(cell / 2))
    pooled = pooled[..., step // 2 :: step, step // 2 :: step]
    return pooled.reshape(len(images), -1).astype(np.float32)
