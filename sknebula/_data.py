"""Training datasets: samples paired with a neighbour, drawn each step."""

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors
from torch.utils.data import BatchSampler, DataLoader, RandomSampler


def neighbour_table(X, n_neighbors, features=None):
    """Indices of the ``n_neighbors`` nearest other rows of each sample.

    Distances are Euclidean on ``features(X)``, by default the flattened
    input. Returns an int64 array of shape ``(n_samples, k)`` with
    ``k = min(n_neighbors, n_samples - 1)``, or ``None`` when ``k`` is 0
    (no partners).
    """
    k = min(n_neighbors, len(X) - 1)
    if k < 1:
        return None
    flat = X.reshape(len(X), -1) if features is None else features(X)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(flat)
    idx = nn.kneighbors(flat, return_distance=False)
    # Drop each row's own index (usually first; not always with duplicates).
    own = np.arange(len(X))[:, None]
    keep = idx != own
    rows = [r[m][:k] for r, m in zip(idx, keep)]
    return np.stack(rows).astype(np.int64)


class NeighbourPairs(torch.utils.data.Dataset):
    """Yields ``({"x": X[i], "partner": X[j]}, Y[i])`` with ``j`` a random
    neighbour of ``i``, redrawn every time ``i`` is fetched.

    Indexing takes an array of indices, so whole batches are gathered in one
    numpy call (see :func:`batch_loader`). Neighbours are drawn from torch's
    global generator, which the estimators seed.
    """

    def __init__(self, X, Y, neighbours):
        self.X = X
        self.Y = Y
        self.neighbours = neighbours

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        index = np.asarray(index)
        inputs = {"x": self.X[index]}
        if self.neighbours is not None:
            pick = torch.randint(self.neighbours.shape[1], index.shape).numpy()
            inputs["partner"] = self.X[self.neighbours[index, pick]]
        return inputs, self.Y[index]


def batch_loader(dataset, batch_size, shuffle=True, **kwargs):
    """A DataLoader that fetches whole batches with one indexing call.

    skorch builds it as ``iterator_train(dataset, batch_size=..., shuffle=...)``.
    """
    sampler = RandomSampler(dataset) if shuffle else range(len(dataset))
    batches = BatchSampler(sampler, batch_size, drop_last=False)
    return DataLoader(dataset, sampler=batches, batch_size=None, **kwargs)
