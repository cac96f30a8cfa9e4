"""Volume encoder and decoder: stride-2 ``Conv3d`` stacks (see conv2d.py)."""

from .conv2d import ConvDecoder, ConvEncoder


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
