"""InfoNCE with a heavy-tailed (Cauchy) similarity between latent means."""

import torch
import torch.nn.functional as F


def cauchy_similarity(u, v):
    """-log(1 + ||u_i - v_j||^2) for every pair, ``(n, m)``."""
    return -torch.log1p(torch.cdist(u, v).pow(2))


def info_nce(u, v, temperature=1.0):
    """Symmetric InfoNCE: ``v[i]`` is the positive of ``u[i]``, ``(n,)``.

    The other rows of the batch act as negatives. Returns per-sample losses,
    averaged over the two directions.
    """
    logits = cauchy_similarity(u, v) / temperature
    target = torch.arange(len(u), device=u.device)
    forward = F.cross_entropy(logits, target, reduction="none")
    backward = F.cross_entropy(logits.T, target, reduction="none")
    return 0.5 * (forward + backward)
