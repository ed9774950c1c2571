"""The exercise checks of lesson 01: a right answer passes, typical mistakes get a precise message."""

import dataclasses
import functools
import re

import torch
from checks import assert_check, not_yet

from stnlib import kernels
from stnlib.lessons import l01_sampling_kernels as L01


def bilinear_kernel(d):
    return (1 - d.abs()).clamp_min(0)


def bilinear_subgradient(d):
    one = torch.ones_like(d)
    return torch.where((d >= -1) & (d < 0), one, torch.where((d >= 0) & (d < 1), -one, 0 * one))


def left_derivative(d):
    one = torch.ones_like(d)
    return torch.where((d > -1) & (d <= 0), one, torch.where((d > 0) & (d <= 1), -one, 0 * one))


def with_subgradient(kernel, **kw):
    return L01.check_bilinear_kernel(kernel, bilinear_subgradient, **kw)


def test_bilinear_kernel_check_knows_its_mistakes(capsys):
    run = assert_check(with_subgradient, bilinear_kernel, name="bilinear_kernel", mistakes=[
        (lambda d: 1 - d.abs(), "Hint: k(d) = max(0, 1 − |d|): without the max(0, ·)"),
        (lambda d: (1 - d).clamp_min(0), "Hint: k(d) = max(0, 1 − |d|) needs the absolute value"),
    ])
    assert run.passed.startswith("✓ bilinear_kernel and bilinear_subgradient are correct: values "
                                 "on 13 points")
    # the failing entry is named by its d
    assert run.errors[0].message == ("bilinear_kernel, case 'd across the kinks': at d = -2.5: your "
                                     "kernel is -1.5, expected 0 (4 of 13 entries differ)")
    assert L01.check_bilinear_kernel(not_yet, not_yet) is False
    assert "bilinear_kernel is not implemented yet" in capsys.readouterr().out


def test_bilinear_subgradient_check_knows_its_mistakes():
    run = assert_check(functools.partial(L01.check_bilinear_kernel, bilinear_kernel),
                       bilinear_subgradient, name="bilinear_subgradient", mistakes=[
        (lambda d: -bilinear_subgradient(d), "Hint: the sign is flipped"),
        (left_derivative, "Hint: this is the left derivative at the kinks"),
        (lambda d: torch.where(d.abs() < 1, -torch.sign(d), 0 * d),
         re.compile(r"Hint: right away from the kinks, wrong at them;.*right derivative")),
    ])
    assert run.open.startswith("✓ bilinear_kernel is correct; … bilinear_subgradient is not "
                               "implemented yet")
    flipped, left, _ = run.errors
    assert flipped.message.startswith("bilinear_subgradient, case 'd across the kinks': at d = -1: "
                                      "your subgradient is -1, expected 1")
    assert "at d = -1: your subgradient is 0, expected 1 (3 of 13" in left.message


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


def clamped_positions(U, x, y, kernel="bilinear"):
    return gather_sample(U, x.clamp(0, U.shape[-1] - 1), y.clamp(0, U.shape[-2] - 1), kernel)


def rounded(U, x, y, kernel="bilinear"):
    return gather_sample(U, x, y, dataclasses.replace(kernels.get_kernel(kernel), base=torch.round))


def detached(U, x, y, kernel="bilinear"):
    return gather_sample(U, x.detach(), y.detach(), kernel)


def masked(lo_x=0, hi_x=0, lo_y=0, hi_y=0):
    """gather_sample whose validity mask is ``lo ≤ t ≤ size − 1 + hi`` (0, 0: the right one)."""
    def gather_sample(U, x, y, kernel="bilinear"):
        k = kernels.get_kernel(kernel)
        N, C, H, W = U.shape
        tx, ty = k.taps(x), k.taps(y)
        wx, wy = k(x[..., None] - tx), k(y[..., None] - ty)
        vx, vy = (tx >= lo_x) & (tx <= W - 1 + hi_x), (ty >= lo_y) & (ty <= H - 1 + hi_y)
        ix, iy = tx.clamp(0, W - 1).long(), ty.clamp(0, H - 1).long()
        index = iy[..., :, None] * W + ix[..., None, :]
        weight = wy[..., :, None] * wx[..., None, :] * (vy[..., :, None] & vx[..., None, :])
        vals = U.reshape(N, C, H * W).gather(2, index.reshape(N, 1, -1).expand(N, C, -1))
        return (vals.view(N, C, *index.shape[1:]) * weight[:, None]).sum((-1, -2))
    return gather_sample


