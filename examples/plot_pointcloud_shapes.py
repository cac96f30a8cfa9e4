"""Point clouds of generated shapes: cluster them by shape, then complete
partial clouds.

:func:`sknebula.datasets.make_shapes_pointclouds` samples spheres, cubes,
cylinders and tori with noise, each cloud in its own random rotation.
``encoder="pointcloud"`` is a PointNet-style encoder (a shared per-point MLP
and a max over the points, so the order of the points does not matter); the
decoder emits a fixed number of points and the reconstruction is the
Chamfer distance.

1. Clustering. With ``rotation_invariant=True`` the encoder sees each
   point only through its distance to the centroid, so the code describes
   the shape and not its pose. Flattened coordinates of unordered, rotated
   clouds are no neighbourhood, so the warm-up partners are neighbours of
   pose-free shape descriptors
   (``sknebula.nn.pointcloud.shape_distribution``, the default for this
   encoder). Baselines: KMeans on the raw coordinates, KMeans on the latent
   of a plain autoencoder (the same network with every NVC term switched
   off), and KMeans on the descriptors themselves, which on these clean
   generated solids already separate the shapes.
2. Completion. :func:`sknebula.datasets.make_partial_pointclouds` keeps the
   half of each cloud on one side of a random plane;
   ``NebulaAutoencoder().fit(X_partial, Y_full)`` learns to produce the full
   cloud; ``beta=0.1`` keeps the pull to the anchors light, as a completion
   needs the pose and detail the anchors do not hold. Scored by the Chamfer
   distance on held-out clouds, beside the partial cloud itself, an MLP
   regressor on the flattened coordinates and the plain autoencoder.

Runs offline in one to three minutes on two CPU cores, depending on the
machine.

    python examples/pointcloud_shapes.py
"""

import sys
import time

import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.neural_network import MLPRegressor

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula.datasets import make_partial_pointclouds, make_shapes_pointclouds
from sknebula.metrics import clustering_accuracy
from sknebula.nn.pointcloud import shape_distribution
from sknebula.objectives.reconstruction import chamfer_distance

# ``--quick`` trains a few epochs only: a check that the script runs (the
# test suite uses it), not a result.
QUICK = "--quick" in sys.argv[1:]

# Every NVC term and the partners off: a plain autoencoder with a Chamfer loss.
PLAIN = dict(
    beta=0.0, metric_weight=0.0, contrastive_weight=0.0, consistency_weight=0.0,
    balance_weight=0.0, n_neighbors=0,
)


def chamfer(A, B):
    return float(chamfer_distance(torch.as_tensor(A), torch.as_tensor(B)).mean())


def clustering():
    X, y = make_shapes_pointclouds(300, n_points=96, random_state=0)
    common = dict(
        encoder="pointcloud",
        encoder_params={"rotation_invariant": True},
        hidden_dims=(32, 64),
        max_epochs=4 if QUICK else 100,
        random_state=0,
    )
    rows = []
    start = time.perf_counter()
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))
    rows.append(("KMeans on coordinates", labels, time.perf_counter() - start))
    start = time.perf_counter()
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(shape_distribution(X))
    rows.append(("KMeans on descriptors", labels, time.perf_counter() - start))
    start = time.perf_counter()
    plain = NebulaAutoencoder(4, **common, **PLAIN).fit(X)
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(plain.transform(X))
    rows.append(("KMeans on plain AE", labels, time.perf_counter() - start))
    start = time.perf_counter()
    labels = NebulaVariationalClusterer(4, **common).fit_predict(X)
    rows.append(("NVC, pointcloud", labels, time.perf_counter() - start))

    print(f"clustering: {X.shape[0]} clouds of {X.shape[1]} points, 4 shapes, random rotations")
    print(f"{'method':<24} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
    for name, labels, seconds in rows:
        acc = clustering_accuracy(y, labels)
        nmi = normalized_mutual_info_score(y, labels)
        print(f"{name:<24} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")


def completion():
    Y, _ = make_shapes_pointclouds(400, n_points=128, random_state=1)
    X = make_partial_pointclouds(Y, keep=0.5, random_state=2)
    train, test = slice(0, 300), slice(300, None)
    n_test = len(Y[test])
    rows = [("partial cloud as is", chamfer(X[test], Y[test]), 0.0)]
    start = time.perf_counter()
    mlp = MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=5 if QUICK else 300, random_state=0)
    mlp.fit(X[train].reshape(300, -1), Y[train].reshape(300, -1))
    pred = mlp.predict(X[test].reshape(n_test, -1)).reshape(Y[test].shape)
    rows.append(("MLPRegressor", chamfer(pred, Y[test]), time.perf_counter() - start))
    for name, extra in [("plain AE, Chamfer", PLAIN), ("NebulaAutoencoder", {"beta": 0.1})]:
        start = time.perf_counter()
        ae = NebulaAutoencoder(
            4, encoder="pointcloud", hidden_dims=(64, 128), max_epochs=3 if QUICK else 50, random_state=0, **extra,
        ).fit(X[train], Y[train])
        rows.append((name, chamfer(ae.predict(X[test]), Y[test]), time.perf_counter() - start))

    print(f"\ncompletion: {X.shape[1]} of {Y.shape[1]} points kept; Chamfer on {n_test} held-out clouds (lower is better)")
    print(f"{'method':<24} {'Chamfer':>8} {'fit s':>7}")
    for name, value, seconds in rows:
        print(f"{name:<24} {value:8.4f} {seconds:7.1f}")


if __name__ == "__main__":
    clustering()
    completion()
