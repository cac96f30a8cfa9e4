"""Small offline data generators for each data kind: token sequences,
real-valued sequences, point clouds and occupancy volumes.

Every generator returns ``(X, y)`` with ``y`` the generating class (used
only to score a clustering), is seeded by ``random_state``, and needs no
download.
"""

import numpy as np
from scipy.spatial.transform import Rotation
from sklearn.utils import check_random_state

__all__ = [
    "make_markov_sequences",
    "make_partial_pointclouds",
    "make_shape_volumes",
    "make_shapes_pointclouds",
    "make_template_sequences",
]

#: The shape classes of the point-cloud and volume generators, in label order.
SHAPES = ("sphere", "cube", "cylinder", "torus")


def _check_positive(**values):
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _balanced_labels(n_samples, n_classes, rng):
    """Labels as balanced as possible, in random order."""
    return rng.permutation(np.arange(n_samples) % n_classes)


def make_markov_sequences(
    n_samples=600, *, n_sources=4, length=40, vocab_size=8, concentration=0.3, random_state=None
):
    """Token sequences emitted by a few first-order Markov sources.

    Each source has its own transition matrix, every row drawn from a
    symmetric Dirichlet(``concentration``); a small concentration gives
    peaked, easily told apart sources. A sequence starts from a uniform
    token and follows its source's chain: a text-like data set whose
    clusters are the sources.

    Parameters
    ----------
    n_samples : int, default=600
        Number of sequences (balanced over the sources).
    n_sources : int, default=4
        Number of Markov sources (clusters).
    length : int, default=40
        Tokens per sequence.
    vocab_size : int, default=8
        Number of distinct tokens, ``0 .. vocab_size - 1``.
    concentration : float, default=0.3
        Dirichlet concentration of the transition rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the sources and of the sampling.

    Returns
    -------
    X : ndarray of shape (n_samples, length), dtype int64
        Token sequences.
    y : ndarray of shape (n_samples,)
        Source of each sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.datasets import make_markov_sequences
    >>> X, y = make_markov_sequences(10, n_sources=2, length=5, vocab_size=3, random_state=0)
    >>> X.shape, np.unique(X).tolist(), np.unique(y).tolist()
    ((10, 5), [0, 1, 2], [0, 1])
    """
    _check_positive(
        n_samples=n_samples, n_sources=n_sources, length=length, vocab_size=vocab_size
    )
    if concentration <= 0:
        raise ValueError(f"concentration must be > 0, got {concentration!r}.")
    rng = check_random_state(random_state)
    transitions = rng.dirichlet(np.full(vocab_size, concentration), size=(n_sources, vocab_size))
    cumulative = transitions.cumsum(-1)
    y = _balanced_labels(n_samples, n_sources, rng)
    X = np.empty((n_samples, length), dtype=np.int64)
    X[:, 0] = rng.randint(vocab_size, size=n_samples)
    for t in range(1, length):
        # Inverse-CDF draw of every sequence's next token at once.
        rows = cumulative[y, X[:, t - 1]]
        X[:, t] = np.minimum((rows < rng.rand(n_samples, 1)).sum(1), vocab_size - 1)
    return X, y


def make_template_sequences(
    n_samples=500,
    *,
    n_classes=10,
    length=64,
    n_channels=1,
    max_shift=10,
    noise=0.3,
    random_state=None,
):
    """Real-valued sequences: smooth class templates, randomly shifted, noisy.

    Each class has a smooth template per channel (a sum of four random
    Gaussian bumps, defined ``max_shift`` steps beyond each end); a sample
    is its class template cropped at a random shift in
    ``[-max_shift, max_shift]`` plus Gaussian noise of scale ``noise``. Raw
    distances mix classes once shifted, so KMeans on the raw values does
    poorly while a convolutional encoder does well.

    Parameters
    ----------
    n_samples : int, default=500
        Number of sequences (balanced over the classes).
    n_classes : int, default=10
        Number of templates (clusters).
    length : int, default=64
        Steps per sequence.
    n_channels : int, default=1
        Channels; 1 gives ``X`` of shape ``(n_samples, length)``, more give
        ``(n_samples, n_channels, length)``.
    max_shift : int, default=10
        Largest shift, in steps.
    noise : float, default=0.3
        Standard deviation of the additive noise.
    random_state : int, RandomState instance or None, default=None
        Seed of the templates, shifts and noise.

    Returns
    -------
    X : ndarray of shape (n_samples, length) or (n_samples, n_channels, length)
        Sequences.
    y : ndarray of shape (n_samples,)
        Class of each sequence.

    Examples
    --------
    >>> from sknebula.datasets import make_template_sequences
    >>> X, y = make_template_sequences(20, n_classes=4, length=32, random_state=0)
    >>> X.shape, y.shape
    ((20, 32), (20,))
    >>> make_template_sequences(5, n_channels=2, length=16, random_state=0)[0].shape
    (5, 2, 16)
    """
    _check_positive(n_samples=n_samples, n_classes=n_classes, length=length, n_channels=n_channels)
    if max_shift < 0 or noise < 0:
        raise ValueError("max_shift and noise must be >= 0.")
    rng = check_random_state(random_state)
    full = length + 2 * max_shift
    t = np.arange(full)[None, None, None, :]
    centres = rng.uniform(0, full, size=(n_classes, n_channels, 4, 1))
    widths = rng.uniform(2.0, full / 6, size=(n_classes, n_channels, 4, 1))
    heights = rng.uniform(-2.0, 2.0, size=(n_classes, n_channels, 4, 1))
    templates = (heights * np.exp(-0.5 * ((t - centres) / widths) ** 2)).sum(2)
    y = _balanced_labels(n_samples, n_classes, rng)
    starts = rng.randint(0, 2 * max_shift + 1, size=n_samples)
    steps = starts[:, None] + np.arange(length)[None, :]
    X = templates[y][np.arange(n_samples)[:, None], :, steps].transpose(0, 2, 1)
    X = X + noise * rng.standard_normal(X.shape)
    return (X[:, 0] if n_channels == 1 else X), y


