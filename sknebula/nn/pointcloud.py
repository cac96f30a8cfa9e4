"""Point cloud encoder (PointNet-style) and a point-set decoder."""

import math

import numpy as np
from torch import nn


def _check_cloud_shape(shape, what):
    if len(shape) != 2 or shape[1] < 1 or shape[0] < 1:
        raise ValueError(
            f"The 'pointcloud' architecture expects {what} of shape (n_samples, "
            f"n_points, n_coordinates), e.g. (n, 1024, 3); got samples of shape "
            f"{tuple(shape)}."
        )


def shape_distribution(X, n_quantiles=16, max_points=128, chunk_size=256):
    """Pose-free descriptors of point clouds, to find neighbouring shapes.

    Each cloud is described by the quantiles of its points' distances to
    the centroid and of the distances between its pairs of points (the "D2"
    shape distribution of Osada et al., 2002). Neither changes when the
    cloud is rotated, translated or its points reordered, so Euclidean
    neighbours of these descriptors are clouds of similar shape, whatever
    their pose: the NVC warm-up draws its partners from them, where
    neighbours of the flattened coordinates would be noise.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_points, n_coordinates)
        Point clouds.
    n_quantiles : int, default=16
        Quantiles of each distance distribution, from its minimum to its
        maximum.
    max_points : int, default=128
        Larger clouds are described from this many of their points, the
        same evenly spaced indices for every cloud (the pairwise distances
        grow with the square of the number of points).
    chunk_size : int, default=256
        Clouds processed at once, which bounds the memory.

    Returns
    -------
    ndarray of shape (n_samples, 2 * n_quantiles)

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.datasets import make_shapes_pointclouds
    >>> from sknebula.nn.pointcloud import shape_distribution
    >>> X, _ = make_shapes_pointclouds(2, n_points=64, random_state=0)
    >>> F = shape_distribution(X)
    >>> F.shape
    (2, 32)
    >>> turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> np.allclose(shape_distribution(X @ turn.T + 5.0), F, atol=1e-5)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] > max_points:
        X = X[:, np.linspace(0, X.shape[1] - 1, max_points).astype(int)]
    levels = np.linspace(0.0, 1.0, n_quantiles)
    upper = np.triu_indices(X.shape[1], k=1)
    features = []
    for start in range(0, len(X), chunk_size):
        clouds = X[start : start + chunk_size]
        centred = clouds - clouds.mean(axis=1, keepdims=True)
        radii = np.linalg.norm(centred, axis=2)
        pairs = np.linalg.norm(centred[:, :, None] - centred[:, None], axis=3)[:, upper[0], upper[1]]
        if pairs.shape[1] == 0:  # a single point has no pairs
            pairs = np.zeros((len(clouds), 1))
        features.append(
            np.hstack([np.quantile(radii, levels, axis=1).T, np.quantile(pairs, levels, axis=1).T])
        )
    return np.vstack(features)


class PointNetEncoder(nn.Module):
    """Permutation-invariant point cloud encoder (PointNet without T-nets).

    A shared MLP lifts every point to ``hidden_dims[-1]`` features, and a max
    over the points pools them: reordering the points leaves the output
    unchanged, and any number of points per cloud works [1]_.

    Parameters
    ----------
    input_shape : tuple of int
        ``(n_points, n_coordinates)``, usually ``(P, 3)``.
    hidden_dims : sequence of int, default=(64, 128, 256)
        Widths of the shared per-point MLP.
    rotation_invariant : bool, default=False
        Describe every point only by its distance to the cloud's centroid,
        which no rotation or translation changes: the code then holds the
        shape and not its pose (what clustering shapes seen in random poses
        needs; a completion needs the pose, so keep the default there).

    References
    ----------
    .. [1] Qi, Su, Mo, Guibas. "PointNet: Deep Learning on Point Sets for 3D
       Classification and Segmentation." CVPR 2017.

    Examples
    --------
    >>> import torch
    >>> from sknebula.nn import PointNetEncoder, PointCloudDecoder
    >>> enc = PointNetEncoder((100, 3), hidden_dims=(16, 32))
    >>> x = torch.randn(2, 100, 3)
    >>> enc(x).shape
    torch.Size([2, 32])
    >>> torch.allclose(enc(x), enc(x[:, torch.randperm(100)]))
    True
    >>> PointCloudDecoder(4, (50, 3), hidden_dims=(16, 32))(torch.zeros(2, 4)).shape
    torch.Size([2, 50, 3])
    """

    def __init__(self, input_shape, hidden_dims=(64, 128, 256), rotation_invariant=False):
        super().__init__()
        _check_cloud_shape(input_shape, "point clouds")
        hidden_dims = tuple(hidden_dims)
        if not hidden_dims:
            raise ValueError("The 'pointcloud' architecture needs at least one hidden layer.")
        self.rotation_invariant = bool(rotation_invariant)
        sizes = [1 if self.rotation_invariant else input_shape[1], *hidden_dims]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.point_mlp = nn.Sequential(*layers)
        self.out_features = sizes[-1]

    def forward(self, x):
        if self.rotation_invariant:
            x = (x - x.mean(dim=1, keepdim=True)).norm(dim=2, keepdim=True)
        return self.point_mlp(x).amax(dim=1)


class PointCloudDecoder(nn.Module):
    """MLP from the latent code to ``n_points`` coordinates.

    The points come out in a fixed order, but the Chamfer reconstruction
    compares them as a set, so the order carries no meaning.

    Parameters
    ----------
    latent_dim : int
        Latent dimension.
    output_shape : tuple of int
        ``(n_points, n_coordinates)`` of the reconstruction.
    hidden_dims : sequence of int, default=(64, 128, 256)
        The encoder's widths, visited in reverse.
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(64, 128, 256)):
        super().__init__()
        _check_cloud_shape(output_shape, "targets")
        self.output_shape = tuple(output_shape)
        sizes = [latent_dim, *reversed(tuple(hidden_dims))]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(sizes[-1], math.prod(self.output_shape))

    def forward(self, z):
        return self.out(self.hidden(z)).view(-1, *self.output_shape)
