"""The exercise checks of lesson 01: a right answer passes, typical mistakes get a precise message."""

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


def test_bilinear_kernel_check(capsys):
    assert L01.check_bilinear_kernel(bilinear_kernel, bilinear_subgradient)
    assert "✓" in capsys.readouterr().out
    assert L01.check_bilinear_kernel(bilinear_kernel, not_yet) is False
    assert L01.check_bilinear_kernel(not_yet, not_yet) is False
    with pytest.raises(CheckError, match="right derivative"):
        L01.check_bilinear_kernel(bilinear_kernel, lambda d: torch.where(d.abs() < 1, -torch.sign(d), 0 * d))
    with pytest.raises(CheckError, match="bilinear_kernel.*value at index"):
        L01.check_bilinear_kernel(lambda d: 1 - d.abs(), bilinear_subgradient)


def test_gather_sample_check():
    assert L01.check_gather_sample(gather_sample, verbose=False)
    assert L01.check_gather_sample(not_yet, verbose=False) is False

    def no_padding(U, x, y, kernel="bilinear"):  # forgets that taps outside the image read zero
        k = kernels.get_kernel(kernel)
        return gather_sample(U, x.clamp(0, U.shape[-1] - 1), y.clamp(0, U.shape[-2] - 1), k)

    with pytest.raises(CheckError, match="gather_sample, case 'nearest"):
        L01.check_gather_sample(no_padding, verbose=False)

    def detached(U, x, y, kernel="bilinear"):
        return gather_sample(U, x.detach(), y.detach(), kernel)

    with pytest.raises(CheckError, match="gradient.*'x'"):
        L01.check_gather_sample(detached, verbose=False)
