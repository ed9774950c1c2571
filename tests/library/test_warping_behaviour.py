"""stnlib.warping, the one public warp, against torch and word for word (issue 25, mutation run of
2026-12-05): ``warp`` and ``warp_1d`` with their defaults against ``affine_grid`` + ``grid_sample``,
the options reaching the grid generator and the sampler (checked with a spy where two options give the
same numbers), the cached grid generators, the transforms it takes, and every argument check's
message exactly, in the order the checks run."""

import re

import pytest
import torch
import torch.nn.functional as F

from stnlib import warping as W
from stnlib.grids import TPSGrid, regular_control_points, tps_grid

D = torch.float64
THETA = torch.tensor([[0.7, -0.25, 0.2], [0.3, 0.85, -0.15]], dtype=D)


def _raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def data(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def affine_ref(U, theta, out_hw, *, kernel="bilinear", padding="zeros", ac=False):
    theta = theta.expand(U.shape[0], 2, 3) if theta.dim() == 2 else theta
    grid = F.affine_grid(theta, [U.shape[0], U.shape[1], *out_hw], align_corners=ac)
    return F.grid_sample(U, grid, mode=kernel, padding_mode=padding, align_corners=ac)


def timewarp_ref(U, s, t, length, *, kernel="bilinear", padding="zeros", ac=False):
    i = torch.arange(length, dtype=D)
    x = 2 * i / (length - 1) - 1 if ac else (2 * i + 1) / length - 1
    pos = s[:, None] * x + t[:, None]
    grid = torch.stack([pos, torch.zeros_like(pos)], -1)[:, None]
    return F.grid_sample(U[:, :, None], grid, mode=kernel, padding_mode=padding, align_corners=ac)[:, :, 0]


def test_transforms_2d():
    assert W.TRANSFORMS_2D == ("affine", "attention", "projective", "tps")
    assert W.__all__ == ["warp", "warp_1d", "TRANSFORMS_2D"]


@pytest.mark.parametrize("ac", [False, True])
def test_warp_defaults_are_affine_bilinear_zeros_at_the_input_size(ac):
    U = data(2, 3, 6, 7)
    V = W.warp(U, THETA.expand(2, 2, 3), align_corners=ac)
    torch.testing.assert_close(V, affine_ref(U, THETA, (6, 7), ac=ac), rtol=0, atol=1e-12)
    assert W.warp(U, THETA.expand(2, 2, 3), 4, align_corners=ac).shape == (2, 3, 4, 4)
    assert W.warp(U, THETA.expand(2, 2, 3), [3, 5], align_corners=ac).shape == (2, 3, 3, 5)


@pytest.mark.parametrize("kernel,padding,ac", [("nearest", "border", True), ("bicubic", "reflection", False),
                                               ("bilinear", "reflection", True)])
def test_warp_options_reach_the_sampler(kernel, padding, ac):
    U = data(2, 1, 6, 6)
    theta = THETA.expand(2, 2, 3)
    for sampler in ("native", "reference"):
        V = W.warp(U, theta, (5, 4), kernel=kernel, padding_mode=padding, align_corners=ac, sampler=sampler)
        torch.testing.assert_close(V, affine_ref(U, theta, (5, 4), kernel=kernel, padding=padding, ac=ac),
                                   rtol=0, atol=1e-10)


def test_the_sampler_and_the_generator_get_every_option(monkeypatch):
    seen = []
    real_sample, real_sample_1d = W.sample, W.sample_1d

    def spy(U, grid, **kw):
        seen.append(("2d", tuple(grid.shape), kw))
        return real_sample(U, grid, **kw)

    def spy_1d(U, grid, **kw):
        seen.append(("1d", tuple(grid.shape), kw))
        return real_sample_1d(U, grid, **kw)

    monkeypatch.setattr(W, "sample", spy)
    monkeypatch.setattr(W, "sample_1d", spy_1d)
    W.warp(data(2, 1, 5, 5), THETA.expand(2, 2, 3), (3, 4), kernel="bicubic", padding_mode="border",
           align_corners=True, sampler="reference")
    W.warp(data(2, 1, 5, 5), THETA.expand(2, 2, 3), align_corners=False)
    W.warp_1d(data(2, 1, 9), torch.tensor([[0.8, 0.1]] * 2, dtype=D), 6, kernel="nearest",
              padding_mode="reflection", align_corners=True, sampler="reference")
    W.warp_1d(data(2, 1, 9), torch.tensor([[0.8, 0.1]] * 2, dtype=D), align_corners=False)
    assert seen == [
        ("2d", (2, 3, 4, 2), dict(align_corners=True, kernel="bicubic", padding_mode="border",
                                  sampler="reference")),
        ("2d", (2, 5, 5, 2), dict(align_corners=False, kernel="bilinear", padding_mode="zeros",
                                  sampler="native")),
        ("1d", (2, 6), dict(align_corners=True, kernel="nearest", padding_mode="reflection",
                            sampler="reference")),
        ("1d", (2, 9), dict(align_corners=False, kernel="bilinear", padding_mode="zeros", sampler="native")),
    ]


def test_every_image_transform_against_its_grid():
    U = data(2, 2, 7, 6)
    att = torch.tensor([[0.6, 0.2, -0.1], [1.2, -0.1, 0.05]], dtype=D)
    affine = torch.zeros(2, 2, 3, dtype=D)
    affine[:, 0, 0] = affine[:, 1, 1] = att[:, 0]
    affine[:, :, 2] = att[:, 1:]
    torch.testing.assert_close(W.warp(U, att, (5, 5), transform="attention", align_corners=True),
                               affine_ref(U, affine, (5, 5), ac=True), rtol=0, atol=1e-12)
    M = torch.cat([THETA, torch.tensor([[0.1, -0.15, 1.0]], dtype=D)]).expand(2, 3, 3)
    base = F.affine_grid(torch.eye(2, 3, dtype=D).expand(2, 2, 3), [2, 2, 4, 5], align_corners=False)
    h = torch.cat([base, torch.ones_like(base[..., :1])], -1) @ M[0].T
    expected = F.grid_sample(U, h[..., :2] / h[..., 2:], align_corners=False)
    torch.testing.assert_close(W.warp(U, M, (4, 5), transform="projective", align_corners=False), expected,
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(W.warp(U, M.reshape(2, 9)[:, :8], (4, 5), transform="projective",
                                      align_corners=False), expected, rtol=0, atol=1e-12)
    disp = (data(2, 16, 2, seed=4) - 0.5) * 0.2
    grid = tps_grid(disp, regular_control_points(4).double(), (5, 6), align_corners=False)
    torch.testing.assert_close(W.warp(U, disp, (5, 6), transform="tps", align_corners=False),
                               F.grid_sample(U, grid, align_corners=False), rtol=0, atol=1e-12)
    disp = (data(2, 4, 2, seed=5) - 0.5) * 0.2
    grid = tps_grid(disp, regular_control_points(2).double(), (5, 6), align_corners=True)
    torch.testing.assert_close(W.warp(U, disp, (5, 6), transform="tps", tps_points=2, align_corners=True),
                               F.grid_sample(U, grid, align_corners=True), rtol=0, atol=1e-12)


@pytest.mark.parametrize("ac", [False, True])
def test_warp_1d_defaults_and_options(ac):
    U = data(3, 2, 10)
    theta = torch.tensor([[0.8, 0.1], [-1.0, 0.0], [1.3, -0.2]], dtype=D)
    torch.testing.assert_close(W.warp_1d(U, theta, align_corners=ac),
                               timewarp_ref(U, theta[:, 0], theta[:, 1], 10, ac=ac), rtol=0, atol=1e-12)
    torch.testing.assert_close(W.warp_1d(U, theta, (7,), kernel="bicubic", padding_mode="border",
                                         align_corners=ac),
                               timewarp_ref(U, theta[:, 0], theta[:, 1], 7, kernel="bicubic", padding="border",
                                            ac=ac), rtol=0, atol=1e-10)
    assert W.warp_1d(U, theta, 4, align_corners=ac).shape == (3, 2, 4)


def test_generators_are_built_once_per_transform_and_points():
    a = W._generator("tps", 3)
    assert isinstance(a, TPSGrid) and a.n_params == 18
    assert W._generator("tps", 3) is a and W._generator("tps", 4) is not a
    assert W._generator("tps", 4).n_params == 32
    assert W._generator.cache_info().maxsize == 16


def test_theta_layouts():
    assert W._theta_layout("affine", 4) == (((2, 3),), "N×2×3")
    assert W._theta_layout("attention", 4) == (((3,),), "N×3 (s, tx, ty)")
    assert W._theta_layout("projective", 4) == (((3, 3), (8,)), "N×3×3 (or N×8)")
    assert W._theta_layout("tps", 3) == (((9, 2),), "N×9×2 (displacements of 3×3 control points)")
    assert W._theta_layout("timewarp", 4) == (((2,),), "N×2 (scale, shift)")


# ---------------------------------------------------------------- every check, word for word


def test_warp_argument_errors():
    U, theta = data(2, 1, 5, 5), THETA.expand(2, 2, 3).clone()
    with _raises(ValueError, "unknown transform 'similarity'; expected one of 'affine', 'attention', "
                             "'projective', 'tps', 'timewarp'"):
        W.warp(U, theta, transform="similarity", align_corners=False)
    with _raises(ValueError, "transform='timewarp' warps N×C×L series: use stnlib.warp_1d(U, theta)"):
        W.warp(data(2, 1, 5), theta[:, 0, :2], transform="timewarp", align_corners=False)
    with _raises(TypeError, "U must be a torch.Tensor N×C×H×W, got list"):
        W.warp([1.0], theta, align_corners=False)
    with _raises(ValueError, "U must be a 4-D tensor N×C×H×W, got shape (1, 5, 5)"):
        W.warp(U[0], theta, align_corners=False)
    with _raises(TypeError, "U must have a floating dtype (float32 or float64), got torch.int64; "
                            "convert it with U.float()"):
        W.warp(U.long(), theta, align_corners=False)
    for bad in (1, 0, True, 2.0, None):
        with _raises(ValueError, f"tps_points (control points per side) must be an int >= 2, got {bad!r}"):
            W.warp(U, theta, align_corners=False, tps_points=bad)
    assert W.warp(U, torch.zeros(2, 4, 2, dtype=D), transform="tps", tps_points=2, align_corners=False).shape == \
        U.shape
    with _raises(ValueError, "theta must be a 3-D tensor N×2×3, got shape (2, 6)"):
        W.warp(U, theta.reshape(2, 6), align_corners=False)
    with _raises(ValueError, "theta must be a 2-D or 3-D tensor N×3×3 (or N×8), got shape (2, 1, 3, 3)"):
        W.warp(U, torch.eye(3, dtype=D).expand(2, 1, 3, 3), transform="projective", align_corners=False)
    with _raises(ValueError, "theta must be a 2-D tensor N×3 (s, tx, ty), got shape (2, 2, 3)"):
        W.warp(U, theta, transform="attention", align_corners=False)
    with _raises(ValueError, "theta for transform='affine' must have shape N×2×3, got (2, 3, 3)"):
        W.warp(U, torch.eye(3, dtype=D).expand(2, 3, 3), align_corners=False)
    with _raises(ValueError, "theta for transform='projective' must have shape N×3×3 (or N×8), got (2, 6)"):
        W.warp(U, theta.reshape(2, 6), transform="projective", align_corners=False)
    with _raises(ValueError, "theta for transform='tps' must have shape N×9×2 (displacements of 3×3 control "
                             "points), got (2, 16, 2)"):
        W.warp(U, torch.zeros(2, 16, 2, dtype=D), transform="tps", tps_points=3, align_corners=False)
    with _raises(TypeError, "theta must be a torch.Tensor N×2×3, got list"):
        W.warp(U, theta.tolist(), align_corners=False)
    with _raises(TypeError, "theta must have a floating dtype (float32 or float64), got torch.int64; "
                            "convert it with theta.float()"):
        W.warp(U, theta.long(), align_corners=False)
    with _raises(ValueError, "batch size mismatch: U has 2 items (shape (2, 1, 5, 5)) but theta has 3 "
                             "(shape (3, 2, 3))"):
        W.warp(U, THETA.expand(3, 2, 3), align_corners=False)
    with _raises(TypeError, "U and theta must share a dtype, got U torch.float64 and theta torch.float32"):
        W.warp(U, theta.float(), align_corners=False)
    with _raises(ValueError, "U and theta must be on the same device, got U on cpu and theta on meta"):
        W.warp(U, theta.to("meta"), align_corners=False)
    bad = theta.clone()
    bad[1, 0, 2] = float("inf")
    with _raises(ValueError, "theta must be finite, but 1 of its 12 entries are NaN or inf"):
        W.warp(U, bad, align_corners=False)
    with _raises(TypeError, "align_corners must be True or False (pass it explicitly), got 1"):
        W.warp(U, theta, align_corners=1)
    with _raises(ValueError, "unknown kernel 'cubic'; expected one of 'nearest', 'bilinear', 'bicubic'"):
        W.warp(U, theta, kernel="cubic", align_corners=False)
    with _raises(ValueError, "unknown padding_mode 'wrap'; expected one of 'zeros', 'border', 'reflection'"):
        W.warp(U, theta, padding_mode="wrap", align_corners=False)
    with _raises(ValueError, "unknown sampler 'fast'; expected one of 'native', 'reference'"):
        W.warp(U, theta, sampler="fast", align_corners=False)
    with _raises(ValueError, "out_size must be positive, got (0, 4)"):
        W.warp(U, theta, (0, 4), align_corners=False)
    with _raises(TypeError, "out_size must be an int or a sequence of 2 ints, got (3,)"):
        W.warp(U, theta, (3,), align_corners=False)


def test_warp_1d_argument_errors():
    U, theta = data(2, 1, 8), torch.tensor([[0.8, 0.1]] * 2, dtype=D)
    with _raises(ValueError, "U must be a 3-D tensor N×C×L, got shape (2, 1, 8, 1)"):
        W.warp_1d(U[..., None], theta, align_corners=False)
    with _raises(TypeError, "U must be a torch.Tensor N×C×L, got list"):
        W.warp_1d([1.0], theta, align_corners=False)
    with _raises(ValueError, "theta must be a 2-D tensor N×2 (scale, shift), got shape (2, 1, 2)"):
        W.warp_1d(U, theta[:, None], align_corners=False)
    with _raises(ValueError, "theta for transform='timewarp' must have shape N×2 (scale, shift), got (2, 3)"):
        W.warp_1d(U, torch.ones(2, 3, dtype=D), align_corners=False)
    with _raises(TypeError, "out_size must be an int or a sequence of 1 ints, got (4, 4)"):
        W.warp_1d(U, theta, (4, 4), align_corners=False)
    with _raises(ValueError, "out_size must be positive, got (0,)"):
        W.warp_1d(U, theta, 0, align_corners=False)
    with _raises(TypeError, "align_corners must be True or False (pass it explicitly), got None"):
        W.warp_1d(U, theta, align_corners=None)
    with _raises(ValueError, "unknown kernel 'box'; expected one of 'nearest', 'bilinear', 'bicubic'"):
        W.warp_1d(U, theta, kernel="box", align_corners=False)
    with _raises(ValueError, "unknown padding_mode 'wrap'; expected one of 'zeros', 'border', 'reflection'"):
        W.warp_1d(U, theta, padding_mode="wrap", align_corners=False)
    with _raises(ValueError, "unknown sampler 'gpu'; expected one of 'native', 'reference'"):
        W.warp_1d(U, theta, sampler="gpu", align_corners=False)
    with _raises(TypeError, "U and theta must share a dtype, got U torch.float64 and theta torch.float32"):
        W.warp_1d(U, theta.float(), align_corners=False)
    with _raises(ValueError, "theta must be finite, but 2 of its 4 entries are NaN or inf"):
        W.warp_1d(U, theta * torch.tensor([1.0, float("nan")], dtype=D), align_corners=False)
