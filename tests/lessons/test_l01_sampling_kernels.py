"""The exercise checks of lesson 01: a right answer passes, typical mistakes get a precise message."""

import dataclasses

import pytest
import torch

from stnlib import kernels
from stnlib.course.checking import CheckError
from stnlib.lessons import l01_sampling_kernels as L01


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


def not_yet(*args, **kwargs):
    raise NotImplementedError


def failure(check, *fns) -> CheckError:
    with pytest.raises(CheckError) as err:
        check(*fns, verbose=False)
    return err.value


def left_derivative(d):
    one = torch.ones_like(d)
    return torch.where((d > -1) & (d <= 0), one, torch.where((d > 0) & (d <= 1), -one, 0 * one))


def test_bilinear_kernel_check(capsys):
    assert L01.check_bilinear_kernel(bilinear_kernel, bilinear_subgradient)
    assert capsys.readouterr().out.startswith("✓ bilinear_kernel and bilinear_subgradient are "
                                              "correct: values on 13 points")
    assert L01.check_bilinear_kernel(bilinear_kernel, not_yet) is False
    assert "bilinear_subgradient is not implemented yet" in capsys.readouterr().out
    assert L01.check_bilinear_kernel(not_yet, not_yet) is False
    assert "bilinear_kernel is not implemented yet" in capsys.readouterr().out


def test_kernel_without_the_max_names_d():
    err = failure(L01.check_bilinear_kernel, lambda d: 1 - d.abs(), bilinear_subgradient)
    assert err.message == ("bilinear_kernel, case 'd across the kinks': at d = -2.5: your kernel "
                           "is -1.5, expected 0 (4 of 13 entries differ)")
    assert err.hint.startswith("k(d) = max(0, 1 − |d|): without the max(0, ·)")
    err = failure(L01.check_bilinear_kernel, lambda d: (1 - d).clamp_min(0), bilinear_subgradient)
    assert "needs the absolute value" in err.hint


def test_subgradient_flipped_sign_left_derivative_and_kinks():
    err = failure(L01.check_bilinear_kernel, bilinear_kernel, lambda d: -bilinear_subgradient(d))
    assert err.message.startswith("bilinear_subgradient, case 'd across the kinks': at d = -1: "
                                  "your subgradient is -1, expected 1")
    assert err.hint.startswith("the sign is flipped")
    err = failure(L01.check_bilinear_kernel, bilinear_kernel, left_derivative)
    assert "at d = -1: your subgradient is 0, expected 1 (3 of 13" in err.message
    assert err.hint.startswith("this is the left derivative at the kinks")
    err = failure(L01.check_bilinear_kernel, bilinear_kernel,
                  lambda d: torch.where(d.abs() < 1, -torch.sign(d), 0 * d))
    assert err.hint.startswith("right away from the kinks, wrong at them")
    assert "right derivative" in err.hint


def test_gather_sample_check(capsys):
    assert L01.check_gather_sample(gather_sample)
    assert capsys.readouterr().out.startswith("✓ gather_sample is correct: nearest, bilinear")
    assert L01.check_gather_sample(not_yet, verbose=False) is False


def clamped_taps(U, x, y, kernel="bilinear"):  # reads the border instead of zero outside
    k = kernels.get_kernel(kernel)
    N, C, H, W = U.shape
    tx, ty = k.taps(x), k.taps(y)
    wx, wy = k(x[..., None] - tx), k(y[..., None] - ty)
    ix, iy = tx.clamp(0, W - 1).long(), ty.clamp(0, H - 1).long()
    index = iy[..., :, None] * W + ix[..., None, :]
    weight = wy[..., :, None] * wx[..., None, :]
    vals = U.reshape(N, C, H * W).gather(2, index.reshape(N, 1, -1).expand(N, C, -1))
    return (vals.view(N, C, *index.shape[1:]) * weight[:, None]).sum((-1, -2))


def test_gather_sample_without_zero_padding_names_the_position():
    err = failure(L01.check_gather_sample, clamped_taps)
    assert err.message.startswith(
        "gather_sample, case 'nearest, random positions' (kernel='nearest'): at output (image 0, "
        "channel 0, row 0, column 3), which reads U at (x, y) = (7.894, 5.199): your output is "
        "0.534713, expected 0")
    assert err.hint.startswith("taps outside the image must read 0")

    def clamped_positions(U, x, y, kernel="bilinear"):
        return gather_sample(U, x.clamp(0, U.shape[-1] - 1), y.clamp(0, U.shape[-2] - 1), kernel)

    assert failure(L01.check_gather_sample, clamped_positions).hint.startswith(
        "taps outside the image must read 0")


def test_gather_sample_x_y_swapped_rounded_taps_and_kernel_ignored():
    err = failure(L01.check_gather_sample, lambda U, x, y, kernel="bilinear":
                  gather_sample(U, y, x, kernel))
    assert err.hint.startswith("x and y are swapped")

    def rounded(U, x, y, kernel="bilinear"):
        return gather_sample(U, x, y, dataclasses.replace(kernels.get_kernel(kernel),
                                                          base=torch.round))

    err = failure(L01.check_gather_sample, rounded)
    assert "case 'bilinear, random positions'" in err.message  # nearest rounds, rightly
    assert err.hint.startswith("the taps start at ⌊x⌋")
    err = failure(L01.check_gather_sample, lambda U, x, y, kernel="bilinear":
                  gather_sample(U, x, y))
    assert err.hint.startswith("use the kernel argument")


def test_gather_sample_cut_graph():
    def detached(U, x, y, kernel="bilinear"):
        return gather_sample(U, x.detach(), y.detach(), kernel)

    err = failure(L01.check_gather_sample, detached)
    assert err.message == ("gather_sample, case 'nearest, random positions' (kernel='nearest'): "
                           "no gradient reaches 'x' through your output")
    assert ".detach()" in err.hint
