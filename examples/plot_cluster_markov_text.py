"""
Clustering token sequences by the Markov source that wrote them
===============================================================

:func:`sknebula.datasets.make_markov_sequences` emits sequences of tokens
``0 .. V-1`` from a few Markov chains, a text-like data set whose clusters
are the chains. ``encoder="tokens"`` embeds the tokens and runs stride-2
1-d convolutions; its decoder returns logits over the vocabulary at every
position and the reconstruction is categorical.

Token ids have no order (token 2 is no nearer to token 7 than to token 3),
so the warm-up's partners are found on n-gram profiles instead
(``sknebula.nn.sequence.ngram_profile``: token and bigram
frequencies). The labels are used only to score.
"""

# %%
# Fit
# ---
# The vocabulary size is passed through ``encoder_params``; everything else
# is at its default (``max_epochs="auto"``, and ``n_init="auto"``, which
# restarts the anchor phase three times on 600 sequences). One seed each:
# the baselines are KMeans on the raw token ids and, for reference, KMeans
# on each sequence's bigram counts, the statistic that tells the chains
# apart.
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.datasets import make_markov_sequences
from sknebula.metrics import clustering_accuracy

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

N_SOURCES, VOCAB = 4, 8


def bigram_counts(X):
    counts = np.zeros((len(X), VOCAB * VOCAB))
    rows = np.repeat(np.arange(len(X)), X.shape[1] - 1)
    np.add.at(counts, (rows, (X[:, :-1] * VOCAB + X[:, 1:]).ravel()), 1)
    return counts


X, y = make_markov_sequences(600, n_sources=N_SOURCES, length=40, vocab_size=VOCAB, random_state=0)
print(f"{len(X)} sequences of {X.shape[1]} tokens (vocabulary {VOCAB}), {N_SOURCES} sources")

nvc = NebulaVariationalClusterer(
    N_SOURCES, encoder="tokens", encoder_params={"vocab_size": VOCAB}, random_state=0
)
models = [
    ("KMeans on token ids", KMeans(N_SOURCES, n_init=10, random_state=0), X),
    ("KMeans on bigrams", KMeans(N_SOURCES, n_init=10, random_state=0), bigram_counts(X)),
    ("NVC, tokens encoder", nvc, X),
]
print(f"{'method':<22} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
for name, model, data in models:
    start = time.perf_counter()
    labels = model.fit_predict(data)
    seconds = time.perf_counter() - start
    acc = clustering_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"{name:<22} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")

# %%
# What the clusters learned
# -------------------------
# Top row: the transition matrix estimated from the sequences of each found
# cluster (row: current token, column: next token). Bottom row: the same
# estimate from the sequences of the source most of the cluster's members
# came from. A cluster that found its chain repeats its source's pattern of
# peaked rows.


def transitions(sequences):
    counts = bigram_counts(sequences).sum(0).reshape(VOCAB, VOCAB)
    return counts / np.maximum(counts.sum(1, keepdims=True), 1)


fig, axes = plt.subplots(2, N_SOURCES, figsize=(9, 4.8), layout="constrained")
for cluster in range(N_SOURCES):
    members = nvc.labels_ == cluster
    source = np.bincount(y[members], minlength=N_SOURCES).argmax()
    for ax, sequences, title in [
        (axes[0, cluster], X[members], f"cluster {cluster} ({members.sum()} seq.)"),
        (axes[1, cluster], X[y == source], f"source {source}"),
    ]:
        image = ax.imshow(transitions(sequences), cmap="viridis", vmin=0, vmax=1)
        ax.set_title(title, fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel("found")
axes[1, 0].set_ylabel("true")
fig.colorbar(image, ax=axes, label="P(next token | token)")
plt.show()
