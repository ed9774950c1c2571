"""θ algebra and pixel ↔ normalized conversions, checked against torchvision on a real image."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

from stnlib import theta as theta_lib
from stnlib.grids import affine_grid, base_grid
from stnlib.theta import (
    affine_theta,
    compose,
    decompose_affine,
    invert,
    normalized_to_pixel,
    pixel_matrix_from_theta,
    theta_from_pixel_matrix,
    to_homogeneous,
    torchvision_affine_matrix,
)


def warp(img, theta, size=None, *, align_corners, mode="bilinear"):
    size = size or tuple(img.shape[-2:])
    grid = affine_grid(theta.to(img).expand(img.shape[0], 2, 3), size, align_corners=align_corners)
    return F.grid_sample(img, grid, mode=mode, padding_mode="zeros", align_corners=align_corners)


def test_identity_and_defaults():
    assert torch.equal(affine_theta(), theta_lib.identity())
    assert theta_lib.identity(3).shape == (3, 2, 3)


def test_inverse_and_compose_algebra():
    a = affine_theta(30.0, (1.5, 0.8), (10.0, -5.0), (0.2, -0.1), dtype=torch.float64)
    b = affine_theta(-70.0, 1.2, 0.0, (0.0, 0.3), dtype=torch.float64)
    eye = theta_lib.identity(dtype=torch.float64)
    torch.testing.assert_close(compose(a, invert(a)), eye)
    torch.testing.assert_close(compose(invert(a), a), eye)
    torch.testing.assert_close(invert(compose(a, b)), compose(invert(b), invert(a)))
    torch.testing.assert_close(invert(invert(a)), a)
    P = to_homogeneous(a).clone()
    P[2, :2] = torch.tensor([0.1, -0.2], dtype=torch.float64)
    torch.testing.assert_close(compose(P, invert(P)), torch.eye(3, dtype=torch.float64))
    assert compose(a, P).shape == (3, 3)


def test_compose_equals_warping_twice():
    """Warp with a, then with b == one warp with compose(a, b).

    The "image" is the coordinate ramps (x, y), which bilinear sampling
    reproduces exactly, and both warps zoom in, so nothing reads padding.
    """
    ramps = base_grid((16, 16), align_corners=True, dtype=torch.float64).permute(2, 0, 1)[None]
    a = affine_theta(20.0, 2.0, 0.0, (0.05, 0.0), dtype=torch.float64)
    b = affine_theta(-35.0, 1.6, 0.0, (0.0, -0.05), dtype=torch.float64)
    twice = warp(warp(ramps, a, align_corners=True), b, align_corners=True)
    once = warp(ramps, compose(a, b), align_corners=True)
    torch.testing.assert_close(twice, once)


def test_batched_parameters_and_decompose_round_trip():
    angles = torch.tensor([-90.0, -10.0, 0.0, 45.0, 170.0], dtype=torch.float64)
    scales = torch.tensor([[1.0, 1.0], [0.5, 2.0], [1.2, 1.2], [0.8, 0.9], [2.0, 1.5]], dtype=torch.float64)
    trans = torch.randn(5, 2, dtype=torch.float64) * 0.3
    th = affine_theta(angles, scales, 0.0, trans, dtype=torch.float64)
    assert th.shape == (5, 2, 3)
    parts = decompose_affine(th)
    torch.testing.assert_close(parts["angle"], angles)
    torch.testing.assert_close(parts["scale"], scales)
    torch.testing.assert_close(parts["translation"], trans)
    torch.testing.assert_close(parts["det"], 1 / scales.prod(-1))


def test_batch_of_two_isotropic_scales_is_not_read_as_one_pair():
    batch = affine_theta(0.0, torch.tensor([0.5, 2.0]))
    assert batch.shape == (2, 2, 3)
    torch.testing.assert_close(batch[:, 0, 0], torch.tensor([2.0, 0.5]))
    torch.testing.assert_close(batch[:, 1, 1], torch.tensor([2.0, 0.5]))
    pair = affine_theta(0.0, (0.5, 2.0))
    assert pair.shape == (2, 3) and pair[0, 0] == 2.0 and pair[1, 1] == 0.5
    with pytest.raises(ValueError, match="scale must be a number, a pair"):
        affine_theta(0.0, (1.0, 2.0, 3.0))


def test_affine_theta_is_differentiable():
    a = torch.tensor([15.0], dtype=torch.float64, requires_grad=True)
    s = torch.tensor([1.3], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, s: affine_theta(a, s, 5.0, (0.1, 0.2), dtype=torch.float64),
                                    (a, s))


def test_positive_angle_turns_counter_clockwise_like_torchvision_rotate(camera):
    ours = warp(camera.float(), affine_theta(30.0), align_corners=False)
    theirs = TF.rotate(camera.float(), 30.0, interpolation=TF.InterpolationMode.BILINEAR)
    assert (ours - theirs).abs().max() < 1e-4


def test_translation_moves_the_picture_right_and_down():
    img = torch.zeros(1, 1, 8, 8)
    img[0, 0, 2, 3] = 1
    out = warp(img, affine_theta(translation=(2 / 8 * 2, 1 / 8 * 2)), align_corners=False, mode="nearest")
    assert out[0, 0].nonzero().tolist() == [[3, 5]]  # moved 2 px right, 1 px down


@pytest.mark.parametrize("args", [
    dict(angle=30.0, translate=(5.0, -3.0), scale=1.2, shear=(10.0, 5.0)),
    dict(angle=-75.0, translate=(0.0, 0.0), scale=0.8, shear=(0.0, 0.0)),
    dict(angle=0.0, translate=(7.0, 2.0), scale=1.0, shear=(-20.0, 0.0)),
])
def test_pixel_matrix_reproduces_torchvision_affine_on_a_real_image(camera, args):
    img = camera[..., :, :100].float()  # non-square: 128×100
    H, W = img.shape[-2:]
    theirs = TF.affine(img, interpolation=TF.InterpolationMode.BILINEAR, **args)
    theta = theta_from_pixel_matrix(torchvision_affine_matrix((H, W), **args), (H, W), align_corners=False)
    assert (warp(img, theta.float(), align_corners=False) - theirs).abs().max() < 1e-4


@pytest.mark.parametrize("align_corners", [True, False])
def test_opencv_style_integer_shift_is_exact(align_corners):
    img = torch.rand(1, 1, 9, 11, dtype=torch.float64)
    M = torch.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, 2.0]], dtype=torch.float64)  # src → dst: +3 px x, +2 px y
    out = warp(img, theta_from_pixel_matrix(M, (9, 11), align_corners=align_corners), align_corners=align_corners)
    torch.testing.assert_close(out[0, 0, 2:, 3:], img[0, 0, :-2, :-3])
    inv = theta_from_pixel_matrix(torch.linalg.inv(to_homogeneous(M))[:2], (9, 11), align_corners=align_corners,
                                  inverse_map=True)
    torch.testing.assert_close(inv, theta_from_pixel_matrix(M, (9, 11), align_corners=align_corners))


def test_pixel_scale_with_different_output_size():
    """Downsampling by 2 with align_corners=True: destination pixel (x, y) shows source (2x, 2y)."""
    img = torch.rand(1, 1, 9, 9, dtype=torch.float64)
    M = torch.tensor([[0.5, 0, 0], [0, 0.5, 0]], dtype=torch.float64)
    theta = theta_from_pixel_matrix(M, (9, 9), (5, 5), align_corners=True)
    torch.testing.assert_close(warp(img, theta, (5, 5), align_corners=True)[0, 0], img[0, 0, ::2, ::2])


@pytest.mark.parametrize("align_corners,sizes", list(itertools.product([True, False], [((5, 7), (3, 4)), ((8, 8), None)])))
def test_pixel_theta_round_trip(align_corners, sizes):
    theta = affine_theta(25.0, (1.3, 0.7), 5.0, (0.1, -0.2), dtype=torch.float64)
    M = pixel_matrix_from_theta(theta, *sizes, align_corners=align_corners)
    torch.testing.assert_close(theta_from_pixel_matrix(M, *sizes, align_corners=align_corners), theta)
    P = to_homogeneous(theta).clone()
    P[2, :2] = torch.tensor([0.05, -0.1], dtype=torch.float64)
    Mp = pixel_matrix_from_theta(P, *sizes, align_corners=align_corners)
    torch.testing.assert_close(theta_from_pixel_matrix(Mp, *sizes, align_corners=align_corners), P)


def test_normalized_to_pixel_matrix():
    P = normalized_to_pixel((5, 9), align_corners=True)
    assert (P @ torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)).tolist() == [0.0, 4.0, 1.0]
    P = normalized_to_pixel((5, 9), align_corners=False)
    assert (P @ torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)).tolist() == [-0.5, 4.5, 1.0]
    assert math.isclose(P[0, 0].item(), 4.5)
