"""Cluster sklearn's digits as 8x8 images with a convolutional encoder.

``encoder="conv2d"`` takes images of shape (n, H, W) (or (n, C, H, W)) and
mirrors its stride-2 convolutions in the decoder; pixels scaled to [0, 1]
get a Bernoulli reconstruction. Prints accuracy (Hungarian-matched) and NMI
against the true digits beside KMeans on the raw pixels; the labels are
used only to score. Runs offline in about one minute on two CPU cores.

    python examples/cluster_digits_conv2d.py
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


def main():
    X, y = load_digits(return_X_y=True)
    images = (X / 16.0).reshape(-1, 8, 8)  # (n, H, W): a channel axis is added inside
    models = [
        ("KMeans on pixels", KMeans(n_clusters=10, n_init=10, random_state=0), images.reshape(len(X), -1)),
        (
            "NVC, conv2d encoder",
            NebulaVariationalClusterer(
                n_anchors=10, encoder="conv2d", hidden_dims=(32, 64), max_epochs=4 if QUICK else 150, random_state=0
            ),
            images,
        ),
    ]
    print(f"digits: {images.shape[0]} images of {images.shape[1]}x{images.shape[2]} pixels, 10 classes")
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
