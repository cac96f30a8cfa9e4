"""The Power Spherical distribution against integration, limits and sampling."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from sknebula.objectives import spherical


def _t(v):
    return torch.tensor(v, dtype=torch.float64)


@pytest.mark.parametrize("kappa", [0.0, 0.5, 3.0, 20.0])
def test_normaliser_matches_integration_on_s2(kappa):
    # Integrate (1 + mu.x)^kappa over S^2 in spherical coordinates around mu = e_z.
    value, _ = integrate.dblquad(
        lambda theta, phi: (1 + math.cos(theta)) ** kappa * math.sin(theta),
        0, 2 * math.pi, 0, math.pi,
    )
    log_n = spherical.log_normalizer(_t(kappa), 3).item()
    assert log_n == pytest.approx(math.log(value), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("dim", [2, 4, 7, 16])
@pytest.mark.parametrize("kappa", [0.0, 1.0, 10.0])
def test_normaliser_matches_one_dimensional_integral(dim, kappa):
    # |S^(d-2)| * int_{-1}^{1} (1 + t)^kappa (1 - t^2)^((d - 3) / 2) dt
    log_area = spherical.log_sphere_area(dim - 1)
    value, _ = integrate.quad(
        lambda t: (1 + t) ** kappa * (1 - t * t) ** ((dim - 3) / 2), -1, 1, limit=200
    )
    expected = log_area + math.log(value)
    assert spherical.log_normalizer(_t(kappa), dim).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("dim", [2, 3, 10, 64])
def test_kappa_zero_is_uniform(dim):
    zero = _t(0.0)
    log_area = spherical.log_sphere_area(dim)
    assert spherical.log_normalizer(zero, dim).item() == pytest.approx(log_area)
    assert spherical.entropy(zero, dim).item() == pytest.approx(log_area)
    assert spherical.kl_to_uniform(zero, dim).item() == pytest.approx(0.0, abs=1e-10)
    assert spherical.mean_cosine(zero, dim).item() == 0.0


def test_entropy_falls_and_kl_grows_with_kappa():
    kappa = _t([0.0, 0.1, 1.0, 10.0, 100.0, 1e4])
    h = spherical.entropy(kappa, 5)
    assert (h.diff() < 0).all()
    kl = spherical.kl_to_uniform(kappa, 5)
    assert (kl >= -1e-12).all() and (kl.diff() > 0).all()


def test_entropy_matches_monte_carlo():
    torch.manual_seed(0)
    dim, kappa = 6, 4.0
    mu = torch.nn.functional.normalize(torch.randn(1, dim, dtype=torch.float64), dim=1)
    x = spherical.rsample(mu.expand(200_000, dim), _t(kappa).expand(200_000))
    mc = -spherical.log_prob(x, mu, _t(kappa)).mean().item()
    assert mc == pytest.approx(spherical.entropy(_t(kappa), dim).item(), abs=0.01)


@pytest.mark.parametrize("dim", [2, 3, 8, 50])
def test_rsample_on_sphere_with_the_right_mean(dim):
    torch.manual_seed(1)
    n, kappa = 40_000, 7.0
    mu = torch.nn.functional.normalize(torch.randn(1, dim, dtype=torch.float64), dim=1)
    x = spherical.rsample(mu.expand(n, dim), _t(kappa).expand(n))
    np.testing.assert_allclose(x.norm(dim=1).numpy(), 1.0, atol=1e-10)
    expected = spherical.mean_cosine(_t(kappa), dim).item()
    assert (x @ mu.T).mean().item() == pytest.approx(expected, abs=0.01)
    # The mean vector points along mu (the spread around it is symmetric).
    mean = x.mean(0)
    assert torch.nn.functional.cosine_similarity(mean, mu[0], dim=0).item() > 0.99


def test_large_kappa_samples_the_mean_direction():
    torch.manual_seed(2)
    mu = torch.nn.functional.normalize(torch.randn(5, 16, dtype=torch.float64), dim=1)
    x = spherical.rsample(mu, _t(1e6).expand(5))
    assert ((x * mu).sum(1) > 0.999).all()
    # mu = e_1 exactly (no Householder reflection needed) still works.
    e1 = torch.zeros(3, 4, dtype=torch.float64)
    e1[:, 0] = 1
    assert ((spherical.rsample(e1, _t(1e6).expand(3)) * e1).sum(1) > 0.999).all()


def test_rsample_is_reparameterised():
    torch.manual_seed(3)
    raw = torch.randn(8, 5, dtype=torch.float64, requires_grad=True)
    kappa = torch.full((8,), 3.0, dtype=torch.float64, requires_grad=True)
    x = spherical.rsample(torch.nn.functional.normalize(raw, dim=1), kappa)
    x[:, 0].sum().backward()
    assert raw.grad.abs().sum() > 0 and kappa.grad.abs().sum() > 0


def test_log_prob_integrates_to_one_on_the_circle():
    mu = _t([[0.6, 0.8]])
    for kappa in (0.3, 5.0):
        value, _ = integrate.quad(
            lambda a: math.exp(
                spherical.log_prob(_t([[math.cos(a), math.sin(a)]]), mu, _t([kappa])).item()
            ),
            0, 2 * math.pi,
        )
        assert value == pytest.approx(1.0, rel=1e-6)


def test_vi_simsiam_loss_terms_and_kappa_optimum():
    torch.manual_seed(4)
    p = torch.randn(6, 8, dtype=torch.float64)
    z = p + 0.3 * torch.randn(6, 8, dtype=torch.float64)
    kappa = torch.full((6,), 10.0, dtype=torch.float64)
    loss, align, kterm = spherical.vi_simsiam_loss(p, p, z, z, kappa, kappa)
    np.testing.assert_allclose(loss.numpy(), (align + kterm).numpy())
    direct = -spherical.log_prob(
        torch.nn.functional.normalize(z, dim=1), torch.nn.functional.normalize(p, dim=1), kappa
    )
    np.testing.assert_allclose(loss.numpy(), direct.numpy(), rtol=1e-6)
    # The loss as a function of kappa has an interior minimum where
    # log((1 + c) / 2) = digamma(a) - digamma(a + b), not at infinity.
    cos = torch.nn.functional.cosine_similarity(p[:1], z[:1]).item()
    grid = torch.logspace(-1, 5, 2000, dtype=torch.float64)
    values = spherical.vi_simsiam_loss(
        p[:1].expand(2000, 8), p[:1].expand(2000, 8), z[:1].expand(2000, 8),
        z[:1].expand(2000, 8), grid, grid,
    )[0]
    best = grid[values.argmin()].item()
    assert 0.1 < best < 1e5
    a, b = 3.5 + best, 3.5
    lhs = math.log((1 + cos) / 2)
    rhs = torch.digamma(_t(a)).item() - torch.digamma(_t(a + b)).item()
    assert lhs == pytest.approx(rhs, abs=0.02)


def test_target_gets_no_gradient():
    p = torch.randn(4, 6, requires_grad=True)
    z = torch.randn(4, 6, requires_grad=True)
    kappa = torch.ones(4, requires_grad=True)
    loss = spherical.vi_simsiam_loss(p, p, z, z, kappa, kappa)[0].sum()
    loss.backward()
    assert z.grad is None and p.grad.abs().sum() > 0 and kappa.grad.abs().sum() > 0


def test_normaliser_matches_gamma_function_form():
    # log N(kappa, 3) = log(2^(kappa+2) pi / (kappa + 1)) on S^2.
    for kappa in (0.0, 2.5, 40.0):
        expected = (kappa + 2) * math.log(2) + math.log(math.pi) - math.log(kappa + 1)
        assert spherical.log_normalizer(_t(kappa), 3).item() == pytest.approx(expected)
