"""
Clustering digits as images, with a convolutional encoder
=========================================================

``encoder="conv2d"`` takes images of shape ``(n, H, W)`` (or
``(n, C, H, W)``) and mirrors its stride-2 convolutions in the decoder;
pixels scaled to [0, 1] get a Bernoulli reconstruction. Here it clusters
scikit-learn's 8x8 handwritten digits, beside KMeans on the raw pixels. The
labels are used only to score.
"""

# %%
# Fit
# ---
# Everything but the encoder is at its default: ``max_epochs="auto"`` and
# ``n_init="auto"`` size the training and the restarts of the anchor phase
# to the 1,797 images.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy
from sknebula.plotting import ReconstructionDisplay

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

X, y = load_digits(return_X_y=True)
images = (X / 16.0).reshape(-1, 8, 8)  # (n, H, W): a channel axis is added inside
print(f"digits: {images.shape[0]} images of {images.shape[1]}x{images.shape[2]} pixels, 10 classes")

models = [
    ("KMeans on pixels", KMeans(n_clusters=10, n_init=10, random_state=0), images.reshape(len(X), -1)),
    ("NVC, conv2d encoder", NebulaVariationalClusterer(10, encoder="conv2d", random_state=0), images),
]
print(f"{'method':<22} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
for name, model, data in models:
    start = time.perf_counter()
    labels = model.fit_predict(data)
    seconds = time.perf_counter() - start
    acc = clustering_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"{name:<22} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")
nvc = models[1][1]

# %%
# What the clusters hold
# ----------------------
# Eight images of every cluster, one column per cluster, chosen at random
# among its members. A column that mixes two digits is a cluster that
# merged them; its title gives the digit most of its members are.
rng = np.random.default_rng(0)
fig, axes = plt.subplots(8, 10, figsize=(8, 7))
for cluster, column in enumerate(axes.T):
    members = np.flatnonzero(nvc.labels_ == cluster)
    shown = rng.choice(members, min(8, len(members)), replace=False)
    for ax in column:
        ax.set_axis_off()
    for ax, i in zip(column, shown):
        ax.imshow(images[i], cmap="gray_r")
    majority = np.bincount(y[members], minlength=10).argmax()
    column[0].set_title(f"{len(members)}\nmostly {majority}", fontsize="small")
fig.suptitle("Images per cluster (column titles: cluster size, majority digit)")
plt.show()

# %%
# Reconstructions
# ---------------
# Top row: digits; bottom row: the decoder's mean at their posterior mean.
# The display reads the image shape from the fitted estimator.
disp = ReconstructionDisplay.from_estimator(nvc, images, n_images=10, random_state=0)
plt.show()