def _surface_points(shape, n_points, rng):
    """``n_points`` points spread over the surface of a unit-sized shape."""
    if shape == "sphere":
        p = rng.standard_normal((n_points, 3))
        return p / np.linalg.norm(p, axis=1, keepdims=True)
    if shape == "cube":
        p = rng.uniform(-0.75, 0.75, size=(n_points, 3))
        axis = rng.randint(3, size=n_points)
        p[np.arange(n_points), axis] = 0.75 * rng.choice([-1.0, 1.0], size=n_points)
        return p
    if shape == "cylinder":
        radius, half = 0.7, 0.8
        # Side and caps in proportion to their areas.
        side = 2 * np.pi * radius * 2 * half
        on_cap = rng.rand(n_points) < 2 * np.pi * radius**2 / (side + 2 * np.pi * radius**2)
        angle = rng.uniform(0, 2 * np.pi, n_points)
        r = np.where(on_cap, radius * np.sqrt(rng.rand(n_points)), radius)
        z = np.where(on_cap, half * rng.choice([-1.0, 1.0], size=n_points), rng.uniform(-half, half, n_points))
        return np.stack([r * np.cos(angle), r * np.sin(angle), z], axis=1)
    if shape == "torus":
        big, small = 0.7, 0.3
        u = rng.uniform(0, 2 * np.pi, n_points)
        # Area element grows with the distance to the axis: reject to match.
        v = np.empty(0)
        while len(v) < n_points:
            cand = rng.uniform(0, 2 * np.pi, 2 * n_points)
            keep = rng.rand(len(cand)) < (big + small * np.cos(cand)) / (big + small)
            v = np.concatenate([v, cand[keep]])
        v = v[:n_points]
        ring = big + small * np.cos(v)
        return np.stack([ring * np.cos(u), ring * np.sin(u), small * np.sin(v)], axis=1)
    raise ValueError(f"Unknown shape {shape!r}; choose from {SHAPES}.")


def _check_shapes(shapes):
    shapes = tuple(shapes)
    unknown = [s for s in shapes if s not in SHAPES]
    if not shapes or unknown:
        raise ValueError(f"shapes must be a non-empty subset of {SHAPES}, got {shapes!r}.")
    return shapes


def make_shapes_pointclouds(
    n_samples=400, *, n_points=256, shapes=SHAPES, noise=0.02, rotate=True, random_state=None
):
    """Point clouds sampled on spheres, cubes, cylinders and tori.

    Points are drawn over each surface, jittered by Gaussian noise of scale
    ``noise``, and every cloud is turned by its own uniformly random 3-d
    rotation. Points come in random order.

    Parameters
    ----------
    n_samples : int, default=400
        Number of clouds (balanced over the shapes).
    n_points : int, default=256
        Points per cloud.
    shapes : sequence of str, default=("sphere", "cube", "cylinder", "torus")
        The shape classes.
    noise : float, default=0.02
        Standard deviation of the point jitter.
    rotate : bool, default=True
        Apply a random rotation to each cloud.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampling, noise and rotations.

    Returns
    -------
    X : ndarray of shape (n_samples, n_points, 3)
        Point clouds, roughly within the unit ball.
    y : ndarray of shape (n_samples,)
        Index of each cloud's shape in ``shapes``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.datasets import make_shapes_pointclouds
    >>> X, y = make_shapes_pointclouds(8, n_points=50, random_state=0)
    >>> X.shape, np.unique(y).tolist()
    ((8, 50, 3), [0, 1, 2, 3])
    """
    _check_positive(n_samples=n_samples, n_points=n_points)
    shapes = _check_shapes(shapes)
    rng = check_random_state(random_state)
    y = _balanced_labels(n_samples, len(shapes), rng)
    X = np.stack([_surface_points(shapes[label], n_points, rng) for label in y])
    X += noise * rng.standard_normal(X.shape)
    if rotate:
        R = Rotation.random(n_samples, random_state=rng).as_matrix()
        X = np.einsum("npj,nij->npi", X, R)
    return X, y


