"""
Point clouds: clustering shapes, completing partial clouds
==========================================================

:func:`sknebula.datasets.make_shapes_pointclouds` samples spheres, cubes,
cylinders and tori with noise, each cloud in its own random rotation.
``encoder="pointcloud"`` is a PointNet-style encoder (a shared per-point MLP
and a max over the points, so the order of the points does not matter); the
decoder emits a fixed number of points and the reconstruction is the
Chamfer distance.

The page first clusters clouds by shape, then trains
:class:`~sknebula.NebulaAutoencoder` to complete clouds of which only one
half was seen. To run in about a minute on a CPU it uses small clouds and
networks smaller than the encoder's default ``hidden_dims=(64, 128, 256)``;
each part says its settings.
"""

# %%
# Clustering
# ----------
# With ``rotation_invariant=True`` the encoder sees each point only through
# its distance to the centroid, so the code describes the shape and not its
# pose. Flattened coordinates of unordered, rotated clouds are no
# neighbourhood, so the warm-up partners are neighbours of pose-free shape
# descriptors (``sknebula.nn.pointcloud.shape_distribution``, the
# default for this encoder).
#
# 200 clouds of 64 points, ``hidden_dims=(32, 64)``, and the default
# ``max_epochs="auto"`` and ``n_init="auto"``. Baselines: KMeans on the raw
# coordinates, KMeans on the descriptors
# themselves (which on these clean generated solids already separate the
# shapes), and KMeans on the latent of a plain autoencoder: the same
# network with every NVC term and the partners switched off.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.neural_network import MLPRegressor

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula.datasets import make_partial_pointclouds, make_shapes_pointclouds
from sknebula.metrics import clustering_accuracy
from sknebula.nn.pointcloud import shape_distribution
from sknebula.objectives.reconstruction import chamfer_distance

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

PLAIN = dict(
    beta=0.0, metric_weight=0.0, contrastive_weight=0.0, consistency_weight=0.0,
    balance_weight=0.0, n_neighbors=0,
)
SHAPES = ("sphere", "cube", "cylinder", "torus")  # y indexes this tuple

X, y = make_shapes_pointclouds(200, n_points=64, shapes=SHAPES, random_state=0)
common = dict(
    encoder="pointcloud", encoder_params={"rotation_invariant": True},
    hidden_dims=(32, 64), random_state=0,
)


def kmeans(data):
    return KMeans(4, n_init=10, random_state=0).fit_predict(data)


def plain_autoencoder_then_kmeans(X):
    plain = NebulaAutoencoder(4, **common, **PLAIN).fit(X)
    return kmeans(plain.transform(X))


nvc = NebulaVariationalClusterer(4, **common)
methods = [
    ("KMeans on coordinates", lambda X: kmeans(X.reshape(len(X), -1))),
    ("KMeans on descriptors", lambda X: kmeans(shape_distribution(X))),
    ("KMeans on plain AE", plain_autoencoder_then_kmeans),
    ("NVC, pointcloud", nvc.fit_predict),
]
print(f"clustering: {X.shape[0]} clouds of {X.shape[1]} points, 4 shapes, random rotations")
print(f"{'method':<24} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
for name, method in methods:
    start = time.perf_counter()
    labels = method(X)
    seconds = time.perf_counter() - start
    acc = clustering_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"{name:<24} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")

