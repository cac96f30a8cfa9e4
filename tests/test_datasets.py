"""The offline data generators: shapes, reproducibility, and that the
classes they claim are really in the data."""

import numpy as np
import pytest

from sknebula.datasets import (
    SHAPES,
    make_markov_sequences,
    make_partial_pointclouds,
    make_shape_volumes,
    make_shapes_pointclouds,
    make_template_sequences,
)

GENERATORS = [
    (make_markov_sequences, dict(n_samples=30, length=12)),
    (make_template_sequences, dict(n_samples=30, length=20)),
    (make_shapes_pointclouds, dict(n_samples=30, n_points=40)),
    (make_shape_volumes, dict(n_samples=30, size=8)),
]


@pytest.mark.parametrize("make, kwargs", GENERATORS)
def test_reproducible_balanced_and_seed_dependent(make, kwargs):
    X1, y1 = make(**kwargs, random_state=3)
    X2, y2 = make(**kwargs, random_state=3)
    X3, _ = make(**kwargs, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert len(X1) == len(y1) == 30
    counts = np.bincount(y1)
    assert counts.max() - counts.min() <= 1
    assert np.isfinite(X1).all()


def test_markov_sequences_follow_distinct_sources():
    X, y = make_markov_sequences(400, n_sources=3, length=50, vocab_size=6, random_state=0)
    assert X.shape == (400, 50) and X.dtype == np.int64
    assert X.min() >= 0 and X.max() < 6
    # Empirical transition matrices per source differ clearly.
    T = np.zeros((3, 6, 6))
    for k in range(3):
        Xk = X[y == k]
        np.add.at(T[k], (Xk[:, :-1].ravel(), Xk[:, 1:].ravel()), 1)
    T /= T.sum(-1, keepdims=True)
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.abs(T[a] - T[b]).sum(-1).mean() > 0.5


def test_template_sequences_are_shifted_noisy_templates():
    X, y = make_template_sequences(200, n_classes=2, length=40, noise=0.0, max_shift=0, random_state=0)
    # No shift, no noise: every member of a class is its template exactly.
    for k in range(2):
        assert np.ptp(X[y == k], axis=0).max() == 0
    Xs, _ = make_template_sequences(200, n_classes=2, length=40, noise=0.0, max_shift=5, random_state=0)
    assert np.ptp(Xs[y == 0], axis=0).max() > 0
    X3, _ = make_template_sequences(10, n_channels=3, length=16, random_state=0)
    assert X3.shape == (10, 3, 16)


def test_pointclouds_have_the_claimed_shapes():
    X, y = make_shapes_pointclouds(80, n_points=300, noise=0.0, random_state=0)
    assert X.shape == (80, 300, 3)
    radius = np.linalg.norm(X, axis=2)
    sphere = radius[y == SHAPES.index("sphere")]
    np.testing.assert_allclose(sphere, 1.0, atol=1e-9)
    # The torus has a hole: no point near its centre; the cube reaches its corners.
    assert radius[y == SHAPES.index("torus")].min() > 0.35
    assert radius[y == SHAPES.index("cube")].max() > 1.2
    # Rotation changes the coordinates but not the radii.
    Xr, _ = make_shapes_pointclouds(8, n_points=50, rotate=False, noise=0.0, random_state=1)
    Xt, _ = make_shapes_pointclouds(8, n_points=50, rotate=True, noise=0.0, random_state=1)
    assert not np.allclose(Xr, Xt)


def test_partial_clouds_are_one_sided_subsets():
    X, _ = make_shapes_pointclouds(5, n_points=100, random_state=0)
    P = make_partial_pointclouds(X, keep=0.4, random_state=0)
    assert P.shape == (5, 40, 3)
    for full, part in zip(X, P):
        d = np.linalg.norm(part[:, None] - full[None], axis=2).min(1)
        assert d.max() == 0  # every kept point is a point of the cloud
        # one side: the kept points' centroid is off the cloud's centre
        assert np.linalg.norm(part.mean(0) - full.mean(0)) > 0.2
    with pytest.raises(ValueError, match="keep"):
        make_partial_pointclouds(X, keep=0)
    with pytest.raises(ValueError, match="n_points"):
        make_partial_pointclouds(X[:, :, 0])


def test_volumes_are_binary_solids():
    X, y = make_shape_volumes(40, size=12, noise=0.0, random_state=0)
    assert X.shape == (40, 12, 12, 12)
    assert set(np.unique(X)) == {0.0, 1.0}
    filled = X.reshape(40, -1).mean(1)
    assert (filled > 0.02).all() and (filled < 0.8).all()
    # The torus leaves its centre empty; the sphere fills it.
    centre = X[:, 5:7, 5:7, 5:7].reshape(40, -1).mean(1)
    assert centre[y == SHAPES.index("sphere")].min() == 1.0
    assert centre[y == SHAPES.index("torus")].max() < 1.0
    noisy, _ = make_shape_volumes(40, size=12, noise=0.1, random_state=0)
    assert 0.05 < (noisy != X).mean() < 0.15


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_markov_sequences(0), "n_samples"),
        (lambda: make_markov_sequences(5, concentration=0), "concentration"),
        (lambda: make_template_sequences(5, noise=-1), "noise"),
        (lambda: make_shapes_pointclouds(5, shapes=("cone",)), "shapes"),
        (lambda: make_shape_volumes(5, noise=2), "noise"),
        (lambda: make_shape_volumes(5, scale=(1.2, 1.0)), "scale"),
    ],
)
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
