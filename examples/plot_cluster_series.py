"""
Clustering real time series, of equal and unequal lengths
=========================================================

Two UCR/UEA sets that ship inside aeon (no download):

* **BasicMotions**: 80 recordings of a smartwatch's accelerometer and
  gyroscope (6 channels, 100 steps) while standing, walking, running or
  playing badminton;
* **JapaneseVowels**: 640 utterances of a vowel by nine speakers, 12 cepstral
  channels, of lengths 7 to 29: a list of arrays, as aeon returns
  unequal-length series.

``encoder="sequence"`` reads series channels first, ``(C, L)``. The
``metric`` parameter says what makes two series partners: the data kind's
own descriptor by default, or k-Shape's shape-based distance, dynamic time
warping, the spectrum alone, or a distance of your own. The labels are used
only to score.
"""

# %%
# Equal lengths: what ``metric`` changes
# --------------------------------------
# Each series (and channel) is z-normalised first, as the time-series peers
# expect. KMeans on the flattened series is the baseline.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from aeon.datasets import load_classification
from sklearn.cluster import KMeans

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy
from sknebula.plotting import LatentSpaceDisplay

torch.set_num_threads(1)  # results are reproducible for a fixed thread count


def z_normalise(series):
    std = series.std(axis=-1, keepdims=True)
    return (series - series.mean(axis=-1, keepdims=True)) / np.where(std > 0, std, 1.0)


X, labels = load_classification("BasicMotions")
X = z_normalise(X.astype(float))
y = np.unique(labels, return_inverse=True)[1]
k = len(np.unique(y))
print(f"BasicMotions: {X.shape[0]} series, {X.shape[1]} channels, {X.shape[2]} steps")

kmeans = KMeans(k, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))
print(f"{'KMeans, flattened':<28} ACC {clustering_accuracy(y, kmeans):.3f}")
fitted = {}
for metric in ["auto", "dtw", "spectrum"]:
    start = time.perf_counter()
    nvc = NebulaVariationalClusterer(k, encoder="sequence", metric=metric, random_state=0)
    nvc.fit(X)
    fitted[metric] = nvc
    print(f"{'NVC, metric=' + repr(metric):<28} ACC {clustering_accuracy(y, nvc.labels_):.3f}"
          f"  partners in cluster {nvc.partner_agreement_:.2f}"
          f"  fit {time.perf_counter() - start:.1f} s")

# %%
# What the clusters hold
# ----------------------
# The first accelerometer channel of every series, one panel per cluster of
# the default model: the standing series are flat, the running ones swing
# widest.
nvc = fitted["auto"]
fig, axes = plt.subplots(1, k, figsize=(12, 2.6), sharey=True)
for cluster, ax in enumerate(axes):
    members = X[nvc.labels_ == cluster, 0]
    ax.plot(members.T, color=f"C{cluster}", alpha=0.3, linewidth=0.8)
    ax.set_title(f"cluster {cluster} ({len(members)} series)")
    ax.set_xlabel("step")
axes[0].set_ylabel("acceleration x (z-normalised)")
fig.tight_layout()
plt.show()

# %%
# Unequal lengths
# ---------------
# With ``load_equal_length=False`` aeon returns a list of ``(12, L_i)``
# arrays. The estimator takes the list as it is: each series is resampled to
# the longest length, and ``predict`` resamples new series to it. A
# NaN-padded array (tslearn's form, channels first) is read the same way.
series, labels = load_classification("JapaneseVowels", load_equal_length=False)
series = [z_normalise(s.astype(float)) for s in series]
y = np.unique(labels, return_inverse=True)[1]
lengths = [s.shape[1] for s in series]
print(f"JapaneseVowels: {len(series)} series, lengths {min(lengths)} to {max(lengths)}")

nvc = NebulaVariationalClusterer(len(np.unique(y)), encoder="sequence", random_state=0)
nvc.fit(series)
print(f"NVC on the list: ACC {clustering_accuracy(y, nvc.labels_):.3f}, "
      f"trained on samples of shape {nvc.input_shape_}")
padded = np.full((len(series), 12, max(lengths)), np.nan)
for i, s in enumerate(series):
    padded[i, :, : s.shape[1]] = s
print(f"predict on the NaN-padded form agrees on {np.mean(nvc.predict(padded) == nvc.labels_):.0%}")

# %%
# The latent means of every utterance, in their first two principal
# directions, coloured by cluster.
LatentSpaceDisplay.from_estimator(nvc, padded)
plt.show()
