"""The exercise checks of lessons 01 and 02: a right answer passes, typical mistakes get a precise message."""

import math

import pytest
import torch

from stnlib import checks, kernels, theta


def bilinear_kernel(d):
    return (1 - d.abs()).clamp_min(0)


def bilinear_subgradient(d):
    one = torch.ones_like(d)
    return torch.where((d >= -1) & (d < 0), one, torch.where((d >= 0) & (d < 1), -one, 0 * one))


def gather_sample(U, x, y, kernel="bilinear"):
    k = kernels.get_kernel(kernel)
    N, C, H, W = U.shape
    tx, ty = k.taps(x), k.taps(y)
    wx, wy = k(x[..., None] - tx), k(y[..., None] - ty)
    vx, vy = (tx >= 0) & (tx <= W - 1), (ty >= 0) & (ty <= H - 1)
    ix, iy = tx.clamp(0, W - 1).long(), ty.clamp(0, H - 1).long()
    index = iy[..., :, None] * W + ix[..., None, :]
    weight = wy[..., :, None] * wx[..., None, :] * (vy[..., :, None] & vx[..., None, :])
    vals = U.reshape(N, C, H * W).gather(2, index.reshape(N, 1, -1).expand(N, C, -1))
    return (vals.view(N, C, *index.shape[1:]) * weight[:, None]).sum((-1, -2))


def rotate_zoom_theta(angle=30.0, zoom=2.0):
    a = math.radians(angle)
    return torch.tensor([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0]]) / zoom


def not_yet(*args, **kwargs):
    raise NotImplementedError


def test_bilinear_kernel_check(capsys):
    assert checks.check_bilinear_kernel(bilinear_kernel, bilinear_subgradient)
    assert "✓" in capsys.readouterr().out
    assert checks.check_bilinear_kernel(bilinear_kernel, not_yet) is False
    assert checks.check_bilinear_kernel(not_yet, not_yet) is False
    with pytest.raises(checks.CheckError, match="right derivative"):
        checks.check_bilinear_kernel(bilinear_kernel, lambda d: torch.where(d.abs() < 1, -torch.sign(d), 0 * d))
    with pytest.raises(checks.CheckError, match="bilinear_kernel.*value at index"):
        checks.check_bilinear_kernel(lambda d: 1 - d.abs(), bilinear_subgradient)


def test_gather_sample_check():
    assert checks.check_gather_sample(gather_sample, verbose=False)
    assert checks.check_gather_sample(not_yet, verbose=False) is False

    def no_padding(U, x, y, kernel="bilinear"):  # forgets that taps outside the image read zero
        k = kernels.get_kernel(kernel)
        return gather_sample(U, x.clamp(0, U.shape[-1] - 1), y.clamp(0, U.shape[-2] - 1), k)

    with pytest.raises(checks.CheckError, match="gather_sample, case 'nearest"):
        checks.check_gather_sample(no_padding, verbose=False)

    def detached(U, x, y, kernel="bilinear"):
        return gather_sample(U, x.detach(), y.detach(), kernel)

    with pytest.raises(checks.CheckError, match="gradient.*'x'"):
        checks.check_gather_sample(detached, verbose=False)


def test_theta_checks():
    assert checks.check_rotate_zoom_theta(rotate_zoom_theta, verbose=False)
    with pytest.raises(checks.CheckError, match="forward map"):
        checks.check_rotate_zoom_theta(lambda a, z: theta.invert(rotate_zoom_theta(a, z)), verbose=False)
    with pytest.raises(checks.CheckError, match="wrong way"):
        checks.check_rotate_zoom_theta(lambda a, z: rotate_zoom_theta(-a, z), verbose=False)
    assert checks.check_invert_theta(lambda th: theta.invert(th), verbose=False)
    with pytest.raises(checks.CheckError, match="invert_theta"):
        checks.check_invert_theta(lambda th: th, verbose=False)
    assert checks.check_theta_from_cv2(
        lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=False), verbose=False)
    with pytest.raises(checks.CheckError, match="align_corners=True"):
        checks.check_theta_from_cv2(
            lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=True), verbose=False)
    with pytest.raises(checks.CheckError, match="invert M first"):
        checks.check_theta_from_cv2(lambda M, i, o: theta.theta_from_pixel_matrix(
            M, i, o, align_corners=False, inverse_map=True), verbose=False)
