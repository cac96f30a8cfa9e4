"""
Clustering digits with nebula anchors, and looking inside the model
===================================================================

:class:`~sknebula.NebulaVariationalClusterer` on scikit-learn's 8x8
handwritten digits, then the three displays of :mod:`sknebula.plotting`:
the latent space with its anchors, the training curves of every term of
the objective, and reconstructions. The labels are used only to score.
"""

# %%
# Fit
# ---
# The digits are scaled to [0, 1], so the decoder uses a Bernoulli
# likelihood. Everything else is at its default.
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from sknebula import NebulaVariationalClusterer
from sknebula.metrics import clustering_accuracy
from sknebula.plotting import LatentSpaceDisplay, ReconstructionDisplay, plot_history

torch.set_num_threads(1)  # results are reproducible for a fixed thread count

X, y = load_digits(return_X_y=True)
X = X / 16.0
nvc = NebulaVariationalClusterer(n_anchors=10, random_state=0).fit(X)
print(f"accuracy {clustering_accuracy(y, nvc.labels_):.3f}, "
      f"NMI {normalized_mutual_info_score(y, nvc.labels_):.3f}")

# %%
# The latent space
# ----------------
# Latent means of all digits in the first two principal components of the
# latent space, coloured by cluster; the crosses are the anchors, projected
# the same way.
disp = LatentSpaceDisplay.from_estimator(nvc, X)
plt.show()

# %%
# Coloured by the true digit instead (``y=``): where the clusters and the
# classes disagree.
disp = LatentSpaceDisplay.from_estimator(nvc, X, y=y, cmap="tab10")
plt.show()

# %%
# Training curves
# ---------------
# ``history_`` holds the epoch mean of every term. The warm-up (the first 75%
# of the epochs) trains reconstruction and the contrastive term; the anchor
# terms (KL, metric, consistency, balance) start once the anchors are placed.
display = plot_history(nvc, logy=True)
display.ax_.set_ylim(bottom=1e-3)
plt.show()

# %%
# Reconstructions and samples
# ---------------------------
# Top row: test digits; bottom row: the decoder's mean at the posterior mean.
disp = ReconstructionDisplay.from_estimator(nvc, X, n_images=10, random_state=0)
plt.show()

# %%
# New digits drawn from the anchor mixture (``sample``): pick an anchor by
# its mass, draw ``z ~ N(a_k, I)`` and decode.
images, anchors = nvc.sample(10)
fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for ax, image, anchor in zip(axes, images, anchors):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"anchor {anchor}", fontsize="small")
    ax.set_axis_off()
plt.show()
