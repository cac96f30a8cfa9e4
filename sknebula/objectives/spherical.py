"""The Power Spherical distribution and the VI-SimSiam objective.

Power Spherical (De Cao & Aziz, 2020) on the unit sphere ``S^(d-1)`` of
``R^d``, with mean direction ``mu`` (unit norm) and concentration
``kappa >= 0``::

    p(x; mu, kappa) = (1 + mu . x)^kappa / N(kappa, d)
    log N(kappa, d) = (a + b) log 2 + b log(pi) + lgamma(a) - lgamma(a + b),
    a = (d - 1) / 2 + kappa,  b = (d - 1) / 2.

``kappa = 0`` is the uniform distribution on the sphere. The marginal of
``t = mu . x`` is ``(2 * Beta(a, b) - 1)``, which gives an exact,
reparameterised sampler and closed-form moments. Pure torch, no sklearn.
"""

import math

import torch
import torch.nn.functional as F

from .decorrelation import with_decorrelation


def _ab(kappa, dim):
    b = (dim - 1) / 2.0
    return b + kappa, b


def log_normalizer(kappa, dim):
    """``log N(kappa, d)``, the log of the normalising constant.

    Parameters
    ----------
    kappa : Tensor
        Concentrations, any shape, ``>= 0``.
    dim : int
        Ambient dimension ``d`` (the sphere is ``S^(d-1)``), ``>= 2``.
    """
    a, b = _ab(kappa, dim)
    return (a + b) * math.log(2.0) + b * math.log(math.pi) + torch.lgamma(a) - torch.lgamma(a + b)


def log_prob(x, mu, kappa):
    """Log density of unit vectors ``x`` (``(..., d)``) around ``mu``.

    ``kappa`` has the batch shape of ``x`` without the last axis. The
    ``clamp`` keeps ``log(1 + mu.x)`` finite at the antipode.
    """
    dim = x.shape[-1]
    cos = (x * mu).sum(-1)
    return kappa * torch.log1p(cos.clamp(min=-1.0 + 1e-7)) - log_normalizer(kappa, dim)


def mean_cosine(kappa, dim):
    """``E[mu . x] = kappa / (d - 1 + kappa)``: the mean resultant length."""
    return kappa / (dim - 1 + kappa)


def entropy(kappa, dim):
    """Differential entropy (nats) w.r.t. the surface measure.

    ``H = log N - kappa * (log 2 + digamma(a) - digamma(a + b))``, because
    ``E[log(1 + mu.x)] = log 2 + E[log Beta(a, b)]``.
    """
    a, b = _ab(kappa, dim)
    expected_log = math.log(2.0) + torch.digamma(a) - torch.digamma(a + b)
    return log_normalizer(kappa, dim) - kappa * expected_log


def log_sphere_area(dim):
    """Log surface area of ``S^(d-1)``: ``log(2 pi^(d/2) / Gamma(d/2))``."""
    return math.log(2.0) + dim / 2.0 * math.log(math.pi) - math.lgamma(dim / 2.0)


def kl_to_uniform(kappa, dim):
    """``KL(PS(mu, kappa) || Uniform(S^(d-1))) = log area - H``, ``>= 0``."""
    return log_sphere_area(dim) - entropy(kappa, dim)


def rsample(mu, kappa):
    """Reparameterised samples, one per row of ``mu`` (``(n, d)``).

    ``t = 2 * Beta(a, b) - 1`` (torch's Beta is reparameterised),
    ``v`` uniform on ``S^(d-2)``, ``y = (t, sqrt(1 - t^2) v)`` and a
    Householder reflection maps ``e_1`` to ``mu``. Uses torch's global
    generator, which the estimators seed.
    """
    n, dim = mu.shape
    a, b = _ab(kappa, dim)
    b = torch.full_like(a, b)
    t = 2.0 * torch.distributions.Beta(a, b).rsample() - 1.0
    v = F.normalize(torch.randn(n, dim - 1, dtype=mu.dtype, device=mu.device), dim=-1)
    y = torch.cat([t[:, None], torch.sqrt((1.0 - t * t).clamp(min=0.0))[:, None] * v], dim=1)
    e1 = torch.zeros_like(mu)
    e1[:, 0] = 1.0
    diff = e1 - mu
    norm = diff.norm(dim=1, keepdim=True)
    # mu == e_1 needs no reflection: u = 0 leaves y unchanged.
    u = torch.where(norm > 1e-6, diff / norm.clamp(min=1e-6), torch.zeros_like(diff))
    return y - 2.0 * (y * u).sum(1, keepdim=True) * u


def vi_simsiam_loss(p1, p2, z1, z2, kappa1, kappa2):
    """The symmetrised VI-SimSiam loss, per sample ``(n,)``, and its parts.

    With ``mu_i = p_i / ||p_i||`` (predictor outputs), ``t_i = sg(z_i) /
    ||z_i||`` (stop-gradient projector outputs) and concentrations
    ``kappa_i``::

        loss = 1/2 [ -log PS(t_2; mu_1, kappa_1) - log PS(t_1; mu_2, kappa_2) ]
        -log PS(t; mu, kappa) = -kappa log(1 + mu.t) + log N(kappa, d)

    The first part is the alignment term, the second the kappa term: the
    normaliser grows with ``kappa``, so ``kappa`` settles where the views
    agree (``d/dkappa = 0`` at ``log((1 + mu.t) / 2) = digamma(a) -
    digamma(a + b)``) instead of running to infinity.

    Returns
    -------
    loss, alignment, kappa_term : Tensor of shape (n,)
        ``loss = alignment + kappa_term``.
    """
    dim = p1.shape[1]
    mu1, mu2 = F.normalize(p1, dim=1), F.normalize(p2, dim=1)
    t1, t2 = F.normalize(z1.detach(), dim=1), F.normalize(z2.detach(), dim=1)
    align = -0.5 * (
        kappa1 * torch.log1p((mu1 * t2).sum(1).clamp(min=-1.0 + 1e-6))
        + kappa2 * torch.log1p((mu2 * t1).sum(1).clamp(min=-1.0 + 1e-6))
    )
    kappa_term = 0.5 * (log_normalizer(kappa1, dim) + log_normalizer(kappa2, dim))
    return align + kappa_term, align, kappa_term


class VISimSiamLoss(torch.nn.Module):
    """:func:`vi_simsiam_loss` as a sknebula criterion (batch means).

    Parameters
    ----------
    decorrelation : float, default=0.0
        Weight of :func:`~sknebula.objectives.decorrelation.covariance_penalty`
        on the projector outputs of both views, added to the loss.
    """

    def __init__(self, decorrelation=0.0):
        super().__init__()
        self.decorrelation = decorrelation

    def forward(self, out, target, module):
        loss, align, kappa_term = vi_simsiam_loss(
            out["p1"], out["p2"], out["z1"], out["z2"], out["kappa1"], out["kappa2"]
        )
        kappa = 0.5 * (out["kappa1"] + out["kappa2"])
        terms = {
            "loss": loss.mean(),
            "alignment": align.mean(),
            "kappa_term": kappa_term.mean(),
            "kappa": kappa.mean().detach(),
        }
        return with_decorrelation(terms, out["z1"], out["z2"], self.decorrelation)
