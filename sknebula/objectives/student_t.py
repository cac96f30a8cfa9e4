"""Polar Student-t likelihood and the VJE symmetric conditional ELBO.

Variational Joint Embedding (Oji & Fieguth, 2026) models the embedding
``e_b`` of one view given a latent ``z`` inferred from the other view
``a``, with ``q(z | x_a) = N(mu_a, diag s_a^2)``. The likelihood is written
in polar form, ``e = ||e|| u``::

    log p(e_b | z) = log t_D(||z|| u_b - z; 0, diag s_a^2, df)       (directional)
                   + log t_1(log||e_b|| - log||z||; 0, sigma_r^2, df) (radial)

The directional residual is the target direction placed on the sphere of
radius ``||z||`` minus ``z``: it is measured in the units of ``z``, so the
shared scale ``s_a`` (the posterior's standard deviation) is an angular
scale ``s_a / ||z||`` and the model sharpens it by moving ``mu`` away from
the origin, against the KL term. (Comparing unit vectors with a scale in
``z`` units instead leaves the likelihood nearly flat: ``s`` stays near the
prior's 1 while unit-vector residuals are ~0.1.)

with ``t_D(r; 0, diag s^2, df)`` the D-variate Student-t density::

    lgamma((df + D)/2) - lgamma(df/2) - D/2 log(df pi) - sum_j log s_j
    - (df + D)/2 log(1 + sum_j r_j^2 / (df s_j^2))

The directional factor is a sub-density on the sphere (its mass off the
sphere is not renormalised), as in the paper. Pure torch, no sklearn.
"""

import math

import torch
import torch.nn.functional as F

from .decorrelation import with_decorrelation


def student_t_log_prob(r, log_scale, df):
    """Log density of the residuals ``r`` (``(n, D)``) under a centred
    multivariate Student-t with diagonal scale ``exp(log_scale)`` and
    ``df`` degrees of freedom; returns ``(n,)``."""
    dim = r.shape[-1]
    const = (
        math.lgamma((df + dim) / 2.0) - math.lgamma(df / 2.0) - dim / 2.0 * math.log(df * math.pi)
    )
    maha = (r * torch.exp(-log_scale)).pow(2).sum(-1)
    return const - log_scale.sum(-1) - (df + dim) / 2.0 * torch.log1p(maha / df)


def polar_student_t_log_prob(target, z, log_scale, radial_log_scale, df):
    """Directional and radial log-likelihood of ``target`` given ``z``.

    The directional residual is ``||z|| target / ||target|| - z``.

    Parameters
    ----------
    target, z : Tensor of shape (n, D)
        Target embeddings and latent samples.
    log_scale : Tensor of shape (n, D)
        Feature-wise log-scale of the directional factor (the posterior's
        log standard deviations in VJE).
    radial_log_scale : Tensor, scalar or (n,)
        Log-scale of the radial factor.
    df : float
        Degrees of freedom of both factors.

    Returns
    -------
    directional, radial : Tensor of shape (n,)
    """
    eps = 1e-8
    residual = z.norm(dim=-1, keepdim=True) * F.normalize(target, dim=-1) - z
    directional = student_t_log_prob(residual, log_scale, df)
    radial_res = torch.log(target.norm(dim=-1) + eps) - torch.log(z.norm(dim=-1) + eps)
    radial_log_scale = torch.as_tensor(radial_log_scale, dtype=z.dtype, device=z.device)
    radial = student_t_log_prob(
        radial_res[:, None], radial_log_scale.expand(len(z))[:, None], df
    )
    return directional, radial