def make_partial_pointclouds(X, *, keep=0.5, random_state=None):
    """Crop every cloud to the points on one side of a random plane.

    For each cloud a random direction ``u`` is drawn and the
    ``round(keep * n_points)`` points with the smallest projection on ``u``
    are kept: what a single viewpoint or an occlusion leaves of a shape.
    Completion fits ``NebulaAutoencoder().fit(X_partial, X)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_points, n_coordinates)
        Complete clouds.
    keep : float, default=0.5
        Fraction of the points kept, in (0, 1].
    random_state : int, RandomState instance or None, default=None
        Seed of the cutting directions.

    Returns
    -------
    X_partial : ndarray of shape (n_samples, round(keep * n_points), n_coordinates)
        Partial clouds.

    Examples
    --------
    >>> from sknebula.datasets import make_partial_pointclouds, make_shapes_pointclouds
    >>> X, _ = make_shapes_pointclouds(4, n_points=100, random_state=0)
    >>> make_partial_pointclouds(X, keep=0.3, random_state=0).shape
    (4, 30, 3)
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n_samples, n_points, n_coordinates), got {X.shape}.")
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep!r}.")
    n_kept = max(1, int(round(keep * X.shape[1])))
    rng = check_random_state(random_state)
    u = rng.standard_normal((len(X), X.shape[2]))
    projection = np.einsum("npc,nc->np", X, u)
    order = np.argsort(projection, axis=1)[:, :n_kept]
    return np.take_along_axis(X, order[:, :, None], axis=1)


def _inside(shape, p):
    """Occupancy of points ``p`` (..., 3) for each unit-sized solid."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    if shape == "sphere":
        return x**2 + y**2 + z**2 <= 0.85**2
    if shape == "cube":
        return np.abs(p).max(-1) <= 0.6
    if shape == "cylinder":
        return (x**2 + y**2 <= 0.55**2) & (np.abs(z) <= 0.8)
    return (np.sqrt(x**2 + y**2) - 0.6) ** 2 + z**2 <= 0.28**2  # torus


def make_shape_volumes(
    n_samples=400,
    *,
    size=16,
    shapes=SHAPES,
    noise=0.02,
    rotate=True,
    shift=0.1,
    scale=(0.8, 1.1),
    random_state=None,
):
    """Occupancy grids of solid spheres, cubes, cylinders and tori.

    Each solid is scaled by a random factor in ``scale``, shifted along
    each axis by up to ``shift`` (the grid spans [-1, 1]), turned by a
    random rotation, and voxelised on a ``size``-cube grid over ``[-1, 1]^3``
    (a voxel is 1 when its centre is inside); then a fraction ``noise`` of
    the voxels is flipped.

    Parameters
    ----------
    n_samples : int, default=400
        Number of volumes (balanced over the shapes).
    size : int, default=16
        Voxels along each axis.
    shapes : sequence of str, default=("sphere", "cube", "cylinder", "torus")
        The shape classes.
    noise : float, default=0.02
        Fraction of voxels flipped.
    rotate : bool, default=True
        Apply a random rotation to each solid.
    shift : float, default=0.1
        Largest translation along each axis, in grid half-widths.
    scale : tuple of float, default=(0.8, 1.1)
        Range of the random size factor.
    random_state : int, RandomState instance or None, default=None
        Seed of the poses and noise.

    Returns
    -------
    X : ndarray of shape (n_samples, size, size, size)
        Occupancy grids with values in {0, 1} (float).
    y : ndarray of shape (n_samples,)
        Index of each volume's shape in ``shapes``.

    Examples
    --------
    >>> from sknebula.datasets import make_shape_volumes
    >>> X, y = make_shape_volumes(8, size=10, random_state=0)
    >>> X.shape, set(X.ravel()) == {0.0, 1.0}
    ((8, 10, 10, 10), True)
    """
    _check_positive(n_samples=n_samples, size=size)
    shapes = _check_shapes(shapes)
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must be in [0, 1], got {noise!r}.")
    if not 0 < scale[0] <= scale[1]:
        raise ValueError(f"scale must be a range (low, high) with 0 < low <= high, got {scale!r}.")
    rng = check_random_state(random_state)
    y = _balanced_labels(n_samples, len(shapes), rng)
    axis = (np.arange(size) + 0.5) / size * 2 - 1
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)
    R = Rotation.random(n_samples, random_state=rng).as_matrix() if rotate else None
    scales = rng.uniform(scale[0], scale[1], n_samples)
    shifts = rng.uniform(-shift, shift, size=(n_samples, 3))
    X = np.empty((n_samples, size, size, size))
    for i, label in enumerate(y):
        # Map grid points into the solid's own frame: undo shift, rotation, scale.
        p = grid - shifts[i]
        if R is not None:
            p = p @ R[i]
        X[i] = _inside(shapes[label], p / scales[i])
    flip = rng.rand(*X.shape) < noise
    X[flip] = 1 - X[flip]
    return X, y
