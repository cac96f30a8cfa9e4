"""Volume encoder and decoder: stride-2 ``Conv3d`` stacks (see conv2d.py),
and the position- and size-free descriptor their partners are found on."""

import numpy as np
from scipy import ndimage

from .conv2d import ConvDecoder, ConvEncoder

# Frequencies kept per axis by volume_spectrum: the whole spectrum of a 16^3
# grid, the low band (which carries the shape) of larger ones, so that the
# descriptor stays under 17 * 17 * 9 values per channel.
_MAX_FREQUENCY = 8
# canonical_volume maps this many RMS radii of the mass to the grid's edge:
# a ball (RMS radius 0.77 R) then spans half the grid, a cube's corners
# (1.73 times its RMS radius) stay inside it.
_EXTENT_IN_RMS_RADII = 2.5


def canonical_volume(X):
    """Volumes resampled so that their mass is centred and of one size.

    Each volume's mass (its distance from its own background, the median,
    summed over channels, after a grey opening over 3 voxels, which drops
    specks of noise and leaves a solid whole) gives a centroid and an RMS radius; the volume is
    resampled (trilinear) so that the centroid lies at the grid's centre
    and 2.5 RMS radii at its edge. A shape then looks the same wherever it
    sits and however big it is, which moments alone (the classical
    normalisation of position and scale) guarantee; an empty volume is
    returned as it is.

    Parameters
    ----------
    X : ndarray of shape (n_samples, D, H, W) or (n_samples, C, D, H, W)
        Volumes.

    Returns
    -------
    X_canonical : ndarray of the shape of X
        Float64. Interpolation blurs the edges of a shape that is enlarged,
        so radii agree to within about a voxel on a 16^3 grid.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.conv3d import canonical_volume
    >>> X = np.zeros((2, 16, 16, 16))
    >>> X[0, 1:7, 1:7, 1:7] = 1.0  # a small box in a corner
    >>> X[1, 2:14, 2:14, 2:14] = 1.0  # a box twice as big, centred
    >>> C = canonical_volume(X)
    >>> grid = np.indices((16, 16, 16)).reshape(3, -1)
    >>> [np.round(grid @ c.ravel() / c.sum(), 1).tolist() for c in C]  # centroids
    [[7.5, 7.5, 7.5], [7.5, 7.5, 7.5]]
    >>> radius = lambda c: np.sqrt(((grid.T - 7.5) ** 2).sum(1) @ c.ravel() / c.sum())
    >>> [round(float(radius(c)), 1) for c in C]  # RMS radii, near 8 / 2.5
    [3.3, 3.0]
    """
    X = np.asarray(X, dtype=np.float64)
    out = np.empty_like(X)
    channels = X[:, None] if X.ndim == 4 else X
    shape = np.array(channels.shape[-3:])
    grid = np.indices(tuple(shape)).reshape(3, -1).astype(np.float64)
    centred = grid - ((shape - 1) / 2)[:, None]
    for i, volume in enumerate(channels):
        background = np.median(volume.reshape(len(volume), -1), axis=1)
        mass = np.abs(volume - background[:, None, None, None]).sum(axis=0)
        mass = ndimage.grey_opening(mass, size=3, mode="constant").ravel()
        total = mass.sum()
        if total <= 0:
            out[i] = X[i]
            continue
        centroid = grid @ mass / total
        rms = np.sqrt(((grid - centroid[:, None]) ** 2).sum(axis=0) @ mass / total)
        step = rms * _EXTENT_IN_RMS_RADII / (shape / 2)
        coords = centroid[:, None] + centred * step[:, None]
        resampled = [
            ndimage.map_coordinates(c, coords, order=1, mode="constant", cval=b)
            for c, b in zip(volume, background)
        ]
        out[i] = np.reshape(resampled, X.shape[1:])
    return out


def volume_descriptor(X):
    """Features whose Euclidean neighbours are volumes of similar shape,
    wherever it sits and however big it is: the Fourier magnitudes
    (:func:`volume_spectrum`) of the :func:`canonical_volume`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, D, H, W) or (n_samples, C, D, H, W)
        Volumes.

    Returns
    -------
    features : ndarray of shape (n_samples, n_features)
        As :func:`volume_spectrum`'s.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.conv3d import volume_descriptor
    >>> X = np.zeros((3, 16, 16, 16))
    >>> X[0, 2:6, 2:6, 2:6] = 1.0  # a small box
    >>> X[1, 4:12, 4:12, 4:12] = 1.0  # a big box, elsewhere
    >>> i, j, k = np.indices((16, 16, 16))
    >>> X[2] = (i - 7.5) ** 2 + (j - 7.5) ** 2 + (k - 7.5) ** 2 < 16  # a ball
    >>> F = volume_descriptor(X)
    >>> d = np.linalg.norm(F[:, None] - F[None], axis=-1)
    >>> bool(d[0, 1] < d[0, 2])  # the boxes are nearer each other than to the ball
    True
    """
    return volume_spectrum(canonical_volume(X))


