"""Point cloud encoder (PointNet-style) and a point-set decoder."""

import math

from torch import nn


def _check_cloud_shape(shape, what):
    if len(shape) != 2 or shape[1] < 1 or shape[0] < 1:
        raise ValueError(
            f"The 'pointcloud' architecture expects {what} of shape (n_samples, "
            f"n_points, n_coordinates), e.g. (n, 1024, 3); got samples of shape "
            f"{tuple(shape)}."
        )


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
