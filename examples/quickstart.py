"""Quickstart: cluster sklearn's handwritten digits with NebulaVariationalClusterer.

Runs offline (the digits ship with scikit-learn) in about ten seconds of
training on two CPU cores (on data this small the clusterer trains one
warm-up and three restarts of its anchor phase, and keeps one), and prints
accuracy (Hungarian-matched) and NMI against the true digits, beside
KMeans on the same pixels. The labels are used only to score the
clustering.

    python examples/quickstart.py
"""

import sys
import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy

# ``--quick`` trains a few epochs only: a check that the script runs (the
# test suite uses it), not a result.
QUICK = "--quick" in sys.argv[1:]
QUICK_PARAMS = {"max_epochs": 6} if QUICK else {}


def main():
    X, y = load_digits(return_X_y=True)
    # Pixel intensities run from 0 to 16: divided by 16 they lie in [0, 1],
    # which the clusterer reconstructs with a Bernoulli likelihood. (A
    # per-pixel MinMaxScaler would stretch the rarely inked border pixels to
    # the same range as the strokes.)
    X = X / 16.0
    rows = []
    for name, model in [
        ("KMeans", KMeans(n_clusters=10, n_init=10, random_state=0)),
        ("NebulaVariationalClusterer",
         NebulaVariationalClusterer(n_anchors=10, random_state=0, **QUICK_PARAMS)),
    ]:
        start = time.perf_counter()
        labels = model.fit_predict(X)
        seconds = time.perf_counter() - start
        rows.append((name, clustering_accuracy(y, labels), normalized_mutual_info_score(y, labels), seconds))

    print(f"digits: {X.shape[0]} images of 8x8 pixels, 10 classes")
    print(f"{'method':<28} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
    for name, acc, nmi, seconds in rows:
        print(f"{name:<28} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")


if __name__ == "__main__":
    main()
