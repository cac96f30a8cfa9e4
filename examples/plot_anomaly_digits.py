"""One-class anomaly detection on digits with VariationalJointEmbedding.

Train on the images of one digit only (no labels), then score a held-out
half holding every digit: ``score_samples`` is higher for images like the
training digit, and ``predict`` flags outliers (-1) with a threshold set by
``contamination``, as in scikit-learn's IsolationForest. The 8x8 images go
in as ``(n, 8, 8)`` arrays so the views are image warps (without flips,
which would turn digits into other shapes).

Prints, for every digit, the AUROC of "is this the training digit" from
VJE's scores beside IsolationForest on the pixels, and for one digit how
``predict`` splits the held-out images. It runs offline, in about one to three
minutes on two CPU cores depending on the machine.

    python examples/anomaly_digits.py
"""

import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sknebula import VariationalJointEmbedding
from sknebula.augment import ImageAugment

# ``--quick`` trains a few epochs only: a check that the script runs (the
# test suite uses it), not a result.
QUICK = "--quick" in sys.argv[1:]


def detector(random_state=0):
    return VariationalJointEmbedding(
        augmentation=ImageAugment(flip=0.0),
        contamination=0.05,
        batch_size=32,
        max_epochs=3 if QUICK else 150,
        random_state=random_state,
    )


def main():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0
    )
    images = X_test.reshape(-1, 8, 8)

    start = time.perf_counter()
    print("digit  AUROC VJE  AUROC IsolationForest")
    aucs = []
    for digit in range(2 if QUICK else 10):
        normal = X_train[y_train == digit]
        vje = detector().fit(normal.reshape(-1, 8, 8))
        forest = IsolationForest(random_state=0).fit(normal)
        is_digit = y_test == digit
        aucs.append(
            (
                roc_auc_score(is_digit, vje.score_samples(images)),
                roc_auc_score(is_digit, forest.score_samples(X_test)),
            )
        )
        print(f"{digit:>5}  {aucs[-1][0]:9.3f}  {aucs[-1][1]:21.3f}")
    mean = np.mean(aucs, axis=0)
    print(f"mean AUROC: VJE {mean[0]:.3f}, IsolationForest {mean[1]:.3f}")

    # predict: +1 looks like the training digit, -1 does not.
    vje = detector().fit(X_train[y_train == 3].reshape(-1, 8, 8))
    labels = vje.predict(images)
    print(
        f"trained on 3s: {np.mean(labels[y_test == 3] == 1):.0%} of held-out 3s kept, "
        f"{np.mean(labels[y_test != 3] == -1):.0%} of other digits flagged"
    )
    print(f"total time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
