"""The sampler's coordinate helpers at their edge cases (written to kill mutmut's survivors).

`normalize` for a one-pixel axis, the padding modes far outside the image, their slopes'
dtypes, and the tap finder the decoder uses (`_taps`), each against grid_sample or by hand.
"""

import pytest
import torch
import torch.nn.functional as F

from stnlib.kernels import KERNELS
from stnlib.sampler import (
    _taps,
    grid_sample_native,
    grid_sample_reference,
    normalize,
    pad_coordinates,
    sample,
    sample_1d,
    unnormalize,
)


def test_normalize_with_aligned_corners_maps_the_end_pixels_to_plus_minus_one():
    x = torch.tensor([0.0, 1.0])
    assert normalize(x, 2, align_corners=True).tolist() == [-1.0, 1.0]
    assert normalize(torch.tensor([0.0, 2.0, 4.0]), 5, align_corners=True).tolist() == [-1.0, 0.0, 1.0]


def test_normalize_a_one_pixel_axis_with_aligned_corners_is_zero_everywhere():
    # one pixel: its centre is both corners; every position normalizes to 0 (no division by 0)
    out = normalize(torch.tensor([0.0, 0.3, -2.0]), 1, align_corners=True)
    assert torch.equal(out, torch.zeros(3))
    assert torch.isfinite(unnormalize(out, 1, align_corners=True)).all()


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [1, 2, 4, 5])
def test_reflection_far_outside_the_image_matches_grid_sample(size, align_corners):
    """Positions up to four image widths outside, on both sides: several mirrored copies."""
    torch.manual_seed(size)
    U = torch.rand(1, 1, 1, size, dtype=torch.float64)
    gx = torch.linspace(-9.0, 9.0, 181, dtype=torch.float64)
    grid = torch.stack([gx, torch.zeros_like(gx)], -1).view(1, 1, -1, 2)
    expected = F.grid_sample(U, grid, mode="bilinear", padding_mode="reflection",
                             align_corners=align_corners).flatten()
    x = unnormalize(gx, size, align_corners=align_corners)
    x_padded, _ = pad_coordinates(x, size, "reflection", align_corners=align_corners)
    assert ((x_padded >= 0) & (x_padded <= size - 1)).all()
    # linear interpolation of the one row at the padded positions
    lo = x_padded.floor().clamp(0, size - 1).long()
    hi = (lo + 1).clamp(max=size - 1)
    w = x_padded - lo
    row = U.flatten()
    assert torch.allclose(row[lo] * (1 - w) + row[hi] * w, expected, atol=1e-12)


def test_reflection_on_a_one_pixel_axis_with_aligned_corners_reads_that_pixel():
    x = torch.tensor([-3.0, 0.0, 0.7, 5.0])
    padded, slope = pad_coordinates(x, 1, "reflection", align_corners=True)
    assert torch.equal(padded, torch.zeros(4)) and torch.equal(slope, torch.zeros(4))


def test_reflection_slopes_flip_on_mirrored_copies_and_vanish_where_clamped():
    x = torch.tensor([-0.5, -1.2, 1.0, 6.0, 8.25, -7.3], dtype=torch.float64)
    padded, slope = pad_coordinates(x, 4, "reflection", align_corners=False)
    # span 4 (from -0.5 to 3.5), then clamped to [0, 3]. -0.5: the edge, mirrored onto itself and
    # clamped (0); -1.2: left of the edge, mirrored to 0.2 (-1); 1.0: inside (+1); 6.0 (t = 6.5):
    # the first mirrored copy, 1.0 (-1); 8.25 (t = 8.75): the second copy, not mirrored, 0.25
    # (+1); -7.3 (|t| = 6.8): left of the edge and on a mirrored copy, 0.7 (+1)
    assert torch.allclose(padded, torch.tensor([0.0, 0.2, 1.0, 1.0, 0.25, 0.7], dtype=torch.float64))
    assert slope.tolist() == [0.0, -1.0, 1.0, -1.0, 1.0, 1.0]


