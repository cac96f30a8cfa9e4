"""Per-sample reconstruction negative log-likelihoods, one per data kind.

Every function takes the decoder output and the target, both shaped
``(n, ...)``, and returns a tensor of shape ``(n,)``: the negative
log-likelihood of each target under the decoder's distribution.
"""

import math

import torch
import torch.nn.functional as F


def bernoulli_nll(logits, target):
    """Bernoulli likelihood on logits, for data scaled to [0, 1]."""
    nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return nll.flatten(1).sum(1)


def gaussian_nll(mean, target):
    """Unit-variance Gaussian likelihood, for standardised real data."""
    sq = (mean - target).pow(2).flatten(1)
    return 0.5 * sq.sum(1) + 0.5 * sq.shape[1] * math.log(2 * math.pi)


RECONSTRUCTIONS = {"bernoulli": bernoulli_nll, "gaussian": gaussian_nll}

_MEANS = {"bernoulli": torch.sigmoid, "gaussian": lambda out: out}


def reconstruction_nll(kind, output, target):
    """Dispatch to the negative log-likelihood named ``kind``."""
    return RECONSTRUCTIONS[kind](output, target)


def decoder_mean(kind, output):
    """Map decoder output to the mean of its distribution (data space)."""
    return _MEANS[kind](output)
