"""
Choosing the number of anchors without labels
=============================================

:class:`~sknebula.NebulaVariationalClusterer` needs a number of nebula
anchors, ``n_anchors``. Without labels, it can be chosen by cross-validation
with an unsupervised score, exactly like any other scikit-learn
hyper-parameter: ``GridSearchCV(scoring=...)`` with the scorers of
:mod:`sknebula.metrics`:

* ``latent_silhouette``: silhouette of the model's own clusters in its
  latent space, on the held-out fold;
* ``elbo``: mean held-out evidence lower bound (``score_samples``);
* ``penalised_elbo``: the ELBO minus a BIC penalty of ``p / 2 * log(n)``
  for the ``p`` anchor parameters.

Once a model has enough anchors the scores plateau (surplus anchors split a
group or stay nearly empty), and where exactly a plateau peaks is noise.
:func:`~sknebula.model_selection.parsimonious_refit` therefore refits the
*smallest* ``n_anchors`` whose mean score is within one standard deviation
of the best.

The data: 900 points from 4 Gaussian blobs in 10 dimensions. The labels are
used only for the final check.
"""

# %%
# Cross-validate ``n_anchors`` with the three scorers
# ---------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import UNSUPERVISED_SCORERS
from sknebula.model_selection import parsimonious_refit
from sknebula.plotting import LatentSpaceDisplay

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

X, y = make_blobs(n_samples=900, centers=4, n_features=10, random_state=1)
X = StandardScaler().fit_transform(X)

grid = [2, 3, 4, 5, 6, 8]
search = GridSearchCV(
    NebulaVariationalClusterer(hidden_dims=(32,), latent_dim=4, max_epochs=40, random_state=0),
    {"n_anchors": grid},
    scoring=UNSUPERVISED_SCORERS,
    refit=parsimonious_refit("latent_silhouette"),
    cv=KFold(3, shuffle=True, random_state=0),
)
search.fit(X)

for name in UNSUPERVISED_SCORERS:
    chosen = grid[parsimonious_refit(name)(search.cv_results_)]
    print(f"{name:>18}: n_anchors = {chosen}")
print(f"refitted model: n_anchors = {search.best_params_['n_anchors']}, "
      f"{search.best_estimator_.n_clusters_} clusters (true: 4)")

# %%
# The scores against the number of anchors
# ----------------------------------------
# Each panel shows the mean held-out score over the three folds, with one
# standard deviation; the dashed line marks the true number of blobs.
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
for ax, name in zip(axes, UNSUPERVISED_SCORERS):
    mean = search.cv_results_[f"mean_test_{name}"]
    std = search.cv_results_[f"std_test_{name}"]
    ax.errorbar(grid, mean, yerr=std, marker="o", capsize=3)
    ax.axvline(4, color="grey", linestyle="--")
    ax.set_xlabel("n_anchors")
    ax.set_title(name)
axes[0].set_ylabel("held-out score (higher is better)")
plt.show()

# %%
# The selected model's latent space
# ---------------------------------
# The refitted model, its anchors (crosses) and its clusters, in the first
# two principal components of the latent means; the ARI compares the
# clusters with the true blobs.
best = search.best_estimator_
print(f"ARI against the true blobs: {adjusted_rand_score(y, best.labels_):.3f}")
disp = LatentSpaceDisplay.from_estimator(best, X)
plt.show()
