"""The reference sampler (eq. 3) against torch.nn.functional.grid_sample, values and gradients."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from helpers import off_integer_grid

from stnlib.kernels import KERNELS
from stnlib.sampler import (
    grid_sample_native,
    grid_sample_reference,
    normalize,
    sample,
    sample_1d,
    unnormalize,
)

KERNEL_NAMES = ["nearest", "bilinear", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]
SIZES = {"odd": (7, 9), "even": (8, 6)}
BATCH_CHANNELS = [(1, 1), (2, 3), (3, 2)]
TOL = {torch.float64: dict(rtol=1e-10, atol=1e-10), torch.float32: dict(rtol=1e-4, atol=5e-5)}


def _parity(U, grid, **opts):
    """Values and both gradients of reference and native for one random upstream gradient."""
    U = U.clone().requires_grad_()
    grid = grid.clone().requires_grad_()
    ref = grid_sample_reference(U, grid, **opts)
    nat = F.grid_sample(U, grid, mode=opts["kernel"], padding_mode=opts["padding_mode"],
                        align_corners=opts["align_corners"])
    upstream = torch.randn_like(ref)
    g_ref = torch.autograd.grad(ref, (U, grid), upstream)
    g_nat = torch.autograd.grad(nat, (U, grid), upstream)
    return (ref, nat), (g_ref[0], g_nat[0]), (g_ref[1], g_nat[1])


CASES = list(itertools.product(KERNEL_NAMES, PADDINGS, [True, False], SIZES, [torch.float32, torch.float64]))


@pytest.mark.parametrize("kernel,padding,align_corners,parity,dtype", CASES)
def test_reference_matches_grid_sample(kernel, padding, align_corners, parity, dtype, device="cpu"):
    H, W = SIZES[parity]
    N, C = BATCH_CHANNELS[CASES.index((kernel, padding, align_corners, parity, dtype)) % 3]
    U = torch.randn(N, C, H, W, dtype=dtype, device=device)
    # positions well outside the image too, so every padding rule is exercised
    grid = (torch.rand(N, 5, 4, 2, dtype=dtype, device=device) * 2.8 - 1.4)
    (ref, nat), (gu_ref, gu_nat), (gg_ref, gg_nat) = _parity(
        U, grid, kernel=kernel, padding_mode=padding, align_corners=align_corners)
    tol = TOL[dtype]
    torch.testing.assert_close(ref, nat, **tol, msg="forward values differ")
    torch.testing.assert_close(gu_ref, gu_nat, **tol, msg="dV/dU (eq. 6) differs")
    scale = max(H, W)  # grid gradients carry the pixel/normalized scale factor
    torch.testing.assert_close(gg_ref, gg_nat, rtol=tol["rtol"], atol=tol["atol"] * scale,
                               msg="dV/dgrid (eq. 7) differs")


@pytest.mark.parametrize("kernel,padding,align_corners",
                         list(itertools.product(KERNEL_NAMES, PADDINGS, [True, False])))
def test_parity_at_exact_pixel_positions(kernel, padding, align_corners):
    """At integer positions (the identity grid) both pick the same one-sided subgradient."""
    U = torch.randn(2, 2, 6, 7, dtype=torch.float64)
    ys, xs = torch.meshgrid(torch.arange(-1.0, 7), torch.arange(-1.0, 8), indexing="ij")
    grid = torch.stack([normalize(xs, 7, align_corners=align_corners),
                        normalize(ys, 6, align_corners=align_corners)], -1)
    grid = grid.to(torch.float64).expand(2, -1, -1, -1)
    (ref, nat), (gu_ref, gu_nat), (gg_ref, gg_nat) = _parity(
        U, grid, kernel=kernel, padding_mode=padding, align_corners=align_corners)
    torch.testing.assert_close(ref, nat)
    torch.testing.assert_close(gu_ref, gu_nat)
    torch.testing.assert_close(gg_ref, gg_nat)


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
def test_gather_equals_the_literal_dense_sum_of_eq3(kernel):
    """V_i = Σ_n Σ_m U_nm k(x_i − m) k(y_i − n) over *all* pixels, zero padding."""
    H, W = 5, 6
    U = torch.randn(1, 1, H, W, dtype=torch.float64)
    grid = off_integer_grid(1, 4, 3, H, W, align_corners=False, margin=1)
    x = unnormalize(grid[..., 0], W, align_corners=False).reshape(-1, 1, 1)
    y = unnormalize(grid[..., 1], H, align_corners=False).reshape(-1, 1, 1)
    n = torch.arange(H, dtype=torch.float64).view(1, H, 1)
    m = torch.arange(W, dtype=torch.float64).view(1, 1, W)
    k = KERNELS[kernel].weight
    dense = (U[0, 0] * k(x - m) * k(y - n)).sum((1, 2)).view(1, 1, 4, 3)
    ref = grid_sample_reference(U, grid, kernel=kernel, padding_mode="zeros", align_corners=False)
    torch.testing.assert_close(ref, dense)


@pytest.mark.parametrize("kernel,padding,align_corners",
                         list(itertools.product(KERNEL_NAMES, PADDINGS, [True, False])))
def test_gradcheck_reference_away_from_integer_positions(kernel, padding, align_corners):
    U = torch.randn(2, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    grid = off_integer_grid(2, 3, 4, 5, 6, align_corners=align_corners).requires_grad_()

    def fn(U, grid):
        return grid_sample_reference(U, grid, kernel=kernel, padding_mode=padding,
                                     align_corners=align_corners)

    assert torch.autograd.gradcheck(fn, (U, grid), eps=1e-6, atol=1e-5)


def test_gradcheck_fails_exactly_at_integer_positions_and_why():
    """At an integer position bilinear V(x) has a kink: its left and right derivatives differ.

    Finite differences (central) measure their average; the sampler returns the
    right derivative (the documented subgradient, as grid_sample). So gradcheck
    must fail there, and the analytic gradient must equal the one-sided slope.
    """
    U = torch.tensor([[[[0.0, 1.0, 5.0]]]], dtype=torch.float64)
    grid = torch.tensor([[[[0.0, 0.0]]]], dtype=torch.float64, requires_grad=True)  # x = 1 exactly

    def fn(grid):
        return grid_sample_reference(U, grid, kernel="bilinear", padding_mode="zeros",
                                     align_corners=True)

    assert not torch.autograd.gradcheck(fn, (grid,), eps=1e-6, atol=1e-5, raise_exception=False)
    (g,) = torch.autograd.grad(fn(grid).sum(), grid)
    dx_dgrid = (3 - 1) / 2  # unnormalize: x = (g + 1)(W − 1)/2
    assert g[0, 0, 0, 0].item() == pytest.approx((5.0 - 1.0) * dx_dgrid)  # right slope U_2 − U_1
    # away from the integer position (x = 1.3) the same check passes
    grid_off = torch.tensor([[[[0.3, 0.0]]]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (grid_off,), eps=1e-6, atol=1e-5)


def test_nearest_passes_no_gradient_to_the_grid():
    U = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    grid = off_integer_grid(1, 4, 4, 6, 6, align_corners=False).requires_grad_()
    V = grid_sample_reference(U, grid, kernel="nearest", padding_mode="zeros", align_corners=False)
    (g,) = torch.autograd.grad(V.sum(), grid)
    assert torch.count_nonzero(g) == 0


@pytest.mark.parametrize("sampler_name", ["native", "reference"])
def test_sample_dispatches_to_the_same_function(sampler_name):
    U = torch.randn(2, 3, 8, 8)
    grid = torch.rand(2, 4, 4, 2) * 2 - 1
    V = sample(U, grid, align_corners=False, sampler=sampler_name)
    torch.testing.assert_close(V, grid_sample_native(U, grid, align_corners=False))


@pytest.mark.parametrize("kernel,padding,align_corners",
                         list(itertools.product(KERNEL_NAMES, PADDINGS, [True, False])))
def test_sample_1d_parity_and_gradcheck(kernel, padding, align_corners):
    U = torch.randn(3, 2, 11, dtype=torch.float64, requires_grad=True)
    pos = off_integer_grid(3, 1, 7, 1, 11, align_corners=align_corners)[:, 0, :, 0]
    pos.requires_grad_()
    opts = dict(kernel=kernel, padding_mode=padding, align_corners=align_corners)
    ref = sample_1d(U, pos, sampler="reference", **opts)
    nat = sample_1d(U, pos, sampler="native", **opts)
    assert ref.shape == (3, 2, 7)
    torch.testing.assert_close(ref, nat)
    assert torch.autograd.gradcheck(lambda U, p: sample_1d(U, p, sampler="reference", **opts),
                                    (U, pos), eps=1e-6, atol=1e-5)


def test_1d_linear_interpolation_by_hand():
    U = torch.tensor([[[0.0, 10.0, 20.0, 40.0]]])
    pos = normalize(torch.tensor([[0.5, 2.25, 3.0]]), 4, align_corners=True)
    V = sample_1d(U, pos, align_corners=True, sampler="reference")
    torch.testing.assert_close(V, torch.tensor([[[5.0, 25.0, 40.0]]]))


@pytest.mark.parametrize("align_corners", [True, False])
def test_normalize_unnormalize_round_trip(align_corners):
    p = torch.linspace(-3, 12, 31, dtype=torch.float64)
    back = unnormalize(normalize(p, 10, align_corners=align_corners), 10, align_corners=align_corners)
    torch.testing.assert_close(back, p)