@pytest.mark.parametrize("mode", ["border", "reflection"])
def test_padding_slopes_have_the_coordinates_dtype(mode):
    x = torch.linspace(-3, 8, 23, dtype=torch.float64)
    padded, slope = pad_coordinates(x, 5, mode, align_corners=False)
    assert padded.dtype == slope.dtype == torch.float64


def test_zeros_padding_leaves_coordinates_and_slope_one():
    x = torch.tensor([-4.0, 0.5, 9.0])
    padded, slope = pad_coordinates(x, 3, "zeros", align_corners=False)
    assert torch.equal(padded, x) and torch.equal(slope, torch.ones(3))


@pytest.mark.parametrize("kernel", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_taps_reproduce_grid_sample_along_one_axis(kernel, padding, align_corners):
    """The decoder's tap finder: sum over taps of valid · weight · U[index] is grid_sample's row."""
    torch.manual_seed(0)
    size = 6
    U = torch.rand(1, 1, 1, size, dtype=torch.float64)
    gx = torch.linspace(-1.6, 1.6, 47, dtype=torch.float64) + 0.013  # off the pixel centres
    grid = torch.stack([gx, torch.zeros_like(gx)], -1).view(1, 1, -1, 2)
    expected = F.grid_sample(U, grid, mode=kernel, padding_mode=padding,
                             align_corners=align_corners).flatten()
    index, weight, valid = _taps(gx.view(1, 1, -1), size, KERNELS[kernel], padding, align_corners)
    assert index.dtype == torch.int64 and index.min() >= 0 and index.max() <= size - 1
    assert index.shape == weight.shape == valid.shape == (1, 1, 47, KERNELS[kernel].support)
    got = (U.flatten()[index] * weight * valid).sum(-1).flatten()
    assert torch.allclose(got, expected, atol=1e-10)


def test_taps_weights_carry_the_gradient_of_the_position():
    coord = torch.tensor([[[0.137]]], dtype=torch.float64, requires_grad=True)
    _, weight, valid = _taps(coord, 5, KERNELS["bilinear"], "zeros", False)
    assert valid.all()
    (weight * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    # x = (coord + 1) * 5 / 2 - 0.5; taps floor(x), floor(x) + 1 with weights 1 - f, f: d/dcoord = 2.5
    assert coord.grad.item() == pytest.approx(2.5)


# --------------------------------------------------------------------------- bad input, by name

_A = {"align_corners": False}
_U, _G = torch.rand(2, 1, 8, 8), torch.rand(2, 4, 4, 2) * 2 - 1

BAD_2D = [
    ((torch.rand(2, 8, 8), _G), ValueError, "U must be a 4-D tensor N×C×H×W, got shape (2, 8, 8)"),
    ((_U, torch.rand(2, 4, 4)), ValueError, "grid must be a 4-D tensor N×H'×W'×2, got shape (2, 4, 4)"),
    ((_U, torch.rand(2, 4, 4, 3)), ValueError,
     "grid must have shape N×H'×W'×2 (x, y), got (2, 4, 4, 3)"),
    ((_U, torch.rand(3, 4, 4, 2)), ValueError,
     "batch size mismatch: U has 2 items (shape (2, 1, 8, 8)) but grid has 3 (shape (3, 4, 4, 2))"),
    ((_U.double(), _G), TypeError, "U and grid must share a dtype, got U torch.float64 and grid "
                                   "torch.float32"),
]


@pytest.mark.parametrize("fn", [sample, grid_sample_reference, grid_sample_native])
@pytest.mark.parametrize("args, error, message", BAD_2D, ids=[f"bad{i}" for i in range(len(BAD_2D))])
def test_bad_input_names_the_argument_and_the_expected_shape(fn, args, error, message):
    with pytest.raises(error) as info:
        fn(*args, **_A)
    assert str(info.value) == message


@pytest.mark.parametrize("args, message", ids=["U", "grid", "batch"], argvalues=[
    ((torch.rand(2, 8), torch.rand(2, 4)), "U must be a 3-D tensor N×C×L, got shape (2, 8)"),
    ((torch.rand(2, 1, 8), torch.rand(2, 4, 1)),
     "grid must be a 2-D tensor N×L' (normalized positions), got shape (2, 4, 1)"),
    ((torch.rand(2, 1, 8), torch.rand(3, 4)),
     "batch size mismatch: U has 2 items (shape (2, 1, 8)) but grid has 3 (shape (3, 4))"),
])
def test_sample_1d_bad_input_names_the_argument_and_the_expected_shape(args, message):
    with pytest.raises(ValueError) as info:
        sample_1d(*args, **_A)
    assert str(info.value) == message


def test_an_unknown_sampler_is_named():
    with pytest.raises(ValueError, match=r"^unknown sampler 'fast'; expected one of 'native', 'reference'$"):
        sample(_U, _G, sampler="fast", **_A)


def test_sample_runs_grid_sample_by_default_and_the_course_sampler_when_asked():
    U = _U.clone().requires_grad_()
    native = sample(U, _G, **_A)
    reference = sample(U, _G, sampler="reference", **_A)
    assert "GridSampler" in type(native.grad_fn).__name__
    assert "GridSampler" not in type(reference.grad_fn).__name__
    assert torch.allclose(native, reference, atol=1e-6)


@pytest.mark.parametrize("sampler_name", ["native", "reference"])
@pytest.mark.parametrize("kernel", ["nearest", "bicubic"])
@pytest.mark.parametrize("padding", ["border", "reflection"])
def test_sample_and_sample_1d_pass_kernel_and_padding_on(sampler_name, kernel, padding):
    torch.manual_seed(1)
    U = torch.rand(2, 1, 5, 6, dtype=torch.float64)
    grid = torch.rand(2, 3, 7, 2, dtype=torch.float64) * 3 - 1.5  # partly outside the image
    expected = F.grid_sample(U, grid, mode=kernel, padding_mode=padding, align_corners=False)
    got = sample(U, grid, kernel=kernel, padding_mode=padding, sampler=sampler_name, **_A)
    assert torch.allclose(got, expected, atol=1e-10)
    row, positions = U[:, :, 0], grid[:, 0, :, 0]  # one row, positions along x
    expected_1d = F.grid_sample(row.unsqueeze(2), torch.stack(
        [positions, torch.zeros_like(positions)], -1).unsqueeze(1), mode=kernel,
        padding_mode=padding, align_corners=False).squeeze(2)
    got_1d = sample_1d(row, positions, kernel=kernel, padding_mode=padding, sampler=sampler_name, **_A)
    assert torch.allclose(got_1d, expected_1d, atol=1e-10)


@pytest.mark.parametrize("fn, args", [(sample, (_U, _G)), (grid_sample_reference, (_U, _G)),
                                      (sample_1d, (_U[:, :, 0], _G[:, 0, :, 0]))],
                         ids=["sample", "reference", "sample_1d"])
def test_align_corners_and_padding_mode_are_named_when_wrong(fn, args):
    with pytest.raises(TypeError) as info:
        fn(*args, align_corners=1)
    assert str(info.value) == "align_corners must be True or False (pass it explicitly), got 1"
    with pytest.raises(ValueError) as info:
        fn(*args, padding_mode="wrap", **_A)
    assert str(info.value) == ("unknown padding_mode 'wrap'; expected one of 'zeros', 'border', "
                               "'reflection'")


def test_sample_1d_runs_grid_sample_by_default_and_the_course_sampler_when_asked():
    row = _U[:, :, 0].clone().requires_grad_()
    positions = _G[:, 0, :, 0]
    native = sample_1d(row, positions, **_A)
    reference = sample_1d(row, positions, sampler="reference", **_A)
    # the 1-D result is a squeeze of the 2-D sample: look one node further back
    assert "GridSampler" in type(native.grad_fn.next_functions[0][0]).__name__
    assert "GridSampler" not in type(reference.grad_fn.next_functions[0][0]).__name__
    assert torch.allclose(native, reference, atol=1e-6)
