"""Torch building blocks: encoders and decoders chosen by name.

Each entry of :data:`ARCHITECTURES` maps a name to an :class:`Architecture`:
an encoder class, built as ``encoder(input_shape, hidden_dims=...,
**encoder_params)`` and exposing ``out_features``; a decoder class, built as
``decoder(latent_dim, output_shape, hidden_dims)`` plus any further argument
it shares by name with an attribute of the built encoder (the decoder mirrors
the encoder, e.g. its ``vocab_size``); and the reconstruction likelihood
that fits the data kind (``None``: chosen from the data range, Bernoulli for
[0, 1], Gaussian otherwise).

========== ============================== ==================== ===============
name       one sample                     encoder              reconstruction
========== ============================== ==================== ===============
mlp        (d,) or any shape (flattened)  MLP                  from the range
conv2d     (H, W) or (C, H, W)            stride-2 Conv2d      from the range
sequence   (L,) or (C, L), real values    stride-2 Conv1d      from the range
tokens     (L,), integers in [0, V)       embedding + Conv1d   categorical
pointcloud (P, 3)                         PointNet (max pool)  chamfer
conv3d     (D, H, W) or (C, D, H, W)      stride-2 Conv3d      from the range
========== ============================== ==================== ===============
"""

import inspect
from collections.abc import Callable
from typing import NamedTuple

from .conv2d import Conv2dDecoder, Conv2dEncoder
from .conv3d import (
    Conv3dDecoder,
    Conv3dEncoder,
    canonical_volume,
    volume_descriptor,
    volume_spectrum,
)
from .image import image_descriptor, image_features
from .mlp import MLPDecoder, MLPEncoder
from .pointcloud import PointCloudDecoder, PointNetEncoder, shape_distribution
from .sequence import (
    SequenceDecoder,
    SequenceEncoder,
    TokenDecoder,
    TokenEncoder,
    ngram_profile,
    sequence_channels,
    series_descriptor,
)
from .vae import NebulaVAE


class Architecture(NamedTuple):
    encoder: type
    decoder: type
    reconstruction: str | None = None
    # What hidden_dims="auto" gives: widths for the MLP, channels for the
    # convolutions. One estimator-wide default cannot serve both: 256-channel
    # 1-d or 3-d convolutions are slow and, on small sets, worse. A callable
    # takes the sample shape (depth that grows with the length).
    hidden_dims: tuple | Callable = (256, 256)


ARCHITECTURES = {
    "mlp": Architecture(MLPEncoder, MLPDecoder),
    "conv2d": Architecture(Conv2dEncoder, Conv2dDecoder, hidden_dims=(32, 64)),
    "sequence": Architecture(
        SequenceEncoder, SequenceDecoder, hidden_dims=sequence_channels
    ),
    "tokens": Architecture(TokenEncoder, TokenDecoder, "categorical", hidden_dims=(32, 64)),
    "pointcloud": Architecture(
        PointNetEncoder, PointCloudDecoder, "chamfer", hidden_dims=(64, 128, 256)
    ),
    "conv3d": Architecture(Conv3dEncoder, Conv3dDecoder, hidden_dims=(16, 32)),
}


def architecture(encoder):
    """The :class:`Architecture` of an encoder name, or of a user's encoder
    class (paired with the MLP decoder, likelihood from the data range)."""
    if isinstance(encoder, str):
        return ARCHITECTURES[encoder]
    return Architecture(encoder, MLPDecoder)


def auto_hidden_dims(encoder, input_shape):
    """What ``hidden_dims="auto"`` means for an encoder and a sample shape."""
    dims = architecture(encoder).hidden_dims
    return tuple(dims(tuple(input_shape)) if callable(dims) else dims)


def default_reconstruction(encoder):
    """The reconstruction likelihood the architecture asks for, or None."""
    return architecture(encoder).reconstruction


