"""Siamese modules for the self-supervised estimators (VI-SimSiam and VJE).

Both share the backbone (any sknebula encoder) and a SimSiam-style
projector; each adds its own heads. ``forward(x1, x2)`` is the training
pass over two views and returns a dict for the objective; the ``embed``
style methods are the single-input passes used at inference.
"""

import torch
from torch import nn


def projector(n_in, n_hidden, n_out):
    """Linear-BN-ReLU-Linear-BN, as SimSiam's projection MLP (shortened)."""
    return nn.Sequential(
        nn.Linear(n_in, n_hidden),
        nn.BatchNorm1d(n_hidden),
        nn.ReLU(),
        nn.Linear(n_hidden, n_out),
        # No affine shift: a learnt common offset would let every embedding
        # point the same way (collapse), as SimSiam's code also avoids.
        nn.BatchNorm1d(n_out, affine=False),
    )


def predictor(n_in, n_hidden):
    """Linear-BN-ReLU-Linear bottleneck, as SimSiam's prediction MLP."""
    return nn.Sequential(
        nn.Linear(n_in, n_hidden),
        nn.BatchNorm1d(n_hidden),
        nn.ReLU(),
        nn.Linear(n_hidden, n_in),
    )


def _soft_clip(x, bound):
    # Smooth bound: keeps exp() finite early in training, identity near 0.
    return bound * torch.tanh(x / bound)


class VISimSiamNet(nn.Module):
    """Backbone f, projector g, predictor h and a concentration head.

    For a view ``x``: ``z = g(f(x))`` (the target side), ``p = h(z)`` (the
    posterior's mean direction before normalisation) and
    ``kappa = exp(clip(w . f_hat(x) + b))`` (the posterior's concentration),
    with ``f_hat = sqrt(width) f / ||f||`` the direction of the backbone
    features. Reading the raw ``f`` instead, the linear head extrapolates
    with the norm of ``f``, which input noise inflates: noise stronger than
    the views' gave a *higher* kappa.

    Parameters
    ----------
    encoder : nn.Module
        Backbone exposing ``out_features``.
    latent_dim : int
        Dimension ``d`` of the embedding; the sphere is ``S^(d-1)``.
    """

    def __init__(self, encoder, latent_dim):
        super().__init__()
        width = encoder.out_features
        self.encoder = encoder
        self.projector = projector(width, width, latent_dim)
        self.predictor = predictor(latent_dim, max(latent_dim // 2, 2))
        self.kappa_head = nn.Linear(width, 1)
        # Start near kappa = d: a broad but not uniform posterior.
        nn.init.zeros_(self.kappa_head.weight)
        # Computed on the CPU whatever the default device, so that the module
        # also builds on the meta device (sknebula.io.load checks shapes so).
        log_dim = torch.log(torch.tensor(float(latent_dim), device="cpu"))
        nn.init.constant_(self.kappa_head.bias, float(log_dim))

    def embed(self, x):
        """``(z, p, kappa)`` for one batch of inputs."""
        h = self.encoder(x)
        z = self.projector(h)
        direction = nn.functional.normalize(h, dim=1) * h.shape[1] ** 0.5
        kappa = torch.exp(_soft_clip(self.kappa_head(direction).squeeze(-1), 12.0))
        return z, self.predictor(z), kappa

    def forward(self, x1, x2):
        z1, p1, k1 = self.embed(x1)
        z2, p2, k2 = self.embed(x2)
        return {"z1": z1, "z2": z2, "p1": p1, "p2": p2, "kappa1": k1, "kappa2": k2}


class VJENet(nn.Module):
    """Backbone, projector and the amortised Gaussian posterior heads of VJE.

    For a view ``x``: the embedding ``e = g(f(x))``, the posterior
    ``q(z | x) = N(mu(e), diag exp(logvar(e)))`` with ``mu`` a small MLP
    (the role SimSiam's predictor plays) and ``logvar`` linear and softly
    bounded to [-10, 10]. ``radial_log_scale`` is the learnt log-scale of
    the radial likelihood factor.

    Parameters
    ----------
    encoder : nn.Module
        Backbone exposing ``out_features``.
    latent_dim : int
        Dimension of the embedding and of ``z``.
    """

    def __init__(self, encoder, latent_dim):
        super().__init__()
        width = encoder.out_features
        self.encoder = encoder
        self.projector = projector(width, width, latent_dim)
        self.mu_head = predictor(latent_dim, max(latent_dim // 2, 2))
        self.logvar_head = nn.Linear(latent_dim, latent_dim)
        self.radial_log_scale = nn.Parameter(torch.zeros(()))

    def posterior(self, x):
        """``(e, mu, logvar)`` for one batch of inputs."""
        e = self.projector(self.encoder(x))
        return e, self.mu_head(e), _soft_clip(self.logvar_head(e), 10.0)

    def forward(self, x1, x2):
        out = {}
        for tag, x in (("a", x1), ("b", x2)):
            e, mu, logvar = self.posterior(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
            out.update({f"e_{tag}": e, f"mu_{tag}": mu, f"logvar_{tag}": logvar, f"z_{tag}": z})
        return out
