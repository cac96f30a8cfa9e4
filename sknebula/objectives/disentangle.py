"""Label relevant / irrelevant VAE terms (Zheng & Sun, CVPR 2019).

Pure torch functions on posterior means ``mu`` and log-variances ``logvar``
(``(n, d)``), class means ``(C, d)`` and integer labels ``(n,)``. Every
per-sample term returns ``(n,)``.
"""

import math

import torch
import torch.nn.functional as F

from .reconstruction import reconstruction_nll


def kl_standard_normal(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)), ``(n,)``.

    Closed form: 0.5 * sum_j (exp(logvar_j) + mu_j^2 - 1 - logvar_j).
    """
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).sum(1)


def kl_to_class_mean(mu, logvar, class_means, y):
    """KL(N(mu, diag exp(logvar)) || N(m_y, I)) to each sample's class mean, ``(n,)``.

    Closed form: 0.5 * sum_j (exp(logvar_j) + (mu_j - m_yj)^2 - 1 - logvar_j).
    """
    return kl_standard_normal(mu - class_means[y], logvar)


def class_logits(z, class_means):
    """log N(z; m_c, I) up to a constant shared by all classes, ``(n, C)``.

    ``-||z - m_c||^2 / 2``: the log-posterior of component ``c`` of the
    equal-weight mixture ``sum_c N(m_c, I)``, before normalisation.
    """
    return -0.5 * torch.cdist(z, class_means).pow(2)


def class_log_posterior(z, class_means):
    """log p(c | z) under the equal-weight class mixture, ``(n, C)``."""
    return F.log_softmax(class_logits(z, class_means), dim=1)


def classification_nll(z, class_means, y):
    """Cross-entropy of the true class under p(c | z), ``(n,)``."""
    return F.cross_entropy(class_logits(z, class_means), y, reduction="none")


def uniform_cross_entropy(logits):
    """Cross-entropy of a uniform target under softmax(logits), ``(n,)``.

    ``-(1/C) sum_c log p_c``; minimal (``log C``) when the prediction is
    uniform, i.e. when the logits say nothing about the class.
    """
    return -F.log_softmax(logits, dim=1).mean(1)


class DisentangleLoss(torch.nn.Module):
    """The training objective of :class:`~sknebula.LabelDisentangledVAE`.

    Called as ``criterion(out, target, module)`` with ``out`` the module's
    forward dict and ``target = {"x": reconstruction target, "y": labels}``.
    Per sample::

        rec(x | z_s, z_u)
          + beta * [KL(q(z_s|x) || N(m_y, I)) + KL(q(z_u|x) || N(0, I))]
          + classification_weight * CE(y, softmax_c(-||z_s - m_c||^2 / 2))
          + adversarial_weight * [CE(y, A(sg(mu_u))) + CE(uniform, A_sg(mu_u))]

    where ``m_c`` are the class means, ``A`` the adversary that predicts the
    class from the z_u mean (trained on a stop-gradient input), and ``A_sg``
    the same adversary with stop-gradient weights, so that the second term
    trains only the z_u encoder, toward predictions that carry no label.
    ``z_s`` is the reparameterised sample. The module stops the
    reconstruction gradient at ``z_s`` (see
    :class:`~sknebula.nn.disentangle.LabelDisentangledModule`). Returns a dict of batch means with
    the total under ``"loss"``.
    """

    def __init__(
        self,
        reconstruction="bernoulli",
        beta=1.0,
        classification_weight=1.0,
        adversarial_weight=1.0,
    ):
        super().__init__()
        self.reconstruction = reconstruction
        self.beta = beta
        self.classification_weight = classification_weight
        self.adversarial_weight = adversarial_weight

    def forward(self, out, target, module):
        x, y = target["x"], target["y"].long()
        means = module.class_means
        terms = {
            "reconstruction": reconstruction_nll(
                self.reconstruction, out["recon"], x
            ).mean(),
            "kl_s": kl_to_class_mean(out["mu_s"], out["logvar_s"], means, y).mean(),
            "kl_u": kl_standard_normal(out["mu_u"], out["logvar_u"]).mean(),
            "classification": classification_nll(out["z_s"], means, y).mean(),
        }
        loss = (
            terms["reconstruction"]
            + self.beta * (terms["kl_s"] + terms["kl_u"])
            + self.classification_weight * terms["classification"]
        )
        if module.adversary is not None and self.adversarial_weight > 0:
            mu_u = out["mu_u"]
            adv = F.cross_entropy(module.adversary_logits(mu_u.detach()), y)
            # Reported as the excess over the uniform prediction's log C.
            fool = uniform_cross_entropy(module.adversary_logits(mu_u, frozen=True)).mean()
            terms["adversary"] = adv
            terms["confusion"] = fool - math.log(means.shape[0])
            loss = loss + self.adversarial_weight * (adv + fool)
        terms["loss"] = loss
        return terms
