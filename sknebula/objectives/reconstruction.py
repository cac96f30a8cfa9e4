"""Per-sample reconstruction negative log-likelihoods, one per data kind.

Every function takes the decoder output and the target, both shaped
``(n, ...)``, and returns a tensor of shape ``(n,)``: the negative
log-likelihood of each target under the decoder's distribution (for point
sets, a Chamfer distance playing that role).
"""

import math

import torch
import torch.nn.functional as F


def bernoulli_nll(logits, target):
    """Bernoulli likelihood on logits, for data scaled to [0, 1]."""
    nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return nll.flatten(1).sum(1)


def gaussian_nll(mean, target, scale=1.0):
    """Gaussian likelihood with standard deviation ``scale`` (a float or a
    0-d tensor), for real data; unit variance suits standardised data."""
    scale = torch.as_tensor(scale, dtype=mean.dtype, device=mean.device)
    sq = ((mean - target) / scale).pow(2).flatten(1)
    return 0.5 * sq.sum(1) + sq.shape[1] * (scale.log() + 0.5 * math.log(2 * math.pi))


def categorical_nll(logits, target):
    """Categorical likelihood of token sequences, summed over positions.

    ``logits`` has shape ``(n, L, V)`` (a distribution over the ``V`` tokens
    at each of the ``L`` positions); ``target`` holds the tokens, ``(n, L)``,
    as floats (the estimators pass float arrays) or integers.
    """
    nll = F.cross_entropy(logits.movedim(-1, 1), target.round().long(), reduction="none")
    return nll.flatten(1).sum(1)


def nearest_squared_distances(a, b):
    """Squared distance from every point of ``a`` to its nearest point of ``b``.

    ``a`` is ``(n, P, d)``, ``b`` is ``(n, Q, d)``; returns ``(n, P)``. The
    expansion ``|a|^2 + |b|^2 - 2 a.b`` keeps memory at ``n * P * Q`` and, being
    smooth, gives finite gradients where points coincide (unlike ``cdist``).
    """
    sq = (
        a.pow(2).sum(-1, keepdim=True)
        + b.pow(2).sum(-1).unsqueeze(1)
        - 2.0 * a @ b.transpose(1, 2)
    )
    return sq.clamp_min(0.0).amin(dim=2)


def chamfer_distance(a, b):
    """Symmetric Chamfer distance between point sets, per sample, ``(n,)``.

    ``mean_i min_j ||a_i - b_j||^2 + mean_j min_i ||a_i - b_j||^2``: the usual
    completion metric; the two sets may have different sizes.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    >>> chamfer_distance(a, a.flip(1))
    tensor([0.])
    >>> chamfer_distance(a, torch.zeros(1, 1, 3))
    tensor([0.5000])
    """
    return nearest_squared_distances(a, b).mean(1) + nearest_squared_distances(b, a).mean(1)


def chamfer_nll(points, target):
    """Chamfer reconstruction term for point clouds, ``(n,)``.

    ``0.5 * (sum_i min_j ||p_i - t_j||^2 + sum_j min_i ||p_i - t_j||^2)``: a
    unit-variance Gaussian negative log-likelihood (constants dropped) of
    each point given its nearest point of the other set, in both directions.
    Summing over points, like the other likelihoods sum over features, keeps
    its weight against the KL comparable across data kinds.
    """
    return 0.5 * (
        nearest_squared_distances(points, target).sum(1)
        + nearest_squared_distances(target, points).sum(1)
    )


RECONSTRUCTIONS = {
    "bernoulli": bernoulli_nll,
    "gaussian": gaussian_nll,
    "categorical": categorical_nll,
    "chamfer": chamfer_nll,
}

# Decoder output -> a point in data space: the mean where one exists, the
# most likely token for categorical sequences (a mean of tokens means nothing).
_MEANS = {
    "bernoulli": torch.sigmoid,
    "gaussian": lambda out: out,
    "categorical": lambda logits: logits.argmax(-1),
    "chamfer": lambda out: out,
}


def reconstruction_nll(kind, output, target, scale=1.0):
    """Dispatch to the negative log-likelihood named ``kind``; ``scale`` is
    the Gaussian's standard deviation (ignored by the other likelihoods)."""
    if kind == "gaussian":
        return gaussian_nll(output, target, scale)
    return RECONSTRUCTIONS[kind](output, target)


def decoder_mean(kind, output):
    """Map decoder output to data space: its distribution's mean (the mode,
    i.e. the most likely token, for ``"categorical"``)."""
    return _MEANS[kind](output)
