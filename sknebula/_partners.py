"""Where a sample's positive comes from: one partner source for every
estimator that trains on pairs.

A training pair is a sample and a *positive*, a row the model is told to
keep beside it. :class:`PartnerSource` draws the positives of a batch: a
random row of each sample's partner table (its nearest neighbours in the
input, or in a transformer's output, see ``metric``) or, without a table,
the sample itself; then, with ``views``, an augmentation of it, drawn
afresh every time. The datasets that feed the networks only arrange its
draws into their inputs: :class:`sknebula._data.NeighbourPairs` (the nebula
estimators: the sample and its positive) and
:class:`sknebula.augment.TwoViews` (the self-supervised estimators: a view
of the sample and its positive).

The partner table is also a graph, and the nebula estimators judge
clusterings on it (anchor placement, the choice among restarts,
``partner_agreement_``, ``score``). The judging reads the table
(``NeighbourPairs.neighbours``), never a draw of this source, so that views
and the random choice of partner cannot move a judgement.
"""

import inspect

import numpy as np
import torch


def takes_generator(augmentation):
    """Whether ``augmentation`` takes a ``generator`` keyword."""
    try:
        return "generator" in inspect.signature(augmentation).parameters
    except (TypeError, ValueError):  # a callable without a signature
        return False


def draw_views(augmentation, x, generator=None, pass_generator=None):
    """``augmentation(x)`` on a copy of the batch ``x``, as a tensor of its
    shape and dtype; drawn from ``generator`` when the augmentation takes
    one (the built-in ones do), else from torch's global generator.
    ``pass_generator`` says whether it takes one, where the caller already
    knows (else its signature is read).

    Examples
    --------
    >>> import torch
    >>> from sknebula.augment import ImageAugment, draw_views
    >>> flat = torch.rand(4, 64)
    >>> views = [draw_views(ImageAugment(image_shape=(8, 8)), flat, torch.Generator().manual_seed(0))
    ...          for _ in range(2)]
    >>> views[0].shape, bool((views[0] == views[1]).all())
    (torch.Size([4, 64]), True)
    """
    if pass_generator is None:
        pass_generator = takes_generator(augmentation)
    if pass_generator:
        out = augmentation(x.clone(), generator=generator)
    else:
        out = augmentation(x.clone())
    out = torch.as_tensor(np.asarray(out) if not torch.is_tensor(out) else out)
    if out.shape != x.shape:
        raise ValueError(
            f"The augmentation changed the batch shape from {tuple(x.shape)} "
            f"to {tuple(out.shape)}."
        )
    return out.to(x.dtype)


class PartnerSource:
    """Draws positives for batches of samples.

    Parameters
    ----------
    rows : torch.Tensor or indexable
        The rows positives are taken from (a batch is gathered with one
        index array): the training rows, or, data-parallel, those of every
        rank.
    table : ndarray of shape (n_samples, n_partners) or None
        Each sample's partner candidates, as indices into ``rows``. None:
        the positive is the sample itself (whose index must then be its
        row in ``rows``).
    views : callable or None
        An augmentation every drawn positive passes through (see
        :mod:`sknebula.augment`); None for the rows as they are.

    Every random draw comes from the ``generator`` a method is given
    (torch's global one when None), so that a fit that passes its own
    generator is reproducible and leaves torch's global one alone.
    """

    def __init__(self, rows, table=None, views=None):
        self.rows = rows
        self.table = None if table is None else torch.from_numpy(np.asarray(table))
        self.views = views
        self._pass_generator = views is not None and takes_generator(views)

    def pick(self, index, generator=None):
        """A random partner of each sample of ``index`` (itself without a
        table), as rows, before any view."""
        index = torch.as_tensor(np.asarray(index))
        if self.table is None:
            return self.rows[index]
        choice = torch.randint(self.table.shape[1], index.shape, generator=generator)
        return self.rows[self.table[index, choice].long()]

    def view(self, batch, generator=None):
        """``batch`` through the views (itself without views)."""
        if self.views is None:
            return batch
        return draw_views(self.views, batch, generator, self._pass_generator)

    def draw(self, index, generator=None):
        """The positives of the samples ``index``: a partner each, viewed."""
        return self.view(self.pick(index, generator), generator)
