"""Strided convolution encoders and mirrored decoders for grids.

One implementation serves 1-d signals, 2-d images and 3-d volumes: each
layer is a kernel-3, stride-2, padding-1 convolution that halves every
spatial size (rounding up), so any size works. The decoder records the
sizes on the way down and undoes each step with a transposed convolution
whose ``output_padding`` restores the exact size (0 for odd, 1 for even).
"""

import math

import torch
from torch import nn

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_DECONV = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_AXES = {1: "(L,) or (C, L)", 2: "(H, W) or (C, H, W)", 3: "(D, H, W) or (C, D, H, W)"}


def grid_shape(shape, n_dims, kind):
    """``(channels, *spatial)`` of one sample, or a clear ValueError.

    A sample with ``n_dims`` axes has one channel (added by the modules);
    one with ``n_dims + 1`` axes is channels first.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == n_dims:
        shape = (1, *shape)
    if len(shape) != n_dims + 1 or min(shape) < 1:
        raise ValueError(
            f"The {kind!r} architecture expects samples of shape {_AXES[n_dims]}, "
            f"got samples of shape {shape}; reshape X (e.g. X.reshape(n, 8, 8) "
            "for flattened 8x8 images) or use encoder='mlp'."
        )
    return shape


def halved_sizes(spatial, n_layers):
    """Spatial sizes after each stride-2 layer: ``[spatial, ceil(/2), ...]``."""
    sizes = [tuple(spatial)]
    for _ in range(n_layers):
        sizes.append(tuple(math.ceil(s / 2) for s in sizes[-1]))
    return sizes


class ConvEncoder(nn.Module):
    """Stride-2 convolutions with ReLU, then flatten.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample: ``n_dims`` spatial axes, optionally preceded by
        a channel axis.
    hidden_dims : sequence of int, default=(32, 64)
        Output channels of each convolution; each halves the spatial sizes.
    n_dims : {1, 2, 3}, default=2
        Number of spatial axes.
    kind : str, default="conv2d"
        Architecture name, for error messages.
    pool : {None, "mean", "max"}, default=None
        None flattens the last feature map (keeps where features are);
        "mean" or "max" pools it over the spatial axes (translation
        invariant, ``out_features`` = last channel count).
    """

    def __init__(self, input_shape, hidden_dims=(32, 64), n_dims=2, kind="conv2d", pool=None):
        super().__init__()
        if pool not in (None, "mean", "max"):
            raise ValueError(f"pool must be None, 'mean' or 'max', got {pool!r}.")
        self.pool = pool
        self.input_shape = tuple(input_shape)
        shape = grid_shape(input_shape, n_dims, kind)
        channels = [shape[0], *hidden_dims]
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [_CONV[n_dims](c_in, c_out, 3, stride=2, padding=1), nn.ReLU()]
        self.layers = nn.Sequential(*layers)
        self.grid = shape
        last = halved_sizes(shape[1:], len(hidden_dims))[-1]
        self.out_features = channels[-1] * (1 if pool else math.prod(last))

    def forward(self, x):
        x = x.reshape(-1, *self.grid)  # adds the channel axis when absent
        h = self.layers(x).flatten(2)
        if self.pool == "mean":
            return h.mean(2)
        if self.pool == "max":
            return h.amax(2)
        return h.flatten(1)


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: linear map to the smallest grid, then
    stride-2 transposed convolutions back to ``output_shape``.

    The last layer is linear (no activation): its output is read by the
    reconstruction likelihood (logits for Bernoulli, means for Gaussian).

    Parameters
    ----------
    latent_dim : int
        Latent dimension.
    output_shape : tuple of int
        Shape of one reconstruction, with or without a channel axis.
    hidden_dims : sequence of int, default=(32, 64)
        Channels of the encoder, which the decoder visits in reverse.
    n_dims : {1, 2, 3}, default=2
        Number of spatial axes.
    kind : str, default="conv2d"
        Architecture name, for error messages.
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(32, 64), n_dims=2, kind="conv2d"):
        super().__init__()
        self.output_shape = tuple(output_shape)
        shape = grid_shape(output_shape, n_dims, kind)
        hidden_dims = tuple(hidden_dims)
        if not hidden_dims:
            raise ValueError(f"The {kind!r} architecture needs at least one hidden layer.")
        sizes = halved_sizes(shape[1:], len(hidden_dims))
        self.start = (hidden_dims[-1], *sizes[-1])
        self.fc = nn.Linear(latent_dim, math.prod(self.start))
        channels = [*reversed(hidden_dims), shape[0]]
        layers = []
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            small, big = sizes[-1 - i], sizes[-2 - i]
            # (s - 1) * 2 - 2 + 3 + pad = 2s - 1 + pad must equal the size above.
            pad = tuple(b - 2 * s + 1 for b, s in zip(big, small))
            layers.append(
                _DECONV[n_dims](c_in, c_out, 3, stride=2, padding=1, output_padding=pad)
            )
            if i < len(hidden_dims) - 1:
                layers.append(nn.ReLU())
        self.layers = nn.Sequential(*layers)

    def forward(self, z):
        h = torch.relu(self.fc(z)).view(-1, *self.start)
        return self.layers(h).reshape(-1, *self.output_shape)


class Conv2dEncoder(ConvEncoder):
    """Image encoder: stride-2 ``Conv2d`` layers with ReLU, then flatten.

    Takes images of shape ``(H, W)`` (one channel added inside) or
    ``(C, H, W)``, of any size; each layer halves H and W (rounding up).

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W)`` or ``(C, H, W)``.
    hidden_dims : sequence of int, default=(32, 64)
        Channels of the convolutions.
    pool : {None, "mean", "max"}, default=None
        None flattens the last feature map; "mean" or "max" pools it over
        the spatial axes (translation invariant).

    Examples
    --------
    >>> import torch
    >>> from sknebula.nn import Conv2dEncoder, Conv2dDecoder
    >>> enc = Conv2dEncoder((8, 8), hidden_dims=(16, 32))
    >>> enc(torch.zeros(5, 8, 8)).shape
    torch.Size([5, 128])
    >>> Conv2dDecoder(4, (8, 8), hidden_dims=(16, 32))(torch.zeros(5, 4)).shape
    torch.Size([5, 8, 8])
    """

    def __init__(self, input_shape, hidden_dims=(32, 64), pool=None):
        super().__init__(input_shape, hidden_dims, n_dims=2, kind="conv2d", pool=pool)


class Conv2dDecoder(ConvDecoder):
    """Mirror of :class:`Conv2dEncoder`, producing ``(H, W)`` or ``(C, H, W)``.

    Parameters
    ----------
    latent_dim : int
        Latent dimension.
    output_shape : tuple of int
        ``(H, W)`` or ``(C, H, W)``.
    hidden_dims : sequence of int, default=(32, 64)
        The encoder's channels.
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(32, 64)):
        super().__init__(latent_dim, output_shape, hidden_dims, n_dims=2, kind="conv2d")
