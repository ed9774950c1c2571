"""stnlib.equivariance against its formulas written out by hand (issue 25, mutation run of 2026-12-05):
``warp_map`` against ``affine_grid`` + ``grid_sample``; ``rotation_shift`` as R(p − c) + c + d;
``map_geometry`` layer by layer (padding, stride, nested blocks, element-wise layers); ``theta_on_map``
as the normalized inverse of G⁻¹MG; the border mask; ``misalignment`` recomputed with torch alone (masked
and unmasked, NaN where nothing is left); ``predicted_angle``; ``orthogonal_fit`` against the principal
axis of the covariance; every error message word for word."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib import equivariance as eq
from stnlib.theta import affine_theta

D = torch.float64


def _raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def data(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def sample(U, theta, padding="zeros"):
    grid = F.affine_grid(theta.expand(U.shape[0], 2, 3), list(U.shape), align_corners=False)
    return F.grid_sample(U, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def normalizer(n):
    """Normalized (align_corners=False) → pixel coordinates of an n-pixel side, 3×3."""
    return torch.tensor([[n / 2, 0, (n - 1) / 2], [0, n / 2, (n - 1) / 2], [0, 0, 1.0]], dtype=D)


def theta_by_hand(M, o, r, n):
    """θ = N⁻¹ (G⁻¹ M G)⁻¹ N: V(x) = map(M_map⁻¹ x), the map moved by M."""
    G = torch.tensor([[r, 0, o], [0, r, o], [0, 0, 1.0]], dtype=D)
    M_map = torch.linalg.inv(G) @ M @ G
    P = normalizer(n)
    return (torch.linalg.inv(P) @ torch.linalg.inv(M_map) @ P)[:2]


# ---------------------------------------------------------------- warp_map


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_warp_map_is_bilinear_grid_sample_at_the_maps_size(padding):
    U = data(3, 2, 7, 6)
    theta = torch.tensor([[0.8, -0.3, 0.25], [0.4, 0.9, -0.2]], dtype=D)
    torch.testing.assert_close(eq.warp_map(U, theta, padding_mode=padding), sample(U, theta, padding),
                               rtol=0, atol=1e-12)
    per_image = torch.stack([theta, 0.5 * theta, theta.flip(0)])
    torch.testing.assert_close(eq.warp_map(U, per_image, padding_mode=padding),
                               torch.cat([sample(U[i:i + 1], per_image[i], padding) for i in range(3)]),
                               rtol=0, atol=1e-12)


def test_warp_map_defaults_to_zeros_and_takes_theta_in_any_dtype():
    U = data(2, 1, 6, 6).float()
    theta = torch.tensor([[0.5, 0.0, 0.9], [0.0, 0.5, 0.0]], dtype=D)
    V = eq.warp_map(U, theta)
    assert V.dtype == torch.float32 and V.shape == U.shape
    torch.testing.assert_close(V, sample(U.double(), theta).float(), rtol=0, atol=1e-6)
    assert V[..., -1].abs().max() == 0  # reads beyond the right edge: zeros


# ---------------------------------------------------------------- rotation_shift


@pytest.mark.parametrize("angle,shift,size", [(30.0, (2.0, -1.0), 8), (-75.0, (0.0, 0.5), 11), (180.0, (3.0, 3.0), 6)])
def test_rotation_shift_turns_about_the_centre_then_shifts(angle, shift, size):
    M = eq.rotation_shift(angle, shift, size=size)
    assert M.dtype == D and M.shape == (3, 3)
    a, c = math.radians(angle), (size - 1) / 2
    R = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=D)
    p = torch.tensor([[0.0, 0.0], [1.0, 2.0], [size - 1.0, 3.0]], dtype=D)
    expected = (p - c) @ R.T + c + torch.tensor(shift, dtype=D)
    torch.testing.assert_close(p @ M[:2, :2].T + M[:2, 2], expected)
    torch.testing.assert_close(M[2], torch.tensor([0.0, 0.0, 1.0], dtype=D), rtol=0, atol=0)


def test_rotation_shift_defaults_are_the_identity_of_a_28_pixel_image():
    torch.testing.assert_close(eq.rotation_shift(), torch.eye(3, dtype=D), rtol=0, atol=1e-12)
    # the centre of a 28-pixel image (13.5) stays put under a default-size rotation
    M = eq.rotation_shift(40.0)
    torch.testing.assert_close(M @ torch.tensor([13.5, 13.5, 1.0], dtype=D), torch.tensor([13.5, 13.5, 1.0],
                                                                                          dtype=D))
    torch.testing.assert_close(eq.rotation_shift(0.0, (1.0, 2.0))[:2, 2], torch.tensor([1.0, 2.0], dtype=D))


# ---------------------------------------------------------------- map_geometry


def test_map_geometry_layer_by_layer():
    blocks = [
        nn.Sequential(nn.Conv2d(1, 2, 5, padding=1), nn.ReLU()),      # o 0+(2-1)=1, r 1, n 28+2-5+1=26
        nn.MaxPool2d(3, stride=2, padding=1),                          # o 1+(1-1)·1=1, r 2, n (26+2-3)//2+1=13
        nn.Sequential(nn.Sequential(nn.Conv2d(2, 2, 3, stride=2), nn.Tanh()), nn.AvgPool2d(2)),
        nn.Identity(),
    ]
    geo = eq.map_geometry(blocks, 28)
    # block 2: conv 3 stride 2: o 1+1·2=3, r 4, n (13-3)//2+1=6; avg pool 2: o 3+0.5·4=5, r 8, n 3
    assert geo == [(0.0, 1.0, 28), (1.0, 1.0, 26), (1.0, 2.0, 13), (5.0, 8.0, 3), (5.0, 8.0, 3)]
    assert all(type(g[2]) is int for g in geo)
    x = torch.rand(1, 1, 28, 28)
    for block, (_, _, n) in zip(blocks, geo[1:]):
        x = block(x)
        assert x.shape[-1] == n
    assert eq.map_geometry([], 16.0) == [(0.0, 1.0, 16)] and type(eq.map_geometry([], 16.0)[0][2]) is int


def test_map_geometry_skips_element_wise_layers():
    layers = [nn.ReLU(), nn.Identity(), nn.Tanh(), nn.Sigmoid(), nn.LeakyReLU(), nn.ELU()]
    assert eq.map_geometry(layers, 10) == [(0.0, 1.0, 10)] * 7
    assert eq.map_geometry([nn.Sequential(*layers)], 10) == [(0.0, 1.0, 10)] * 2


def test_map_geometry_errors():
    with _raises(ValueError, "map_geometry does not handle dilated convolutions"):
        eq.map_geometry([nn.Conv2d(1, 1, 3, dilation=2)], 16)
    with _raises(ValueError, "map_geometry does not handle dilated convolutions"):
        eq.map_geometry([nn.Sequential(nn.ReLU(), nn.Conv2d(1, 1, 3, dilation=(2, 1)))], 16)
    with _raises(ValueError, "map_geometry traces Conv2d, MaxPool2d, AvgPool2d and element-wise layers only, "
                             "got BatchNorm2d"):
        eq.map_geometry([nn.Sequential(nn.Conv2d(1, 1, 3), nn.BatchNorm2d(1))], 16)
    with _raises(ValueError, "map_geometry traces Conv2d, MaxPool2d, AvgPool2d and element-wise layers only, "
                             "got Linear"):
        eq.map_geometry([nn.Linear(2, 2)], 16)


# ---------------------------------------------------------------- theta_on_map and the border mask


@pytest.mark.parametrize("geometry", [(0.0, 1.0, 28), (4.5, 2.0, 10), (11.5, 4.0, 2), (1.0, 3.0, 7)])
def test_theta_on_map_is_the_normalized_inverse_of_the_map_transform(geometry):
    M = eq.rotation_shift(30.0, (2.0, -1.0), size=28)
    th = eq.theta_on_map(M, geometry)
    assert th.dtype == D and th.shape == (2, 3)
    torch.testing.assert_close(th, theta_by_hand(M, *geometry))
    torch.testing.assert_close(eq.theta_on_map(M.float(), geometry), th, rtol=0, atol=1e-6)


def test_theta_on_map_moves_a_map_by_whole_pixels():
    # stride-2 map whose pixel j sits on input pixel 1 + 2j: a 4-pixel input shift is 2 map pixels
    f = data(1, 1, 9, 9)
    th = eq.theta_on_map(eq.rotation_shift(0.0, (4.0, 0.0), size=20), (1.0, 2.0, 9))
    V = eq.warp_map(f, th)
    torch.testing.assert_close(V[..., 2:], f[..., :-2], rtol=0, atol=1e-12)
    assert V[..., :2].abs().max() == 0


def test_inside_marks_what_reads_on_the_map():
    like = torch.zeros(2, 3, 4, 4, dtype=torch.float32)
    shift = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]], dtype=D)  # one pixel right
    w = eq._inside(shift, like)
    assert w.shape == (2, 1, 4, 4) and w.dtype == torch.float32
    expected = torch.ones(4, 4)
    expected[:, 3] = 0
    torch.testing.assert_close(w[0, 0], expected, rtol=0, atol=0)
    # reading exactly on the outer edge (x = 0.75 + 0.25 = 1) is still inside
    edge = torch.tensor([[1.0, 0.0, 0.25], [0.0, 1.0, -0.25]], dtype=D)
    assert eq._inside(edge, like).min() == 1
    beyond = torch.tensor([[1.0, 0.0, 0.25 + 1e-6], [0.0, 1.0, 0.0]], dtype=D)
    assert eq._inside(beyond, like)[0, 0, :, 3].max() == 0 and eq._inside(beyond, like)[0, 0, :, :3].min() == 1
    down = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, -0.5]], dtype=D)  # one pixel up: row 0 reads outside
    assert eq._inside(down, like)[0, 0].sum(1).tolist() == [0.0, 4.0, 4.0, 4.0]


# ---------------------------------------------------------------- misalignment, recomputed


def misalignment_by_hand(maps, f, M, geometry, mask):
    n = f.shape[-1]
    Tf = sample(f, theta_by_hand(M, *geometry[0]))
    rows = []
    for g, a, b in zip(geometry, [Tf] + list(maps(Tf)), [f] + list(maps(f))):
        inv = torch.linalg.inv(torch.cat([theta_by_hand(M, *g), torch.tensor([[0, 0, 1.0]], dtype=D)]))[:2]
        back = sample(a, inv, "border")
        if mask:
            grid = F.affine_grid(inv.expand(len(a), 2, 3), list(a.shape), align_corners=False)
            w = (grid.abs() <= 1 + 1e-9).all(-1)[:, None].to(D)
        else:
            w = torch.ones_like(a[:, :1])
        diff = ((back - b) * w).flatten(1).norm(dim=1)
        ref = (b * w).flatten(1).norm(dim=1)
        rows.append(torch.where(ref > 0, diff / ref, torch.nan))
    assert n == geometry[0][2]
    return torch.stack(rows)


def _net():
    torch.manual_seed(0)
    conv1 = nn.Conv2d(1, 2, 3, padding=1).double()
    block2 = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(2)).double()
    return [conv1, block2], (lambda x: [conv1(x), block2(conv1(x))])


@pytest.mark.parametrize("mask", [True, False])
@pytest.mark.parametrize("angle,shift", [(30.0, (1.0, -2.0)), (90.0, (0.0, 0.0)), (0.0, (3.0, 1.0))])
def test_misalignment_is_the_relative_norm_of_the_difference(mask, angle, shift):
    blocks, maps = _net()
    f = data(2, 1, 16, 16) * (torch.arange(16.0, dtype=D) / 15)
    M = eq.rotation_shift(angle, shift, size=16)
    geo = eq.map_geometry(blocks, 16)
    assert geo == [(0.0, 1.0, 16), (0.0, 1.0, 16), (1.5, 2.0, 7)]
    m = eq.misalignment(maps, f, M, geo, mask_borders=mask)
    assert m.shape == (3, 2)
    torch.testing.assert_close(m, misalignment_by_hand(maps, f, M, geo, mask), rtol=1e-10, atol=1e-12)
    assert (m[1:] > 1e-3).all() and not torch.isnan(m).any()


def test_misalignment_masks_borders_by_default():
    blocks, maps = _net()
    f = data(2, 1, 16, 16)
    M = eq.rotation_shift(20.0, (2.0, 0.0), size=16)
    geo = eq.map_geometry(blocks, 16)
    torch.testing.assert_close(eq.misalignment(maps, f, M, geo), misalignment_by_hand(maps, f, M, geo, True),
                               rtol=1e-10, atol=1e-12)


def test_misalignment_without_geometry_for_same_size_maps():
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False).double()
    f = data(3, 1, 12, 12)
    M = eq.rotation_shift(25.0, (1.0, 0.0), size=12)
    m = eq.misalignment(lambda x: [conv(x), torch.relu(conv(x))], f, M)
    torch.testing.assert_close(m, misalignment_by_hand(lambda x: [conv(x), torch.relu(conv(x))], f, M,
                                                       [(0.0, 1.0, 12)] * 3, True), rtol=1e-10, atol=1e-12)


def test_misalignment_is_nan_where_nothing_is_left_to_compare():
    f = data(2, 1, 8, 8)
    m = eq.misalignment(lambda x: [torch.zeros_like(x)], f, eq.rotation_shift(30.0, size=8))
    assert not torch.isnan(m[0]).any() and torch.isnan(m[1]).all()
    far = eq.misalignment(lambda x: [x], f, eq.rotation_shift(0.0, (20.0, 0.0), size=8))  # all outside
    assert torch.isnan(far).all()
    unmasked = eq.misalignment(lambda x: [x], f, eq.rotation_shift(0.0, (20.0, 0.0), size=8), mask_borders=False)
    assert not torch.isnan(unmasked).any()


def test_misalignment_does_not_record_gradients():
    conv = nn.Conv2d(1, 1, 3, padding=1).double()
    m = eq.misalignment(lambda x: [conv(x)], data(1, 1, 8, 8), eq.rotation_shift(10.0, size=8))
    assert not m.requires_grad


def test_misalignment_errors():
    f = data(2, 1, 8, 8)
    M = eq.rotation_shift(10.0, size=8)
    with _raises(ValueError, "images must be N×C×H×W with H = W, got shape (2, 1, 8, 9)"):
        eq.misalignment(lambda x: [x], data(2, 1, 8, 9), M)
    with _raises(ValueError, "images must be N×C×H×W with H = W, got shape (1, 8, 8)"):
        eq.misalignment(lambda x: [x], data(1, 8, 8), M)
    with _raises(ValueError, "the maps are not the input's size: pass geometry=map_geometry(blocks, in_size), "
                             "where each map's pixels sit on the input"):
        eq.misalignment(lambda x: [x, x[..., :4, :4]], f, M)
    with _raises(ValueError, "geometry must have one entry per map plus the input (2), got 3"):
        eq.misalignment(lambda x: [x], f, M, [(0.0, 1.0, 8)] * 3)
    with _raises(ValueError, "a map has size 8, geometry says 5"):
        eq.misalignment(lambda x: [x], f, M, [(0.0, 1.0, 8), (0.0, 1.0, 5)])
    with _raises(ValueError, "a map has size 8, geometry says 6"):
        eq.misalignment(lambda x: [x], f, M, [(0.0, 1.0, 6), (0.0, 1.0, 8)])


# ---------------------------------------------------------------- predicted_angle, orthogonal_fit


def test_predicted_angle_is_minus_the_angle_of_the_forward_map():
    theta = affine_theta(torch.tensor([-40.0, 25.0], dtype=D), dtype=D)
    torch.testing.assert_close(eq.predicted_angle(theta), torch.tensor([40.0, -25.0], dtype=D))
    assert eq.predicted_angle(affine_theta(-30.0, dtype=D)).shape == ()


def deming_by_pca(x, y):
    """The orthogonal-regression line is the principal axis of the (x, y) covariance."""
    X = torch.stack([x - x.mean(), y - y.mean()])
    vals, vecs = torch.linalg.eigh(X @ X.T / x.numel())
    v = vecs[:, -1]
    return (v[1] / v[0]).item()


@pytest.mark.parametrize("slope", [0.7, -1.8, 3.0])
def test_orthogonal_fit_against_the_principal_axis(slope):
    g = torch.Generator().manual_seed(2)
    x = torch.linspace(-60, 60, 41, dtype=D)
    y = slope * x + 4.0 + torch.randn(41, generator=g, dtype=D) * 6
    fit = eq.orthogonal_fit(x, y)
    assert set(fit) == {"slope", "intercept", "r", "spread"} and all(type(v) is float for v in fit.values())
    s = deming_by_pca(x, y)
    assert fit["slope"] == pytest.approx(s, rel=1e-10)
    assert fit["intercept"] == pytest.approx((y.mean() - s * x.mean()).item(), rel=1e-9, abs=1e-9)
    r = torch.corrcoef(torch.stack([x, y]))[0, 1].item()
    assert fit["r"] == pytest.approx(r, rel=1e-10)
    spread = math.sqrt(sum((b - s * a - fit["intercept"]) ** 2 for a, b in zip(x.tolist(), y.tolist())) / 41)
    assert fit["spread"] == pytest.approx(spread, rel=1e-9)


def test_orthogonal_fit_of_uncorrelated_points_is_flat():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = x ** 2  # symmetric: no correlation
    fit = eq.orthogonal_fit(x, y)
    assert fit == {"slope": 0.0, "intercept": pytest.approx(2.0), "r": 0.0, "spread": pytest.approx(math.sqrt(2.8))}
    const = eq.orthogonal_fit(torch.ones(4), torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert const["slope"] == 0.0 and const["r"] == 0.0 and const["intercept"] == pytest.approx(2.5)
    three = eq.orthogonal_fit(torch.tensor([[0.0, 1.0, 2.0]]), torch.tensor([1.0, 3.0, 5.0], dtype=D))
    assert three["slope"] == pytest.approx(2.0) and three["intercept"] == pytest.approx(1.0)


def test_orthogonal_fit_of_small_numbers():
    # micro-scale points: the covariance 1e-12 is exactly the flat-line threshold, and it is not below it
    x = torch.tensor([-1e-6, 0.0, 1e-6], dtype=D)
    fit = eq.orthogonal_fit(x, 1.5 * x)
    assert fit["slope"] == pytest.approx(1.5, rel=1e-12) and fit["r"] == pytest.approx(1.0, rel=1e-12)
    assert fit["intercept"] == pytest.approx(0.0, abs=1e-18) and fit["spread"] == pytest.approx(0.0, abs=1e-18)
    x = torch.linspace(-0.5, 0.5, 11, dtype=D)
    fit = eq.orthogonal_fit(x, -0.25 * x + 0.1)
    assert fit["slope"] == pytest.approx(-0.25, rel=1e-12) and fit["r"] == pytest.approx(-1.0, rel=1e-12)
    assert fit["intercept"] == pytest.approx(0.1, rel=1e-12)


def test_orthogonal_fit_errors():
    with _raises(ValueError, "x and y must hold the same number (≥ 3) of values, got 2 and 2"):
        eq.orthogonal_fit(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]))
    with _raises(ValueError, "x and y must hold the same number (≥ 3) of values, got 3 and 4"):
        eq.orthogonal_fit(torch.ones(3), torch.ones(2, 2))


def test_all():
    assert eq.__all__ == ["map_geometry", "misalignment", "orthogonal_fit", "predicted_angle", "rotation_shift",
                          "theta_on_map", "warp_map"]