# %%
# Three clouds of every cluster NVC found, in the pose they were generated
# in; the row title gives the shape most of the cluster's clouds are.
fig = plt.figure(figsize=(7, 8))
for cluster in range(4):
    members = np.flatnonzero(nvc.labels_ == cluster)
    shape = SHAPES[np.bincount(y[members], minlength=4).argmax()]
    for j, i in enumerate(members[:3]):
        ax = fig.add_subplot(4, 3, 3 * cluster + j + 1, projection="3d")
        ax.scatter(*X[i].T, s=6, color=f"C{cluster}")
        ax.set_axis_off()
        if j == 0:
            ax.set_title(f"cluster {cluster}: {len(members)} clouds, mostly {shape}",
                         loc="left", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Completion
# ----------
# :func:`sknebula.datasets.make_partial_pointclouds` keeps the half of each
# cloud on one side of a random plane, and ``NebulaAutoencoder().fit(X, Y)``
# learns to map the partial cloud ``X`` to the full cloud ``Y``.
# ``beta=0.1`` keeps the pull to the anchors light, as a completion needs
# the pose and detail the anchors do not hold. Scored by the Chamfer
# distance on held-out clouds, beside the partial cloud itself, an MLP
# regressor on the flattened coordinates and the plain autoencoder. The
# spread is the mean Chamfer distance between the outputs for two different
# clouds: near zero, a model returns one average cloud whatever its input,
# which can score well on Chamfer alone.
#
# 400 clouds of 96 points (300 to train), ``hidden_dims=(64, 128)`` and
# ``max_epochs=100`` for both autoencoders: 300 clouds make one batch an
# epoch, so ``"auto"`` would train 320 epochs to take enough optimiser
# steps, beyond this page's time.


def chamfer(A, B):
    return float(chamfer_distance(torch.as_tensor(A), torch.as_tensor(B)).mean())


def spread(clouds):
    half = len(clouds) // 2
    return chamfer(clouds[:half], clouds[half : 2 * half])


Y, shape_of_Y = make_shapes_pointclouds(400, n_points=96, shapes=SHAPES, random_state=1)
X = make_partial_pointclouds(Y, keep=0.5, random_state=2)
X_train, X_test, Y_train, Y_test = X[:300], X[300:], Y[:300], Y[300:]
rows = [("partial cloud as is", X_test, 0.0)]

start = time.perf_counter()
mlp = MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=300, random_state=0)
mlp.fit(X_train.reshape(len(X_train), -1), Y_train.reshape(len(Y_train), -1))
predicted = mlp.predict(X_test.reshape(len(X_test), -1)).reshape(Y_test.shape)
rows.append(("MLPRegressor", predicted, time.perf_counter() - start))

completed = {}
for name, extra in [("plain AE, Chamfer", PLAIN), ("NebulaAutoencoder", {"beta": 0.1})]:
    start = time.perf_counter()
    ae = NebulaAutoencoder(
        4, encoder="pointcloud", hidden_dims=(64, 128), max_epochs=100, random_state=0, **extra
    ).fit(X_train, Y_train)
    completed[name] = ae.predict(X_test)
    rows.append((name, completed[name], time.perf_counter() - start))

print(f"completion: {X.shape[1]} of {Y.shape[1]} points kept; "
      f"Chamfer on {len(X_test)} held-out clouds (lower is better)")
print(f"{'method':<24} {'Chamfer':>8} {'spread':>7} {'fit s':>7}")
for name, clouds, seconds in rows:
    print(f"{name:<24} {chamfer(clouds, Y_test):8.4f} {spread(clouds):7.4f} {seconds:7.1f}")
print(f"{'(the full clouds)':<24} {'':>8} {spread(Y_test):7.4f}")

# %%
# One held-out cloud of every shape: the half the models were given, the
# two autoencoders' completions, and the full cloud, all four drawn on the
# same axes' limits: where the spread above is near zero, a column
# repeats one cloud down the rows.
columns = [
    ("partial", X_test),
    ("plain AE", completed["plain AE, Chamfer"]),
    ("NebulaAutoencoder", completed["NebulaAutoencoder"]),
    ("full", Y_test),
]
fig = plt.figure(figsize=(9, 9))
for row, shape in enumerate(SHAPES):
    i = np.flatnonzero(shape_of_Y[300:] == row)[0]
    limit = np.abs(Y_test[i]).max()
    for col, (title, clouds) in enumerate(columns):
        ax = fig.add_subplot(4, 4, 4 * row + col + 1, projection="3d")
        ax.scatter(*clouds[i].T, s=5, color=f"C{col}")
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), zlim=(-limit, limit))
        ax.set_axis_off()
        ax.set_title(f"{shape}: {title}", fontsize="small")
fig.tight_layout()
plt.show()
