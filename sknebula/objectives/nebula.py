"""Nebula Variational Coding terms (Wang, Tan, Navab, Tombari, TPAMI 2022).

Pure torch functions on latent means ``mu``, log-variances ``logvar`` (both
``(n, d)``) and anchors ``(K, d)``. Every per-sample term returns ``(n,)``.
"""

import math

import torch
import torch.nn.functional as F

from .contrastive import info_nce
from .reconstruction import reconstruction_nll


def squared_distances(mu, anchors):
    """Squared Euclidean distance of every latent to every anchor, ``(n, K)``."""
    return torch.cdist(mu, anchors).pow(2)


def kl_to_anchors(mu, logvar, anchors):
    """KL(N(mu, diag exp(logvar)) || N(a_k, I)) for every anchor, ``(n, K)``.

    Closed form: 0.5 * sum_j (exp(logvar_j) + (mu_j - a_kj)^2 - 1 - logvar_j).
    """
    own = 0.5 * (logvar.exp() - 1.0 - logvar).sum(1, keepdim=True)
    return own + 0.5 * squared_distances(mu, anchors)


def anchor_log_responsibilities(mu, anchors, log_weights=None):
    """log p(k | z=mu) under the mixture sum_k pi_k N(a_k, I), ``(n, K)``."""
    logits = -0.5 * squared_distances(mu, anchors)
    if log_weights is not None:
        logits = logits + log_weights
    return F.log_softmax(logits, dim=1)


def anchor_triplet(mu, anchors, positive, negative, margin):
    """Margin triplet loss with anchors as class prototypes.

    ``max(0, ||mu - a_pos|| - ||mu - a_neg|| + margin)``: zero once the latent
    is closer to its positive anchor than to the negative one by ``margin``.
    """
    d_pos = (mu - anchors[positive]).norm(dim=1)
    d_neg = (mu - anchors[negative]).norm(dim=1)
    return F.relu(d_pos - d_neg + margin)


def nearest_other_anchor(mu, anchors, excluded):
    """Index of the nearest anchor to each latent, skipping ``excluded``."""
    d = squared_distances(mu, anchors).detach().clone()
    d[torch.arange(len(mu), device=mu.device), excluded] = math.inf
    return d.argmin(1)


def assignment_consistency(log_p, log_q):
    """-log sum_k p_k q_k: two related samples should share their anchor."""
    return -torch.logsumexp(log_p + log_q, dim=1)


def assignment_balance(log_p):
    """Negative entropy of the batch-mean assignment, shifted to be >= 0.

    ``log K + sum_k pbar_k log pbar_k``; zero when every anchor receives the
    same mass, ``log K`` when one anchor takes everything.
    """
    log_pbar = torch.logsumexp(log_p, dim=0) - math.log(len(log_p))
    return math.log(log_p.shape[1]) + (log_pbar.exp() * log_pbar).sum()


class NebulaLoss(torch.nn.Module):
    """The training objective of the nebula estimators, as a criterion.

    The criterion sees the module, so it reads the anchors and whether they
    have been initialised. Before that (warm-up) the loss is

        rec(x) + contrastive_weight * InfoNCE(mu(x), mu(x'))

    with ``x'`` a neighbour of ``x`` (without neighbours, ``rec(x)`` alone).
    Afterwards it is

        rec(x) + contrastive_weight * InfoNCE(mu(x), mu(x'))
               + beta * sum_k r_k KL(q(z|x) || N(a_k, I))
               + metric_weight * max(0, ||mu - a_c(x')|| - ||mu - a_n|| + margin)
               + consistency_weight * (-log sum_k p_k(x) p_k(x'))
               + balance_weight * (log K + sum_k pbar_k log pbar_k)

    where ``rec`` is the reconstruction negative log-likelihood times
    ``reconstruction_weight`` (the estimators pass 64 / n_features: the
    reconstruction weighs as much as 64 features' worth, whatever the input
    width, so its balance with the latent terms does not move with it),
    ``p_k(x)`` are the anchor responsibilities, ``r = stopgrad(p)``,
    ``c(x')`` the neighbour's nearest anchor (the pseudo-label), ``a_n`` the
    nearest other anchor and ``pbar`` the batch-mean of ``p``. Without a
    neighbour the warm-up is reconstruction alone and, afterwards, the
    sample is its own partner. Returns a dict of batch means
    with the total under ``"loss"``.
    """

    def __init__(
        self,
        reconstruction="bernoulli",
        beta=1.0,
        metric_weight=1.0,
        margin=1.0,
        contrastive_weight=10.0,
        consistency_weight=1.0,
        balance_weight=5.0,
        reconstruction_weight=1.0,
    ):
        super().__init__()
        self.reconstruction = reconstruction
        self.reconstruction_weight = reconstruction_weight
        self.beta = beta
        self.metric_weight = metric_weight
        self.margin = margin
        self.contrastive_weight = contrastive_weight
        self.consistency_weight = consistency_weight
        self.balance_weight = balance_weight

    def forward(self, out, target, module):
        mu = out["mu"]
        partner_mu = out.get("partner_mu", mu)
        terms = {
            "reconstruction": reconstruction_nll(
                self.reconstruction, out["recon"], target, module.scale
            ).mean()
        }
        loss = self.reconstruction_weight * terms["reconstruction"]
        if "partner_mu" in out:
            # Without a partner the positive would be the sample itself, and
            # InfoNCE would only spread the batch apart. Kept after the
            # warm-up: dropped there, the reconstruction re-merged classes the
            # partners had separated (see the Nebula guide).
            terms["contrastive"] = info_nce(mu, partner_mu).mean()
            loss = loss + self.contrastive_weight * terms["contrastive"]
        if not module.anchors_placed:
            terms["loss"] = loss
            return terms

        anchors = module.anchors
        log_p = anchor_log_responsibilities(mu, anchors)
        log_q = anchor_log_responsibilities(partner_mu, anchors)
        kl = kl_to_anchors(mu, out["logvar"], anchors)
        positive = log_q.detach().argmax(1)
        negative = nearest_other_anchor(mu, anchors, positive)
        terms["kl"] = (log_p.detach().exp() * kl).sum(1).mean()
        terms["metric"] = anchor_triplet(mu, anchors, positive, negative, self.margin).mean()
        terms["consistency"] = assignment_consistency(log_p, log_q).mean()
        terms["balance"] = assignment_balance(log_p)
        terms["loss"] = (
            loss
            + self.beta * terms["kl"]
            + self.metric_weight * terms["metric"]
            + self.consistency_weight * terms["consistency"]
            + self.balance_weight * terms["balance"]
        )
        return terms
