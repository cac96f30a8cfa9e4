"""
Clustering occupancy volumes with a 3-d convolutional encoder
=============================================================

:func:`sknebula.datasets.make_shape_volumes` voxelises solid spheres, cubes,
cylinders and tori, each randomly scaled, shifted and rotated, on a
:math:`12^3` grid with 2% of the voxels flipped. ``encoder="conv3d"`` takes
volumes of shape ``(n, D, H, W)`` (or ``(n, C, D, H, W)``); occupancies in
{0, 1} get a Bernoulli reconstruction. The labels are used only to score.

The random rotations are the hard part: no encoder here is invariant to
them (see :ref:`data_kinds`).
"""

# %%
# Fit
# ---
# The baselines are KMeans on the raw voxels and KMeans on the latent of a
# plain autoencoder: the same network with every NVC term switched off.
# Both networks train ``max_epochs=100``: 400 volumes make one batch an
# epoch, so ``"auto"`` would train 320 epochs to take enough optimiser
# steps, beyond this page's time. The rest is at its default.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula.datasets import make_shape_volumes
from sknebula.metrics import clustering_accuracy

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

SHAPES = ("sphere", "cube", "cylinder", "torus")  # y indexes this tuple
PLAIN = dict(beta=0.0, metric_weight=0.0, contrastive_weight=0.0, consistency_weight=0.0, balance_weight=0.0)

X, y = make_shape_volumes(400, size=12, shapes=SHAPES, random_state=0)
common = dict(encoder="conv3d", max_epochs=100, random_state=0)


def kmeans(data):
    return KMeans(4, n_init=10, random_state=0).fit_predict(data)


def plain_autoencoder_then_kmeans(X):
    plain = NebulaAutoencoder(4, **common, **PLAIN).fit(X)
    return kmeans(plain.transform(X))


nvc = NebulaVariationalClusterer(4, **common)
methods = [
    ("KMeans on voxels", lambda X: kmeans(X.reshape(len(X), -1))),
    ("KMeans on plain AE", plain_autoencoder_then_kmeans),
    ("NVC, conv3d", nvc.fit_predict),
]
print(f"{len(X)} occupancy volumes of {X.shape[1]}^3 voxels, 4 solids, random poses")
print(f"{'method':<20} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
for name, method in methods:
    start = time.perf_counter()
    labels = method(X)
    seconds = time.perf_counter() - start
    acc = clustering_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"{name:<20} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")

# %%
# What the clusters hold
# ----------------------
# The middle slice of six volumes of every cluster NVC found, one row per
# cluster; each slice is titled with its volume's true solid. A cut through
# a turned solid can look like another solid's, which is part of why the
# poses make this hard.
fig, axes = plt.subplots(4, 6, figsize=(8, 6))
middle = X.shape[1] // 2
for cluster, row in enumerate(axes):
    members = np.flatnonzero(nvc.labels_ == cluster)
    for ax in row:
        ax.set_axis_off()
    for ax, i in zip(row, members[:6]):
        ax.imshow(X[i, middle], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(SHAPES[y[i]], fontsize="small")
    row[0].text(-0.3, 0.5, f"cluster {cluster}\n({len(members)})", transform=row[0].transAxes,
                ha="right", va="center", fontsize="small")
fig.tight_layout()
plt.show()
