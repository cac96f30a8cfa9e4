"""Decorrelation of a batch of embeddings, against dimensional collapse.

Two-view objectives without negatives (SimSiam, VJE) are only asked to make
the views of a sample agree. Nothing stops every embedding from varying
along a few directions only: trained on a single digit class, VJE's
128-d embedding had an effective rank of about 2 (25 at initialisation), and
unseen classes landed among the training embeddings. Penalising the
off-diagonal covariances of the batch, as VICReg (Bardes, Ponce & LeCun,
ICLR 2022) does, keeps the dimensions carrying different information.
Pure torch.
"""

import torch


def covariance_penalty(e):
    """Squared off-diagonal covariances of a batch, per dimension.

    ``sum_{j != k} C_jk^2 / D`` with ``C`` the ``(D, D)`` covariance of the
    rows of ``e`` (``(n, D)``) over the batch. It is 0 for uncorrelated
    dimensions and about ``D - 1`` times the variance squared when all
    dimensions move together, so its weight does not depend on ``D``.
    A batch of one row has no covariance and gives 0.
    """
    n, dim = e.shape
    if n < 2:
        return e.sum() * 0.0  # keeps the graph, for a uniform backward pass
    centred = e - e.mean(0)
    cov = centred.T @ centred / (n - 1)
    off_diagonal = cov - torch.diag(torch.diagonal(cov))
    return off_diagonal.pow(2).sum() / dim


def with_decorrelation(terms, e1, e2, weight):
    """Add ``weight`` times the two views' mean penalty to ``terms["loss"]``.

    ``terms`` is a criterion's dict of batch terms; the penalty is recorded
    under ``"decorrelation"`` (unweighted) so the history shows it.
    """
    penalty = 0.5 * (covariance_penalty(e1) + covariance_penalty(e2))
    terms["decorrelation"] = penalty.detach()
    if weight > 0:
        terms["loss"] = terms["loss"] + weight * penalty
    return terms
