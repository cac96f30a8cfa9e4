"""The module of the label relevant / irrelevant VAE (Zheng & Sun, CVPR 2019)."""

import torch
from torch import nn


class GaussianHead(nn.Module):
    """Linear heads for the mean and log-variance of a diagonal Gaussian."""

    def __init__(self, in_features, latent_dim):
        super().__init__()
        self.mu = nn.Linear(in_features, latent_dim)
        self.logvar = nn.Linear(in_features, latent_dim)

    def forward(self, h):
        # Soft bounds on the log-variance keep exp() finite early in training.
        return self.mu(h), 10.0 * torch.tanh(self.logvar(h) / 10.0)


class LabelDisentangledModule(nn.Module):
    """Two encoders (z_s, z_u), learnable class means, one decoder on [z_s, z_u].

    ``forward`` returns a dict: ``mu_s``, ``logvar_s``, ``z_s`` (label
    relevant), ``mu_u``, ``logvar_u``, ``z_u`` (label irrelevant), ``recon``
    (decoder output on the concatenated sample; in training its gradient
    stops at ``z_s``). In training mode ``z_*`` are reparameterised samples, in eval
    mode the means.

    Parameters
    ----------
    encoder_s, encoder_u : nn.Module
        Feature extractors for the two posteriors, exposing ``out_features``.
        Separate networks, as in the paper: the adversary can then strip the
        label from z_u without fighting the classifier for shared features.
    decoder : nn.Module
        Maps latents of width ``relevant_dim + irrelevant_dim`` to the
        reconstruction.
    relevant_dim, irrelevant_dim : int
        Widths of z_s and z_u.
    n_classes : int
        Number of class means (Gaussian components of the z_s prior).
    adversary_hidden : int or None, default=64
        Hidden width of the MLP that predicts the class from z_u; ``None``
        builds no adversary.
    """

    def __init__(
        self,
        encoder_s,
        encoder_u,
        decoder,
        relevant_dim,
        irrelevant_dim,
        n_classes,
        adversary_hidden=64,
    ):
        super().__init__()
        self.encoder_s = encoder_s
        self.encoder_u = encoder_u
        self.decoder = decoder
        self.head_s = GaussianHead(encoder_s.out_features, relevant_dim)
        self.head_u = GaussianHead(encoder_u.out_features, irrelevant_dim)
        # Spread the class means so that the classes start apart; they are
        # trained with the rest (the "global" parameters of the paper).
        self.class_means = nn.Parameter(torch.randn(n_classes, relevant_dim))
        if adversary_hidden is None:
            self.adversary = None
        else:
            self.adversary = nn.Sequential(
                nn.Linear(irrelevant_dim, adversary_hidden),
                nn.ReLU(),
                nn.Linear(adversary_hidden, n_classes),
            )

    def encode(self, x):
        """Posterior parameters ``(mu_s, logvar_s, mu_u, logvar_u)``."""
        return (*self.head_s(self.encoder_s(x)), *self.head_u(self.encoder_u(x)))

    def decode(self, z_s, z_u):
        return self.decoder(torch.cat([z_s, z_u], dim=1))

    def forward(self, x):
        mu_s, logvar_s, mu_u, logvar_u = self.encode(x)
        if self.training:
            z_s = mu_s + torch.randn_like(mu_s) * torch.exp(0.5 * logvar_s)
            z_u = mu_u + torch.randn_like(mu_u) * torch.exp(0.5 * logvar_u)
        else:
            z_s, z_u = mu_s, mu_u
        # The reconstruction does not train the z_s encoder: otherwise the
        # style of a sample goes to z_s as readily as to z_u (same KL price),
        # and z_u collapses. z_s is shaped by the label terms alone, and the
        # decoder still learns to read it.
        recon = self.decode(z_s.detach() if self.training else z_s, z_u)
        out = {
            "mu_s": mu_s,
            "logvar_s": logvar_s,
            "z_s": z_s,
            "mu_u": mu_u,
            "logvar_u": logvar_u,
            "z_u": z_u,
            "recon": recon,
        }
        return out

    def adversary_logits(self, z_u, frozen=False):
        """The adversary's class logits from z_u.

        ``frozen=True`` evaluates it with detached weights: the gradient then
        reaches z_u (and the z_u encoder) but not the adversary, which is how
        the encoder is trained to fool it within the same optimiser step.
        """
        if not frozen:
            return self.adversary(z_u)
        params = {k: v.detach() for k, v in self.adversary.named_parameters()}
        return torch.func.functional_call(self.adversary, params, (z_u,))