def kl_standard_normal(mu, logvar):
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` per row, ``(n,)``."""
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).sum(-1)


def conditional_elbo(target, mu, logvar, z, radial_log_scale, df):
    """One direction of the VJE ELBO, per sample, and its parts.

    ``ELBO_ab = log p(e_b | z) - KL(q(z | x_a) || N(0, I))`` with ``z`` a
    sample (or, at inference, the mean) of ``q(z | x_a) = N(mu, diag
    exp(logvar))``; the likelihood's directional scale is the posterior's
    standard deviation ``exp(logvar / 2)`` (shared, not a separate head).

    Returns
    -------
    elbo, directional, radial, kl : Tensor of shape (n,)
    """
    directional, radial = polar_student_t_log_prob(
        target, z, 0.5 * logvar, radial_log_scale, df
    )
    kl = kl_standard_normal(mu, logvar)
    return directional + radial - kl, directional, radial, kl


def vje_loss(out, radial_log_scale, df):
    """Negative symmetric conditional ELBO, per sample, and its parts.

    ``out`` holds for views ``a`` and ``b`` the embeddings ``e_a, e_b``,
    posterior parameters ``mu_*, logvar_*`` and samples ``z_*``::

        loss = -1/2 [ ELBO(e_b | x_a) + ELBO(e_a | x_b) ]

    Targets are stop-gradient embeddings (as SimSiam's target branch), so
    the encoder learns through the inference side only.

    Returns
    -------
    dict of Tensor of shape (n,)
        ``loss``, ``directional``, ``radial`` and ``kl`` (each averaged
        over the two directions; the likelihood terms are log-densities).
    """
    ab = conditional_elbo(
        out["e_b"].detach(), out["mu_a"], out["logvar_a"], out["z_a"], radial_log_scale, df
    )
    ba = conditional_elbo(
        out["e_a"].detach(), out["mu_b"], out["logvar_b"], out["z_b"], radial_log_scale, df
    )
    names = ("elbo", "directional", "radial", "kl")
    terms = {k: 0.5 * (u + v) for k, u, v in zip(names, ab, ba)}
    terms["loss"] = -terms.pop("elbo")
    return terms


class VJELoss(torch.nn.Module):
    """:func:`vje_loss` as a sknebula criterion (batch means).

    Parameters
    ----------
    df : float, default=5.0
        Degrees of freedom of the polar Student-t likelihood.
    decorrelation : float, default=0.0
        Weight of :func:`~sknebula.objectives.decorrelation.covariance_penalty`
        on the embeddings of both views, added to the negative ELBO.
    """

    def __init__(self, df=5.0, decorrelation=0.0):
        super().__init__()
        self.df = df
        self.decorrelation = decorrelation

    def forward(self, out, target, module):
        terms = {k: v.mean() for k, v in vje_loss(out, module.radial_log_scale, self.df).items()}
        return with_decorrelation(terms, out["e_a"], out["e_b"], self.decorrelation)


def mixture_log_likelihood(target, mu, logvar, radial_log_scale, df, leave_out_self=False):
    """``log (1/M) sum_i p(target_n | z = mu_i)`` for every target, ``(n,)``.

    The polar Student-t likelihood of each target embedding (``(n, D)``)
    given each of ``M`` latent points ``mu_i`` with directional scales
    ``exp(logvar_i / 2)``, averaged in probability over ``i``: the
    likelihood of a new embedding under a reference set (in VJE the clean
    training embeddings, with their posterior scales). Computed with matrix
    products, so its memory is ``O(n M)``.

    With ``leave_out_self``, a centre equal to the target (squared distance
    below ``1e-6`` of their mean squared norm) is left out of that target's
    average, unless it is the only centre: a reference sample scored
    against its own set then gets a leave-one-out score, on the scale of
    new samples', instead of the peak of its own term.
    """
    dim = target.shape[1]
    u = F.normalize(target, dim=-1)
    m = F.normalize(mu, dim=-1)
    # ||mu_i||^2 sum_j (u_j - m_ij)^2 / s_ij^2, expanded into three products.
    inv_var = torch.exp(-logvar) * mu.pow(2).sum(1, keepdim=True)
    maha = (u * u) @ inv_var.T - 2.0 * u @ (m * inv_var).T + (m * m * inv_var).sum(1)
    maha = maha.clamp(min=0.0)
    const = (
        math.lgamma((df + dim) / 2.0) - math.lgamma(df / 2.0) - dim / 2.0 * math.log(df * math.pi)
    )
    directional = const - 0.5 * logvar.sum(1) - (df + dim) / 2.0 * torch.log1p(maha / df)
    eps = 1e-8
    radial_res = torch.log(target.norm(dim=1) + eps)[:, None] - torch.log(mu.norm(dim=1) + eps)
    radial_scale = torch.as_tensor(radial_log_scale, dtype=target.dtype, device=target.device)
    radial = (
        math.lgamma((df + 1) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * math.log(df * math.pi)
        - radial_scale
        - (df + 1) / 2.0 * torch.log1p((radial_res * torch.exp(-radial_scale)).pow(2) / df)
    )
    terms = directional + radial
    if not leave_out_self or len(mu) < 2:
        return torch.logsumexp(terms, dim=1) - math.log(len(mu))
    t_sq, m_sq = target.pow(2).sum(1, keepdim=True), mu.pow(2).sum(1)
    distance = (t_sq + m_sq - 2.0 * target @ mu.T).clamp(min=0.0)
    itself = distance <= 1e-6 * 0.5 * (t_sq + m_sq)
    itself &= (~itself).any(dim=1, keepdim=True)  # never leave a row no centre
    kept = (~itself).sum(1).to(terms.dtype)
    terms = terms.masked_fill(itself, float("-inf"))
    return torch.logsumexp(terms, dim=1) - torch.log(kept)
