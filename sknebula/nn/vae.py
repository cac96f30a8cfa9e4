"""The variational module shared by the nebula estimators."""

import torch
from torch import nn


class NebulaVAE(nn.Module):
    """Encoder, Gaussian posterior heads, decoder and nebula anchors.

    ``forward`` returns a dict so that objectives can pick what they need:
    ``mu``, ``logvar``, ``z`` (a reparameterised sample while training, the
    mean otherwise) and ``recon`` (decoder output). When ``partner`` is given
    (a second view or a neighbour of each sample), its posterior mean is
    returned as ``partner_mu``.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch to features of width ``encoder.out_features``.
    decoder : nn.Module
        Maps latents of width ``latent_dim`` to the reconstruction.
    latent_dim : int
        Dimension of the latent space.
    n_anchors : int
        Number of learnable nebula anchors.
    """

    # Generator of the reparameterisation noise (torch's global one when
    # None); the estimators set it while they train.
    noise_generator = None

    def __init__(self, encoder, decoder, latent_dim, n_anchors):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.mu_head = nn.Linear(encoder.out_features, latent_dim)
        self.logvar_head = nn.Linear(encoder.out_features, latent_dim)
        self.anchors = nn.Parameter(torch.zeros(n_anchors, latent_dim))
        # Set by the anchor-initialising callback once the warm-up is over;
        # a buffer so it travels with state_dict and pickles.
        self.register_buffer("anchors_ready", torch.tensor(False))
        # The same flag as a Python bool, which the training step reads
        # without waiting for the device (bool() of a CUDA tensor would).
        self.anchors_placed = False
        self.register_load_state_dict_post_hook(_read_anchors_flag)
        # Location and scale of real-valued data (set by the estimators for
        # Gaussian reconstruction): the networks see standardised values and
        # the likelihood's standard deviation is the data's, so the balance
        # of the objective does not depend on the units of the data.
        self.register_buffer("loc", torch.tensor(0.0))
        self.register_buffer("scale", torch.tensor(1.0))

    def place_anchors(self, anchors):
        """Set the anchors and mark them placed."""
        with torch.no_grad():
            self.anchors.copy_(torch.as_tensor(anchors, dtype=self.anchors.dtype))
            self.anchors_ready.fill_(True)
        self.anchors_placed = True

    def encode(self, x):
        h = self.encoder((x - self.loc) / self.scale)
        # Soft bounds on the log-variance keep exp() finite early in training.
        logvar = 10.0 * torch.tanh(self.logvar_head(h) / 10.0)
        return self.mu_head(h), logvar

    def decode(self, z):
        """Decoder output in data units (logits where the likelihood has them)."""
        return self.decoder(z) * self.scale + self.loc

    def forward(self, x, partner=None):
        mu, logvar = self.encode(x)
        if self.training:
            noise = torch.randn(
                mu.shape, dtype=mu.dtype, device=mu.device, generator=self.noise_generator
            )
            z = mu + noise * torch.exp(0.5 * logvar)
        else:
            z = mu
        out = {"mu": mu, "logvar": logvar, "z": z, "recon": self.decode(z)}
        if partner is not None:
            out["partner_mu"] = self.encode(partner)[0]
        return out


def _read_anchors_flag(module, incompatible_keys):
    module.anchors_placed = bool(module.anchors_ready)
