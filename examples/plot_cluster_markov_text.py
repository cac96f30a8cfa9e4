"""Cluster text-like token sequences by the Markov source that wrote them.

:func:`sknebula.datasets.make_markov_sequences` emits sequences of tokens
0..V-1 from a few Markov chains. ``encoder="tokens"`` embeds the tokens
and runs stride-2 1-d convolutions; its decoder returns logits over the
vocabulary at every position and the reconstruction is categorical. The
vocabulary size is passed through ``encoder_params``; everything else is
at its default.

Token ids have no order (token 2 is no nearer to token 7 than to token 3),
so the warm-up's partners are found on n-gram profiles instead
(:func:`sknebula.nn.sequence.ngram_profile`: token and bigram
frequencies). Prints accuracy and NMI, as mean and standard deviation over
three seeds, beside KMeans on the raw token ids and, for reference, KMeans
on bigram counts. Runs offline; it trains three fits per method (three
seeds, each with the three restarts of the anchor phase that
``n_init="auto"`` makes on 600 sequences), about a minute or two on two
CPU cores.

    python examples/cluster_markov_text.py
"""

import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.datasets import make_markov_sequences
from sknebula.metrics import clustering_accuracy

# ``--quick`` trains a few epochs only: a check that the script runs (the
# test suite uses it), not a result.
QUICK = "--quick" in sys.argv[1:]

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
    kmeans = lambda seed: KMeans(N_SOURCES, n_init=10, random_state=seed)
    models = [
        ("KMeans on token ids", kmeans, X),
        ("KMeans on bigrams", kmeans, bigram_counts(X)),
        (
            "NVC, tokens encoder",
            lambda seed: NebulaVariationalClusterer(
                n_anchors=N_SOURCES,
                encoder="tokens",
                encoder_params={"vocab_size": VOCAB},
                random_state=seed,
                **({"max_epochs": 4} if QUICK else {}),
            ),
            X,
        ),
    ]
    print(f"{len(X)} sequences of {X.shape[1]} tokens (vocabulary {VOCAB}), {N_SOURCES} sources")
    print(f"{'method':<22} {'ACC (3 seeds)':>15} {'NMI (3 seeds)':>15} {'fit s':>7}")
    for name, make, data in models:
        scores, start = [], time.perf_counter()
        for seed in range(3):
            labels = make(seed).fit_predict(data)
            scores.append((clustering_accuracy(y, labels), normalized_mutual_info_score(y, labels)))
        seconds = (time.perf_counter() - start) / 3
        (acc, nmi), (acc_sd, nmi_sd) = np.mean(scores, axis=0), np.std(scores, axis=0)
        print(f"{name:<22} {acc:7.3f} ± {acc_sd:.3f} {nmi:7.3f} ± {nmi_sd:.3f} {seconds:7.1f}")


if __name__ == "__main__":
    main()
