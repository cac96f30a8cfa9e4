"""
One-class anomaly detection on digits
=====================================

:class:`~sknebula.VariationalJointEmbedding` trains on the images of one
digit only (no labels), then scores a held-out half holding every digit:
``score_samples`` is higher for images like the training digit, and
``predict`` flags outliers (-1) with a threshold set by ``contamination``,
as in scikit-learn's :class:`~sklearn.ensemble.IsolationForest`, the
baseline here.
"""

# %%
# One detector per digit
# ----------------------
# The 8x8 images go in as ``(n, 8, 8)`` arrays so the views are image warps,
# without flips, which would turn digits into other shapes. The encoder is
# still the default MLP, which flattens each image: the estimator warns that
# the layout is lost, which here is meant, so the warning is silenced.
# Training is at the default ``max_epochs="auto"``.
#
# The table gives, for every digit, the AUROC of "is this the training
# digit" from each detector's scores on the held-out half.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import RocCurveDisplay, roc_auc_score
from sklearn.model_selection import train_test_split

from sknebula import VariationalJointEmbedding
from sknebula.augment import ImageAugment

torch.set_num_threads(1)  # results are reproducible for a fixed thread count
warnings.filterwarnings("ignore", message="encoder='mlp' flattens samples")


def detector():
    return VariationalJointEmbedding(
        augmentation=ImageAugment(flip=0.0), contamination=0.05, random_state=0
    )


X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
images = X_test.reshape(-1, 8, 8)

print("digit  AUROC VJE  AUROC IsolationForest")
aucs, detectors = [], {}
for digit in range(10):
    normal = X_train[y_train == digit]
    vje = detector().fit(normal.reshape(-1, 8, 8))
    forest = IsolationForest(random_state=0).fit(normal)
    detectors[digit] = vje, forest
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

# %%
# Flagging outliers
# -----------------
# ``predict`` returns +1 for images that look like the training digit and
# -1 for the others. With ``contamination=0.05`` the threshold,
# ``offset_``, is the 5% quantile of the training scores: one training
# image in twenty falls below it.
DIGIT = 3
vje, forest = detectors[DIGIT]
labels = vje.predict(images)
is_digit = y_test == DIGIT
print(
    f"trained on {DIGIT}s: {np.mean(labels[is_digit] == 1):.0%} of held-out {DIGIT}s kept, "
    f"{np.mean(labels[~is_digit] == -1):.0%} of other digits flagged"
)

# %%
# Left: the scores of the held-out images of the training digit and of the
# other digits, with the threshold; ``predict`` flags everything left of
# it. Right: the ROC curves of both detectors for the same digit.
scores = vje.score_samples(images)
fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(11, 4.2))
bins = np.histogram_bin_edges(scores, bins=40)
ax_hist.hist(scores[~is_digit], bins=bins, alpha=0.6, label="other digits")
ax_hist.hist(scores[is_digit], bins=bins, alpha=0.6, label=f"held-out {DIGIT}s")
ax_hist.axvline(vje.offset_, color="k", linestyle="--", label="threshold (offset_)")
ax_hist.set(xlabel="score_samples", ylabel="images", title=f"VJE trained on {DIGIT}s")
ax_hist.legend()
RocCurveDisplay.from_predictions(is_digit, scores, name="VJE", ax=ax_roc)
RocCurveDisplay.from_predictions(
    is_digit, forest.score_samples(X_test), name="IsolationForest", ax=ax_roc
)
ax_roc.set_title(f"Is this a {DIGIT}?")
fig.tight_layout()
plt.show()
