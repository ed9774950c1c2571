"""Grid generators: agreement with PyTorch, identities, any output size, gradchecks."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from stnlib import grids
from stnlib.grids import (
    affine_grid,
    attention_grid,
    attention_theta,
    base_grid,
    make_grid_generator,
    projective_grid,
    regular_control_points,
    timewarp_grid,
    tps_grid,
    tps_weights,
)

SIZES = [(5, 7), (6, 6), (1, 4), (28, 28), (3, 1)]


@pytest.mark.parametrize("size,align_corners", list(itertools.product(SIZES, [True, False])))
def test_affine_grid_matches_pytorch(size, align_corners):
    theta = torch.randn(3, 2, 3, dtype=torch.float64)
    ours = affine_grid(theta, size, align_corners=align_corners)
    if align_corners and 1 in size:
        pytest.skip("F.affine_grid warns for unit-size grids with align_corners=True")
    torch.testing.assert_close(ours, F.affine_grid(theta, (3, 1) + size, align_corners=align_corners))


@pytest.mark.parametrize("align_corners", [True, False])
def test_base_grid_hits_pixel_centres(align_corners):
    G = base_grid((4, 5), align_corners=align_corners, dtype=torch.float64)
    if align_corners:
        assert G[0, 0].tolist() == [-1.0, -1.0] and G[-1, -1].tolist() == [1.0, 1.0]
    else:
        torch.testing.assert_close(G[0, 0], torch.tensor([-0.8, -0.75], dtype=torch.float64))


def test_attention_is_the_affine_of_eq2():
    p = torch.tensor([[0.5, 0.1, -0.2]])
    assert torch.equal(attention_theta(p), torch.tensor([[[0.5, 0, 0.1], [0, 0.5, -0.2]]]))
    torch.testing.assert_close(attention_grid(p, (4, 4), align_corners=False),
                               affine_grid(attention_theta(p), (4, 4), align_corners=False))


def test_projective_reduces_to_affine_when_last_row_is_identity():
    A = torch.randn(2, 2, 3, dtype=torch.float64)
    M = torch.cat([A, torch.tensor([[[0.0, 0, 1]]], dtype=torch.float64).expand(2, 1, 3)], 1)
    torch.testing.assert_close(projective_grid(M, (5, 6), align_corners=True),
                               affine_grid(A, (5, 6), align_corners=True))
    torch.testing.assert_close(projective_grid(M.reshape(2, 9)[:, :8], (5, 6), align_corners=True),
                               affine_grid(A, (5, 6), align_corners=True))


def test_projective_points_beyond_the_horizon_read_padding():
    """w = g x + h y + 1 ≤ 0 on part of the output: those points go far outside, never NaN."""
    M = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.5, 0.0, 1.0]]], dtype=torch.float64)
    g = projective_grid(M, (9, 9), align_corners=True)
    assert torch.isfinite(g).all()
    beyond = 1.5 * torch.linspace(-1, 1, 9, dtype=torch.float64) + 1 <= 1e-6  # columns with w ≤ 0
    assert (g[0][:, beyond] == grids.OUTSIDE).all()
    V = torch.nn.functional.grid_sample(torch.ones(1, 1, 5, 5, dtype=torch.float64), g, align_corners=True)
    assert (V[0, 0][:, beyond] == 0).all() and (V[0, 0][:, -1] > 0).all()


def test_projective_maps_straight_lines_to_straight_lines():
    M = torch.tensor([[[1.0, 0.2, 0.1], [0.1, 0.9, 0.0], [0.3, -0.2, 1.0]]], dtype=torch.float64)
    row = projective_grid(M, (7, 9), align_corners=True)[0, 3]  # one output row
    d = row[1:] - row[:1]
    cross = d[:, 0] * d[-1, 1] - d[:, 1] * d[-1, 0]
    assert cross.abs().max() < 1e-12


@pytest.mark.parametrize("n,align_corners", list(itertools.product([2, 3, 4, 5], [True, False])))
def test_tps_identity_when_displacements_are_zero(n, align_corners):
    cp = regular_control_points(n, dtype=torch.float64)
    g = tps_grid(torch.zeros(2, n * n, 2, dtype=torch.float64), cp, (9, 10),
                 align_corners=align_corners)
    assert torch.equal(g, base_grid((9, 10), align_corners=align_corners, dtype=torch.float64).expand(2, -1, -1, -1))


def test_tps_interpolates_its_control_points_and_reproduces_affine_maps():
    cp = regular_control_points(4, dtype=torch.float64)
    delta = torch.randn(16, 2, dtype=torch.float64) * 0.1
    M = tps_weights(cp, cp)
    torch.testing.assert_close(M @ delta, delta)  # passes through the control points
    A = torch.tensor([[0.2, -0.1], [0.05, 0.3]], dtype=torch.float64)
    lin = cp @ A.T + torch.tensor([0.1, -0.2], dtype=torch.float64)
    q = torch.rand(50, 2, dtype=torch.float64) * 2 - 1
    torch.testing.assert_close(tps_weights(cp, q) @ lin, q @ A.T + torch.tensor([0.1, -0.2], dtype=torch.float64))


def test_tps_module_matches_functional_and_caches():
    gen = make_grid_generator("tps", tps_points=3)
    d = torch.randn(2, 9, 2, dtype=torch.float64) * 0.1
    g1 = gen(d, (6, 8), align_corners=False)
    torch.testing.assert_close(g1, tps_grid(d, regular_control_points(3, dtype=torch.float64), (6, 8),
                                            align_corners=False))
    assert len(gen._cache) == 1
    gen(d, (6, 8), align_corners=False)
    assert len(gen._cache) == 1


@pytest.mark.parametrize("align_corners", [True, False])
def test_timewarp_identity_scale_and_shift(align_corners):
    p = torch.tensor([[1.0, 0.0], [0.5, 0.2]], dtype=torch.float64)
    g = timewarp_grid(p, 11, align_corners=align_corners)
    base = base_grid((1, 11), align_corners=align_corners, dtype=torch.float64)[0, :, 0]
    torch.testing.assert_close(g[0], base)
    torch.testing.assert_close(g[1], 0.5 * base + 0.2)


@pytest.mark.parametrize("transform", ["affine", "attention", "projective", "tps", "timewarp"])
@pytest.mark.parametrize("out_size", [(3, 4), (9, 7), (28, 28)])
def test_every_generator_makes_any_output_size(transform, out_size):
    gen = make_grid_generator(transform)
    theta = gen.unflatten(gen.identity(torch.float64).expand(2, -1).clone())
    size = out_size[1] if gen.ndim == 1 else out_size
    g = gen(theta, size, align_corners=False)
    assert g.shape == ((2, out_size[1]) if gen.ndim == 1 else (2, *out_size, 2))


def _gradcheck_generator(transform, theta):
    gen = make_grid_generator(transform)
    size = 6 if gen.ndim == 1 else (4, 5)
    assert torch.autograd.gradcheck(lambda t: gen(t, size, align_corners=False), (theta,))


@pytest.mark.parametrize("transform", ["affine", "attention", "projective", "tps", "timewarp"])
def test_gradcheck_grid_generators(transform):
    gen = make_grid_generator(transform)
    flat = gen.identity(torch.float64) + 0.1 * torch.randn(2, gen.n_params, dtype=torch.float64)
    _gradcheck_generator(transform, gen.unflatten(flat).detach().requires_grad_())


def test_registry_is_complete():
    assert set(grids.TRANSFORMS) == {"affine", "attention", "projective", "tps", "timewarp"}