#: the right answer: every tap with 0 ≤ t ≤ size − 1 counts
gather_sample = masked()


def indexed(swap=False, clamp=True):
    """gather_sample by advanced indexing, U[n, :, row, column]; ``swap``: U[n, :, x, y];
    ``clamp=False``: the taps are not clamped into the image before indexing."""
    def gather_sample(U, x, y, kernel="bilinear"):
        k = kernels.get_kernel(kernel)
        N, C, H, W = U.shape
        tx, ty = k.taps(x), k.taps(y)
        wx, wy = k(x[..., None] - tx), k(y[..., None] - ty)
        vx, vy = (tx >= 0) & (tx <= W - 1), (ty >= 0) & (ty <= H - 1)
        ix, iy = (tx.clamp(0, W - 1), ty.clamp(0, H - 1)) if clamp else (tx, ty)
        ix, iy = ix.long(), iy.long()
        n = torch.arange(N).view(N, 1, 1, 1, 1)
        rows, cols = (ix, iy) if swap else (iy, ix)
        vals = U.permute(0, 2, 3, 1)[n, rows[..., :, None], cols[..., None, :]]  # N×H'×W'×T×T×C
        weight = wy[..., :, None] * wx[..., None, :] * (vy[..., :, None] & vx[..., None, :])
        return (vals * weight[..., None]).sum((-2, -3)).permute(0, 3, 1, 2)
    return gather_sample


def test_gather_sample_check_names_an_off_by_one_mask_and_an_index_past_the_image():
    # issue 26: an off-by-one in the validity mask and a swapped row / column index
    assert L01.check_gather_sample(masked(), verbose=False) and L01.check_gather_sample(indexed(), verbose=False)
    run = assert_check(L01.check_gather_sample, gather_sample, name="gather_sample", mistakes=[
        (masked(hi_x=-1, hi_y=-1), re.compile(r"Hint: off by one in the validity mask: `tx < W − 1` leaves "
                                              r"out the last column, W − 1; `ty < H − 1` leaves out the last row")),
        (masked(hi_x=-1), re.compile(r"Hint: off by one in the validity mask: `tx < W − 1` leaves out the last "
                                     r"column, W − 1\. A tap is inside when")),
        (masked(lo_x=1, lo_y=1), "`tx > 0` leaves out column 0; `ty > 0` leaves out row 0"),
        (masked(hi_x=1, hi_y=1), "`tx <= W` lets the tap at column W, outside the image, read the border"),
        (masked(lo_y=-1), "Hint: off by one in the validity mask: `ty >= -1` lets the tap at row −1"),
        (indexed(swap=True), re.compile(r"(?s)raised IndexError: index \d+ is out of bounds.*in your code: line "
                                        r"\d+: vals = .*Hint: x and y are swapped in your index: on this 5×9")),
        (indexed(clamp=False), "Hint: a tap outside the image was used as an index: clamp the taps"),
    ])
    assert all("\n" not in e.message for e in run.errors)


def test_gather_sample_check_knows_its_mistakes():
    run = assert_check(L01.check_gather_sample, gather_sample, name="gather_sample", mistakes=[
        (clamped_taps, "Hint: taps outside the image must read 0"),
        (clamped_positions, "Hint: taps outside the image must read 0"),
        (lambda U, x, y, kernel="bilinear": gather_sample(U, y, x, kernel),
         "Hint: x and y are swapped"),
        (rounded, "Hint: the taps start at ⌊x⌋"),
        (lambda U, x, y, kernel="bilinear": gather_sample(U, x, y), "Hint: use the kernel argument"),
        (detached, "Hint: a .detach()"),
    ])
    assert run.passed.startswith("✓ gather_sample is correct: nearest, bilinear")
    clamped, _, _, round_taps, _, cut = run.errors
    # an output entry is named by the position it reads
    assert clamped.message.startswith(
        "gather_sample, case 'nearest, random positions' (kernel='nearest'): at output (image 0, "
        "channel 0, row 0, column 3), which reads U at (x, y) = (7.894, 5.199): your output is "
        "0.534713, expected 0")
    assert "case 'bilinear, random positions'" in round_taps.message  # nearest rounds, rightly
    assert cut.message == ("gather_sample, case 'nearest, random positions' (kernel='nearest'): "
                           "no gradient reaches 'x' through your output")
