"""Cluster text-like token sequences by the Markov source that wrote them.

:func:`sknebula.datasets.make_markov_sequences` emits sequences of tokens
0..V-1 from a few Markov chains. ``encoder="tokens"`` embeds the tokens,
runs stride-2 1-d convolutions and (with ``pool="mean"``) averages over
positions, so the code reflects *which* transitions occur, not *where*;
its decoder returns logits over the vocabulary at every position and the
reconstruction is categorical. The vocabulary size is passed through
``encoder_params``.

Input-space neighbours mean nothing for token ids (the distance between
token 2 and token 7 is arbitrary), so ``n_neighbors=0``: each sequence is
its own partner in the warm-up. Prints accuracy and NMI beside KMeans on
the raw token ids and, for reference, KMeans on bigram counts (a feature a
user would have to design). Runs offline in under a minute on two CPU cores.

    python examples/cluster_markov_text.py
"""

import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.datasets import make_markov_sequences
from sknebula.metrics import clustering_accuracy

N_SOURCES, VOCAB = 4, 8


def bigram_counts(X):
    counts = np.zeros((len(X), VOCAB * VOCAB))
    rows = np.repeat(np.arange(len(X)), X.shape[1] - 1)
    np.add.at(counts, (rows, (X[:, :-1] * VOCAB + X[:, 1:]).ravel()), 1)
    return counts


def main():
    X, y = make_markov_sequences(
        600, n_sources=N_SOURCES, length=40, vocab_size=VOCAB, random_state=0
    )
    models = [
        ("KMeans on token ids", KMeans(N_SOURCES, n_init=10, random_state=0), X),
        ("KMeans on bigrams", KMeans(N_SOURCES, n_init=10, random_state=0), bigram_counts(X)),
        (
            "NVC, tokens encoder",
            NebulaVariationalClusterer(
                n_anchors=N_SOURCES,
                encoder="tokens",
                encoder_params={"vocab_size": VOCAB, "pool": "mean"},
                hidden_dims=(32, 64),
                n_neighbors=0,
                max_epochs=100,
                random_state=0,
            ),
            X,
        ),
    ]
    print(f"{len(X)} sequences of {X.shape[1]} tokens (vocabulary {VOCAB}), {N_SOURCES} sources")
    print(f"{'method':<22} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
    for name, model, data in models:
        start = time.perf_counter()
        labels = model.fit_predict(data)
        seconds = time.perf_counter() - start
        acc = clustering_accuracy(y, labels)
        nmi = normalized_mutual_info_score(y, labels)
        print(f"{name:<22} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")


if __name__ == "__main__":
    main()
