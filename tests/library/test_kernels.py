"""Sampling kernels: values, subgradients and their agreement with finite differences."""

import pytest
import torch

from stnlib.kernels import BICUBIC_A, KERNELS, get_kernel


def test_bilinear_is_the_tent_of_eq5():
    d = torch.tensor([-1.5, -1.0, -0.25, 0.0, 0.5, 1.0, 2.0])
    assert torch.equal(KERNELS["bilinear"].weight(d), torch.tensor([0, 0, 0.75, 1, 0.5, 0, 0.0]))


def test_bicubic_matches_keys_kernel_and_interpolates():
    k = KERNELS["bicubic"]
    d = torch.tensor([0.0, 1.0, 2.0, -1.0, 3.0], dtype=torch.float64)
    assert torch.equal(k.weight(d), torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0], dtype=torch.float64))
    t = torch.tensor(0.3, dtype=torch.float64)
    a = BICUBIC_A
    assert k.weight(t).item() == pytest.approx((a + 2) * 0.3**3 - (a + 3) * 0.3**2 + 1)
    # partition of unity: the four taps of any position sum to one
    x = torch.rand(100, dtype=torch.float64) * 10
    taps = k.taps(x)
    assert torch.allclose(k.weight(x[:, None] - taps).sum(-1), torch.ones(100, dtype=torch.float64))


@pytest.mark.parametrize("name", ["bilinear", "bicubic"])
def test_weights_sum_to_one_over_taps(name):
    k = KERNELS[name]
    x = torch.rand(1000, dtype=torch.float64) * 20 - 10
    w = k.weight(x[:, None] - k.taps(x))
    assert torch.allclose(w.sum(-1), torch.ones(1000, dtype=torch.float64))


@pytest.mark.parametrize("name", ["nearest", "bilinear", "bicubic"])
def test_derivative_matches_finite_differences_away_from_kinks(name):
    k = KERNELS[name]
    d = torch.linspace(-2.5, 2.5, 1001, dtype=torch.float64)
    kinks = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], dtype=torch.float64)
    d = d[(d[:, None] - kinks).abs().min(1).values > 1e-3]
    h = 1e-6
    fd = (k.weight(d + h) - k.weight(d - h)) / (2 * h)
    assert torch.allclose(k.derivative(d), fd, atol=1e-6)


def test_bilinear_subgradient_is_the_right_derivative_at_kinks():
    k = KERNELS["bilinear"]
    kinks = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    h = 1e-9
    right = (k.weight(kinks + h) - k.weight(kinks)) / h
    assert torch.allclose(k.derivative(kinks), right, atol=1e-6)
    assert k.derivative(kinks).tolist() == [1.0, -1.0, 0.0]


@pytest.mark.parametrize("name", ["nearest", "bilinear", "bicubic"])
def test_autograd_uses_the_documented_derivative(name):
    k = KERNELS[name]
    d = torch.linspace(-2.5, 2.5, 41, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(k(d).sum(), d)
    assert torch.equal(grad, k.derivative(d.detach()))


def test_nearest_rounds_half_to_even_like_grid_sample():
    k = KERNELS["nearest"]
    assert k.taps(torch.tensor([0.5, 1.5, 2.4, 2.6])).squeeze(-1).tolist() == [0.0, 2.0, 2.0, 3.0]


def test_support_sizes():
    assert {n: k.support for n, k in KERNELS.items()} == {"nearest": 1, "bilinear": 2, "bicubic": 4}
    assert get_kernel(KERNELS["bilinear"]) is KERNELS["bilinear"]