def volume_spectrum(X):
    """Features whose Euclidean neighbours are volumes of similar shape,
    wherever the shape sits in the grid.

    The magnitude of each channel's 3-D Fourier spectrum, which a
    translation (circular, or of a shape within an empty background) does
    not change, up to frequency 8 along each axis (the data kinds guide
    compares its neighbours with the voxels').

    Parameters
    ----------
    X : ndarray of shape (n_samples, D, H, W) or (n_samples, C, D, H, W)
        Volumes.

    Returns
    -------
    features : ndarray of shape (n_samples, n_features)
        ``C * d * h * w`` values, with ``d, h`` the kept frequencies along
        the first two axes (``min(size, 17)``) and ``w`` along the last
        (``min(size // 2 + 1, 9)``).

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.conv3d import volume_spectrum
    >>> X = np.zeros((2, 16, 16, 16))
    >>> X[0, 2:6, 3:9, 4:7] = 1.0
    >>> X[1, 9:13, 5:11, 8:11] = 1.0  # the same box, elsewhere
    >>> F = volume_spectrum(X)
    >>> F.shape
    (2, 2304)
    >>> bool(np.allclose(F[0], F[1]))
    True
    """
    X = np.asarray(X, dtype=np.float32)
    X = X[:, None] if X.ndim == 4 else X
    spectrum = np.abs(np.fft.rfftn(X, axes=(-3, -2, -1)))
    for axis in (-3, -2):
        size = spectrum.shape[axis]
        if size > 2 * _MAX_FREQUENCY + 1:  # keep frequencies -8..8
            keep = np.r_[0 : _MAX_FREQUENCY + 1, size - _MAX_FREQUENCY : size]
            spectrum = np.take(spectrum, keep, axis=axis)
    spectrum = spectrum[..., : _MAX_FREQUENCY + 1]
    return spectrum.reshape(len(X), -1).astype(np.float32)


class Conv3dEncoder(ConvEncoder):
    """Volume encoder: stride-2 ``Conv3d`` layers with ReLU, then flatten.

    Takes volumes of shape ``(D, H, W)`` (one channel added inside), e.g.
    occupancy grids, or ``(C, D, H, W)``, of any size; each layer halves
    every spatial size (rounding up).

    Parameters
    ----------
    input_shape : tuple of int
        ``(D, H, W)`` or ``(C, D, H, W)``.
    hidden_dims : sequence of int, default=(16, 32)
        Channels of the convolutions.
    pool : {None, "mean", "max"}, default=None
        None flattens the last feature map; "mean" or "max" pools it over
        the spatial axes (translation invariant).

    Examples
    --------
    >>> import torch
    >>> from sknebula.nn import Conv3dEncoder, Conv3dDecoder
    >>> Conv3dEncoder((12, 12, 12), hidden_dims=(8, 16))(torch.zeros(2, 12, 12, 12)).shape
    torch.Size([2, 432])
    >>> Conv3dDecoder(4, (12, 12, 12), hidden_dims=(8, 16))(torch.zeros(2, 4)).shape
    torch.Size([2, 12, 12, 12])
    """

    def __init__(self, input_shape, hidden_dims=(16, 32), pool=None):
        super().__init__(input_shape, hidden_dims, n_dims=3, kind="conv3d", pool=pool)


class Conv3dDecoder(ConvDecoder):
    """Mirror of :class:`Conv3dEncoder`, producing ``(D, H, W)`` or ``(C, D, H, W)``.

    Parameters
    ----------
    latent_dim : int
        Latent dimension.
    output_shape : tuple of int
        ``(D, H, W)`` or ``(C, D, H, W)``.
    hidden_dims : sequence of int, default=(16, 32)
        The encoder's channels.
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(16, 32)):
        super().__init__(latent_dim, output_shape, hidden_dims, n_dims=3, kind="conv3d")