def build_encoder(encoder, input_shape, hidden_dims, encoder_params=None):
    """Instantiate the encoder alone (for models without a decoder).

    Parameters
    ----------
    encoder : str or type
        A key of :data:`ARCHITECTURES`, or an ``nn.Module`` subclass taking
        ``input_shape`` as first argument and exposing ``out_features``.
    input_shape : tuple of int
        Shape of one input sample.
    hidden_dims : tuple of int
        Hidden widths (or channels), passed when the encoder takes them.
    encoder_params : dict, default=None
        Extra keyword arguments for the encoder.

    Returns
    -------
    encoder : nn.Module

    Raises
    ------
    ValueError
        If the sample shape does not fit the architecture, or an encoder
        parameter is unknown or missing.

    Examples
    --------
    >>> from sknebula.nn import build_encoder
    >>> build_encoder("conv2d", (1, 8, 8), (16, 32), {"pool": "mean"}).out_features
    32
    """
    params = dict(encoder_params or {})
    encoder_cls = architecture(encoder).encoder
    signature = inspect.signature(encoder_cls).parameters
    if "hidden_dims" in signature:
        params.setdefault("hidden_dims", hidden_dims)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.values())
    unknown = sorted(set(params) - set(signature)) if not takes_kwargs else []
    if unknown:
        raise ValueError(
            f"Unknown encoder_params {unknown} for {encoder_cls.__name__}; it "
            f"accepts {sorted(set(signature) - {'input_shape'})}."
        )
    return encoder_cls(tuple(input_shape), **params)


def build_encoder_decoder(
    encoder, input_shape, output_shape, latent_dim, hidden_dims, encoder_params=None
):
    """Instantiate the encoder and decoder for one data kind.

    Parameters
    ----------
    encoder : str or type
        A key of :data:`ARCHITECTURES`, or an ``nn.Module`` subclass taking
        ``input_shape`` as first argument and exposing ``out_features``; a
        user encoder is paired with the MLP decoder.
    input_shape, output_shape : tuple of int
        Shapes of one input sample and one reconstruction target.
    latent_dim : int
        Latent dimension.
    hidden_dims : tuple of int
        Hidden widths (or channels) shared by encoder and decoder.
    encoder_params : dict, default=None
        Extra keyword arguments for the encoder.

    Returns
    -------
    encoder, decoder : nn.Module
        The decoder receives, besides ``latent_dim``, ``output_shape`` and
        ``hidden_dims``, every further argument of its signature that the
        built encoder holds as an attribute of the same name.

    Raises
    ------
    ValueError
        If a sample shape does not fit the architecture, or an encoder
        parameter is unknown or missing.

    Examples
    --------
    >>> from sknebula.nn import build_encoder_decoder
    >>> enc, dec = build_encoder_decoder("tokens", (30,), (30,), 4, (8,), {"vocab_size": 6})
    >>> dec.conv.output_shape
    (6, 30)
    """
    enc = build_encoder(encoder, input_shape, hidden_dims, encoder_params)
    decoder_cls = architecture(encoder).decoder
    shared = {
        name: getattr(enc, name)
        for name in inspect.signature(decoder_cls).parameters
        if name not in ("latent_dim", "output_shape", "hidden_dims") and hasattr(enc, name)
    }
    dec = decoder_cls(latent_dim, tuple(output_shape), hidden_dims, **shared)
    return enc, dec


__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "Conv2dDecoder",
    "Conv2dEncoder",
    "Conv3dDecoder",
    "Conv3dEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "NebulaVAE",
    "PointCloudDecoder",
    "PointNetEncoder",
    "SequenceDecoder",
    "SequenceEncoder",
    "TokenDecoder",
    "TokenEncoder",
    "architecture",
    "auto_hidden_dims",
    "build_encoder",
    "build_encoder_decoder",
    "canonical_volume",
    "default_reconstruction",
    "image_descriptor",
    "image_features",
    "shape_distribution",
    "volume_descriptor",
    "volume_spectrum",
]
