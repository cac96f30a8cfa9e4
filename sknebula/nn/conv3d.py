"""Volume encoder and decoder: stride-2 ``Conv3d`` stacks (see conv2d.py),
and the translation-free descriptor their partners are found on."""

import numpy as np

from .conv2d import ConvDecoder, ConvEncoder

# Frequencies kept per axis by volume_spectrum: the whole spectrum of a 16^3
# grid, the low band (which carries the shape) of larger ones, so that the
# descriptor stays under 17 * 17 * 9 values per channel.
_MAX_FREQUENCY = 8


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
