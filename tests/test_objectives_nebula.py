"""Unit tests of the NVC objective terms (pure torch)."""

import math

import pytest
import torch

from sknebula.objectives.contrastive import info_nce
from sknebula.objectives.nebula import (
    NebulaLoss,
    anchor_log_responsibilities,
    anchor_triplet,
    assignment_balance,
    assignment_consistency,
    kl_to_anchors,
    nearest_other_anchor,
)
from sknebula.objectives.reconstruction import bernoulli_nll, gaussian_nll


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    anchors = torch.randn(4, 3, generator=g)
    ours = kl_to_anchors(mu, logvar, anchors)
    q = torch.distributions.Normal(mu[:, None], (0.5 * logvar).exp()[:, None])
    p = torch.distributions.Normal(anchors[None], torch.ones(1))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)


def test_kl_is_zero_only_at_the_anchor_with_unit_variance():
    anchors = torch.tensor([[1.0, -2.0], [0.0, 0.0]])
    kl = kl_to_anchors(anchors[:1], torch.zeros(1, 2), anchors)
    assert kl[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert kl[0, 1] == pytest.approx(0.5 * 5.0)


def test_triplet_zero_when_separated_by_margin_and_positive_otherwise():
    anchors = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    pos, neg = torch.tensor([0]), torch.tensor([1])
    near_pos = torch.tensor([[0.5, 0.0]])  # d_pos=0.5, d_neg=3.5: gap 3 > margin 1
    assert anchor_triplet(near_pos, anchors, pos, neg, margin=1.0).item() == 0.0
    middle = torch.tensor([[2.0, 0.0]])  # equidistant: loss = margin
    assert anchor_triplet(middle, anchors, pos, neg, margin=1.0).item() == pytest.approx(1.0)
    assert anchor_triplet(near_pos, anchors, pos, neg, margin=4.0).item() == pytest.approx(1.0)


def test_nearest_other_anchor_skips_the_excluded_one():
    anchors = torch.tensor([[0.0], [1.0], [5.0]])
    mu = torch.tensor([[0.1], [0.9]])
    other = nearest_other_anchor(mu, anchors, torch.tensor([0, 1]))
    assert other.tolist() == [1, 0]


def test_responsibilities_are_a_softmax_of_half_squared_distances():
    anchors = torch.tensor([[0.0], [2.0]])
    log_p = anchor_log_responsibilities(torch.tensor([[0.0]]), anchors)
    p = log_p.exp()
    assert p.sum().item() == pytest.approx(1.0)
    assert (p[0, 0] / p[0, 1]).item() == pytest.approx(math.exp(2.0), rel=1e-5)


def test_balance_zero_when_uniform_and_log_k_when_collapsed():
    uniform = torch.full((6, 3), 1 / 3).log()
    collapsed = torch.log(torch.tensor([[1.0, 1e-12, 1e-12]]).repeat(6, 1))
    assert assignment_balance(uniform).item() == pytest.approx(0.0, abs=1e-6)
    assert assignment_balance(collapsed).item() == pytest.approx(math.log(3), abs=1e-4)


def test_consistency_lower_for_agreeing_assignments():
    sure_a = torch.log(torch.tensor([[0.98, 0.01, 0.01]]))
    sure_b = torch.log(torch.tensor([[0.01, 0.98, 0.01]]))
    assert assignment_consistency(sure_a, sure_a) < assignment_consistency(sure_a, sure_b)


def test_info_nce_prefers_aligned_partners():
    g = torch.Generator().manual_seed(1)
    u = 3 * torch.randn(8, 4, generator=g)
    aligned = info_nce(u, u + 0.01).mean()
    shuffled = info_nce(u, u[torch.randperm(8, generator=g)] + 0.01).mean()
    assert aligned < shuffled


def test_reconstruction_nlls_are_minimal_at_the_target():
    x = torch.tensor([[0.0, 1.0, 1.0]])
    assert bernoulli_nll(torch.tensor([[-9.0, 9.0, 9.0]]), x) < bernoulli_nll(torch.zeros(1, 3), x)
    assert gaussian_nll(x, x).item() == pytest.approx(1.5 * math.log(2 * math.pi))


class _Module(torch.nn.Module):
    def __init__(self, anchors, ready):
        super().__init__()
        self.anchors = torch.nn.Parameter(anchors)
        self.register_buffer("anchors_ready", torch.tensor(ready))
        self.anchors_placed = ready
        self.register_buffer("scale", torch.tensor(1.0))


def _outputs(requires_grad=True):
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(16, 2, generator=g, requires_grad=requires_grad)
    return {
        "mu": mu,
        "logvar": torch.zeros(16, 2),
        "z": mu,
        "recon": torch.zeros(16, 3),
        "partner_mu": mu + 0.1,
    }, torch.rand(16, 3, generator=g)


def test_anchors_receive_gradients_in_the_nebula_phase():
    module = _Module(torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, 2.0]]), True)
    out, target = _outputs()
    terms = NebulaLoss()(out, target, module)
    terms["loss"].backward()
    assert {"reconstruction", "kl", "metric", "consistency", "balance"} <= set(terms)
    assert module.anchors.grad is not None
    assert module.anchors.grad.abs().sum() > 0
    assert out["mu"].grad.abs().sum() > 0


def test_the_nebula_phase_adds_the_anchor_terms_to_the_contrastive_warmup_loss():
    loss = NebulaLoss(contrastive_weight=3.0, beta=0.5, metric_weight=2.0,
                      consistency_weight=0.7, balance_weight=4.0)
    out, target = _outputs()
    terms = loss(out, target, _Module(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]), True))
    expected = (terms["reconstruction"] + 3.0 * terms["contrastive"] + 0.5 * terms["kl"]
                + 2.0 * terms["metric"] + 0.7 * terms["consistency"] + 4.0 * terms["balance"])
    assert torch.isclose(terms["loss"], expected)
    assert terms["contrastive"] == info_nce(out["mu"], out["partner_mu"]).mean()


def test_warmup_phase_leaves_anchors_out():
    module = _Module(torch.zeros(3, 2), False)
    out, target = _outputs()
    terms = NebulaLoss()(out, target, module)
    terms["loss"].backward()
    assert set(terms) == {"reconstruction", "contrastive", "loss"}
    assert module.anchors.grad is None


def test_warmup_without_partner_is_reconstruction_only():
    module = _Module(torch.zeros(3, 2), False)
    out, target = _outputs()
    del out["partner_mu"]
    terms = NebulaLoss()(out, target, module)
    assert set(terms) == {"reconstruction", "loss"}
    assert terms["loss"] == terms["reconstruction"]


def test_gaussian_nll_is_invariant_to_the_data_units_up_to_a_constant():
    g = torch.Generator().manual_seed(0)
    mean, target = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    unit = gaussian_nll(mean, target)
    scaled = gaussian_nll(1000 * mean, 1000 * target, 1000.0)
    torch.testing.assert_close(scaled - unit, torch.full((8,), 5 * math.log(1000.0)))


def test_reconstruction_weight_scales_the_reconstruction_in_the_loss_only():
    module = _Module(torch.zeros(3, 2), False)
    out, target = _outputs()
    del out["partner_mu"]
    full = NebulaLoss(reconstruction="gaussian")(out, target, module)
    half = NebulaLoss(reconstruction="gaussian", reconstruction_weight=0.5)(out, target, module)
    assert half["reconstruction"] == full["reconstruction"]  # history keeps nats
    assert half["loss"] == pytest.approx(0.5 * full["loss"].item())
