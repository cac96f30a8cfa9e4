"""Torch building blocks: encoders and decoders chosen by name.

Each entry of :data:`ARCHITECTURES` maps a name to an :class:`Architecture`:
an encoder class, built as ``encoder(input_shape, hidden_dims=...,
**encoder_params)`` and exposing ``out_features``; a decoder class, built as
``decoder(latent_dim, output_shape, hidden_dims)``; and the reconstruction
likelihood that fits the data kind (``None``: chosen from the data range,
Bernoulli for [0, 1], Gaussian otherwise).
"""

import inspect
from typing import NamedTuple

from .mlp import MLPDecoder, MLPEncoder
from .vae import NebulaVAE


class Architecture(NamedTuple):
    encoder: type
    decoder: type
    reconstruction: str | None = None


ARCHITECTURES = {
    "mlp": Architecture(MLPEncoder, MLPDecoder),
}


def default_reconstruction(encoder):
    """The reconstruction likelihood the architecture asks for, or None."""
    if isinstance(encoder, str):
        return ARCHITECTURES[encoder].reconstruction
    return None


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
    """
    params = dict(encoder_params or {})
    if isinstance(encoder, str):
        encoder_cls, decoder_cls, _ = ARCHITECTURES[encoder]
    else:
        encoder_cls, decoder_cls = encoder, MLPDecoder
    if "hidden_dims" in inspect.signature(encoder_cls).parameters:
        params.setdefault("hidden_dims", hidden_dims)
    enc = encoder_cls(input_shape, **params)
    dec = decoder_cls(latent_dim, output_shape, hidden_dims)
    return enc, dec


__all__ = ["ARCHITECTURES", "Architecture", "default_reconstruction", "MLPDecoder", "MLPEncoder", "NebulaVAE", "build_encoder_decoder"]
