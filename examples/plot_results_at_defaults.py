"""
Every estimator at its defaults
===============================

The numbers the benchmark scripts measured with every estimator at its
default settings, read from the tables they wrote in
``benchmarks/results/`` (this example trains nothing). The clustering
panel shows NebulaVariationalClusterer's mean accuracy over five seeds
(the bar) and its worst seed (the dot) beside KMeans and the best other
peer on each data set of the dev suite; the printed tables give the
self-supervised embeddings, the one-class detector and the disentangled
VAE. The user guide's "Results at the defaults" page has every row.
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The repository root: the gallery runs examples from examples/.
ROOT = next(p for p in (Path.cwd(), Path.cwd().parent) if (p / "benchmarks" / "results").is_dir())
sys.path.insert(0, str(ROOT))
from benchmarks._common import kmeans_and_best_peer, mean_acc, nvc_rows, read_tables  # noqa: E402


def mean_and_worst(row):
    return mean_acc(row), float(row["worst ACC"])


# %%
# Clustering accuracy over the dev suite (NVC at two torch threads, or at
# one where the two-thread table has not been written)
nvc = nvc_rows(threads="2") or nvc_rows(threads="1")
datasets = [r["dataset"] for r in nvc]
bars = {"NVC": [], "KMeans": [], "best other peer": []}
for row in nvc:
    kmeans, best = kmeans_and_best_peer(row["dataset"])
    for name, r in (("NVC", row), ("KMeans", kmeans), ("best other peer", best)):
        bars[name].append(mean_and_worst(r))

fig, ax = plt.subplots(figsize=(10, 4))
x = np.arange(len(datasets))
for i, (name, values) in enumerate(bars.items()):
    means, worst = np.array(values).T
    ax.bar(x + (i - 1) * 0.27, means, 0.27, label=name)
    ax.plot(x + (i - 1) * 0.27, worst, "k.", ms=5)
ax.set_xticks(x, datasets, rotation=30, ha="right")
ax.set_ylabel("ACC (bar: mean of 5 seeds, dot: worst)")
ax.set_ylim(0, 1.05)
ax.legend(ncols=3, loc="lower left")
fig.tight_layout()
plt.show()

# %%
# Self-supervised embeddings, one-class detection, disentangling
embedding, one_class = read_tables("embedding")[:2]
print("probes of transform on digits (3 seeds)")
for r in embedding:
    if r["features"] in ("raw pixels", "VariationalSimSiam", "VariationalJointEmbedding"):
        print(f"  {r['features']:<26} {r['data']:<26} standardised linear "
              f"{r['linear probe, standardised']}, 5-NN {r['5-NN']}")
print("one-class anomaly detection on digits, mean AUROC over the 10 classes")
for r in one_class:
    print(f"  {r['detector']:<44} {r['mean AUROC (10 classes), worst seed']}")
defaults = next(r for r in read_tables("disentangle")[0] if "defaults" in r["model"])
print(f"LabelDisentangledVAE test accuracy {defaults['test accuracy']}, "
      f"LR on z_s {defaults['LR on z_s']}, on z_u {defaults['LR on z_u']}")
