"""Cluster occupancy volumes of generated solids with a 3-d convolutional
encoder.

:func:`sknebula.datasets.make_shape_volumes` voxelises solid spheres, cubes,
cylinders and tori, each randomly scaled, shifted and rotated, on a 12^3
grid with 2% of the voxels flipped. ``encoder="conv3d"`` takes volumes of
shape (n, D, H, W) (or (n, C, D, H, W)); with ``pool="max"`` its last
feature map is max-pooled, so where a pattern sits in the grid does not
matter. Occupancies in {0, 1} get a Bernoulli reconstruction.

Prints accuracy and NMI beside KMeans on the raw voxels and KMeans on the
latent of a plain autoencoder (the same network with every NVC term off).
The random rotations are the hard part: no encoder here is invariant to
them (see the data-kinds guide). Runs offline in one to two minutes on two CPU
cores, depending on the machine.

    python examples/volume_shapes.py
"""

import sys
import time

from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer
from sknebula.datasets import make_shape_volumes
from sknebula.metrics import clustering_accuracy

# ``--quick`` trains a few epochs only: a check that the script runs (the
# test suite uses it), not a result.
QUICK = "--quick" in sys.argv[1:]

PLAIN = dict(beta=0.0, metric_weight=0.0, contrastive_weight=0.0, consistency_weight=0.0, balance_weight=0.0)


def main():
    X, y = make_shape_volumes(400, size=12, random_state=0)
    common = dict(
        encoder="conv3d",
        encoder_params={"pool": "max"},
        hidden_dims=(16, 32),
        max_epochs=4 if QUICK else 100,
        random_state=0,
    )
    rows = []
    start = time.perf_counter()
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))
    rows.append(("KMeans on voxels", labels, time.perf_counter() - start))
    start = time.perf_counter()
    plain = NebulaAutoencoder(4, **common, **PLAIN).fit(X)
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(plain.transform(X))
    rows.append(("KMeans on plain AE", labels, time.perf_counter() - start))
    start = time.perf_counter()
    labels = NebulaVariationalClusterer(4, **common).fit_predict(X)
    rows.append(("NVC, conv3d", labels, time.perf_counter() - start))

    print(f"{len(X)} occupancy volumes of {X.shape[1]}^3 voxels, 4 solids, random poses")
    print(f"{'method':<20} {'ACC':>6} {'NMI':>6} {'fit s':>7}")
    for name, labels, seconds in rows:
        acc = clustering_accuracy(y, labels)
        nmi = normalized_mutual_info_score(y, labels)
        print(f"{name:<20} {acc:6.3f} {nmi:6.3f} {seconds:7.1f}")


if __name__ == "__main__":
    main()
