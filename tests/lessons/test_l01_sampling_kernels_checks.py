"""Lesson 01's exercise checks, case by case (issue 25, mutation run of 2026-12-05): the kernel check's three
steps (the 13 points, the subgradient, the sampler built from both) each name their case and entry; a kernel or
subgradient right on the 13 points but wrong between them, or only at exact pixel positions, is caught by the
sampler step; the gather check names each of its six value cases and three gradient cases, the off-by-one
masks and index errors get their exact hints; the checks' own tolerances accept rounding and nothing more."""

import math

import pytest
import torch
from checks import wrong_in_one_call
from test_l01_sampling_kernels import indexed, masked

from stnlib import kernels
from stnlib.course.checking import CheckError
from stnlib.lessons import l01_sampling_kernels as L


def feedback(check, *student):
    with pytest.raises(CheckError) as err:
        check(*student, verbose=False)
    return err.value.message, err.value.hint


def kernel(d):
    return (1 - d.abs()).clamp_min(0)


subgradient = kernels.bilinear_derivative
RIGHT = ("right away from the kinks, wrong at them; at a kink any value between the left and the right derivative "
         "is a subgradient, but the course (and grid_sample) uses the right derivative, lim h→0⁺ (k(d + h) − k(d)) "
         "/ h: +1 on [−1, 0), −1 on [0, 1), 0 elsewhere")
SG = "bilinear_subgradient, case 'd across the kinks': "
SAMPLER = "the sampler with your bilinear kernel, case "
RANDOM_00 = "'random positions': at output pixel (row 0, column 0) of image 0, which reads U at (x, y) = " \
            "(-0.331499, 2.71057)"
PIXEL_01 = "'exact pixel positions': at output pixel (row 0, column 1) of image 0, which reads U at (x, y) = (3, 0)"


def test_the_kink_points_and_the_last_one_named():
    assert L._kink_points().tolist() == [-2.5, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5]
    assert L._kink_points().dtype == torch.float64
    assert feedback(L.check_bilinear_kernel, wrong_in_one_call(kernel, 0, (12,)), subgradient) == (
        "bilinear_kernel, case 'd across the kinks': at d = 2.5: your kernel is 1, expected 0 (1 of 13 entries "
        "differ)", None)


def at_pixel_positions(right, wrong):
    """``right`` on the 13 points, ``wrong`` when the sampler calls it at exact pixel positions only."""
    def f(d):
        return wrong(d) if d.dim() > 1 and bool((d == d.round()).all()) else right(d)
    return f


@pytest.mark.parametrize("k, sg, expected", [
    # right on the 13 points (multiples of 1/4), wrong between them
    (lambda d: kernel(d) + 0.01 * torch.sin(4 * math.pi * d), subgradient,
     RANDOM_00 + ", channel 0: your output is 0.236551, expected 0.231799 (60 of 80 entries differ)"),
    (kernel, lambda d: subgradient(d) + 0.01 * torch.sin(4 * math.pi * d),
     RANDOM_00 + ", its x coordinate: the gradient of your output w.r.t. 'grid' is -3.25839, expected -3.23079 (59 "
     "of 80 entries differ)"),
    # right on the 13 points and at random positions, wrong at exact pixel positions
    (at_pixel_positions(kernel, lambda d: kernel(d) * 0.5), subgradient,
     PIXEL_01 + ", channel 0: your output is 0.0437318, expected 0.174927 (50 of 80 entries differ)"),
    (kernel, at_pixel_positions(subgradient, L._bilinear_left_derivative),
     PIXEL_01 + ", its x coordinate: the gradient of your output w.r.t. 'grid' is 0.462635, expected -1.43435 (57 "
     "of 80 entries differ)"),
], ids=["kernel-between", "subgradient-between", "kernel-at-pixels", "subgradient-at-pixels"])
def test_the_sampler_step_catches_what_the_13_points_miss(k, sg, expected):
    assert feedback(L.check_bilinear_kernel, k, sg) == (SAMPLER + expected, None)


def test_the_sampler_step_tolerance():
    # rtol 1e-7 and atol 1e-9 (the defaults would pass 2e-7 relative; the 13 points do)
    assert feedback(L.check_bilinear_kernel, lambda d: kernel(d) * (1 + 2e-7), subgradient) == (
        SAMPLER + RANDOM_00 + ", channel 0: your output is 0.231799, expected 0.231799 (60 of 80 entries differ)", None)
    assert L.check_bilinear_kernel(lambda d: kernel(d) * (1 + 5e-8), subgradient, verbose=False) is True


@pytest.mark.parametrize("kink", [-1.0, 0.0, 1.0])
def test_a_subgradient_wrong_only_at_one_kink_gets_the_right_derivative_hint(kink):
    expected = {-1.0: 1, 0.0: -1, 1.0: 0}[kink]
    wrong = lambda d: torch.where(d == kink, torch.full_like(d, 0.5), subgradient(d))  # noqa: E731
    assert feedback(L.check_bilinear_kernel, kernel, wrong) == (
        SG + f"at d = {kink:g}: your subgradient is 0.5, expected {expected} (1 of 13 entries differ)", RIGHT)
    # float32 is compared in float64: the hint still fires
    assert feedback(L.check_bilinear_kernel, kernel, lambda d: wrong(d).float())[1] == RIGHT


@pytest.mark.parametrize("wrong, message", [
    (lambda d: torch.where((d == 0) | (d == 0.25), torch.full_like(d, 0.5), subgradient(d)),
     "at d = 0: your subgradient is 0.5, expected -1 (2 of 13 entries differ)"),
    (lambda d: subgradient(d).tolist(), "your subgradient must be a torch.Tensor, got list (use torch.tensor / "
                                        "torch.stack, not a list)"),
    (lambda d: subgradient(d)[:-1], "your subgradient has shape (12,), expected (13,)"),
], ids=["kink-and-not", "list", "shape"])
def test_no_kink_hint_for_other_mistakes(wrong, message):
    assert feedback(L.check_bilinear_kernel, kernel, wrong) == (SG + message, None)


def test_a_subgradient_that_raises_is_reported_with_its_case():
    def raises(d):
        raise ValueError("boom")
    assert feedback(L.check_bilinear_kernel, kernel, raises) == (SG + "your function raised ValueError: boom", None)


def test_the_left_derivative_helper():
    d = L._kink_points()
    assert L._bilinear_left_derivative(d).tolist() == [0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1, 0, 0]
    assert L._bilinear_derivative(d).tolist() == [0, 0, 1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0]


def test_the_grid_case_describes_u_and_the_grid():
    U = torch.zeros(1, 2, 4, 8)
    grid = torch.tensor([[[[-0.5, 0.5]]]])  # x = 1.5, y = 2.5 pixels (align_corners=False)
    case = {"U": U, "grid": grid}
    assert L._describe_grid_case(case, "U", (0, 1, 2, 3)) == "input pixel (row 2, column 3) of image 0, channel 1"
    assert L._describe_grid_case(case, "output", (0, 1, 0, 0)) == (
        "output pixel (row 0, column 0) of image 0, which reads U at (x, y) = (1.5, 2.5), channel 1")
    assert L._describe_grid_case(case, "grid", (0, 0, 0, 1)) == (
        "output pixel (row 0, column 0) of image 0, which reads U at (x, y) = (1.5, 2.5), its y coordinate")
    assert L._describe_grid_case(case, "grid", (0, 0, 0)) is None
    assert L._describe_grid_case(case, "U", (0, 0)) is None
    assert L._describe_grid_case(case, "output", (0, 0, 0)) is None


def test_pixel_positions_lie_inside_and_a_little_outside():
    x, y = L._pixel_positions(4, 8, 8, 5, 9, seed=1)
    assert x.shape == y.shape == (4, 8, 8) and x.dtype == torch.float64
    for v, size in ((x, 9), (y, 5)):
        frac = v - v.floor()
        assert bool((((frac >= 0.1) & (frac <= 0.4)) | ((frac >= 0.6) & (frac <= 0.9))).all())
        assert v.min() >= -1 and v.max() < size + 1.5  # whole part from -1 to size, plus at most 1.4
        assert bool((v < 0).any()) and bool((v > size - 1).any())
    xi, yi = L._pixel_positions(4, 8, 8, 5, 9, integer=True, seed=1)
    assert bool((xi == xi.round()).all()) and xi.min() == -1 and xi.max() == 9 and yi.min() == -1 and yi.max() == 5
    assert L._pixel_positions(1, 2, 2, 5, 9, dtype=torch.float32)[0].dtype == torch.float32


GATHER = "gather_sample, case "
AT00 = ": at output (image 0, channel 0, row 0, column 0), which reads U at (x, y) = "


@pytest.mark.parametrize("case, where, expected, hint", [
    (0, (slice(None),), "'nearest, random positions' (kernel='nearest')" + AT00 + "(1.382, 3.106): your output is "
     "1.54433, expected 0.544326 (72 of 72 entries differ)", None),
    (1, (slice(None),), "'nearest, pixel centres' (kernel='nearest')" + AT00 + "(2, 2): your output is 1.655, expected "
     "0.654998 (72 of 72 entries differ)", None),
    (2, (slice(None),), "'bilinear, random positions' (kernel='bilinear')" + AT00 + "(1.382, 3.106): your output is "
     "1.65603, expected 0.656032 (72 of 72 entries differ)", None),
    (3, (slice(None),), "'bilinear, pixel centres' (kernel='bilinear')" + AT00 + "(2, 2): your output is 1.655, "
     "expected 0.654998 (72 of 72 entries differ)", None),
    (4, (slice(None),), "'bicubic, random positions' (kernel='bicubic')" + AT00 + "(1.382, 3.106): your output is "
     "1.71824, expected 0.718244 (72 of 72 entries differ)", None),
    (5, (slice(None),), "'bicubic, pixel centres' (kernel='bicubic')" + AT00 + "(2, 2): your output is 1.655, expected "
     "0.654998 (72 of 72 entries differ)", None),
    # (6, 4) with the bicubic taps 3 … 6 on the rows reaches past row 4: the zero-padding hint
    (5, (1, 2, 2, 3), "'bicubic, pixel centres' (kernel='bicubic'): at output (image 1, channel 2, row 2, column 3), "
     "which reads U at (x, y) = (6, 4): your output is 1.71894, expected 0.718939 (1 of 72 entries differ)",
     "taps outside the image must read 0 (zero padding): your values differ only where the kernel reaches outside "
     "the image"),
], ids=["nearest", "nearest-centres", "bilinear", "bilinear-centres", "bicubic", "bicubic-centres", "bicubic-edge"])
def test_each_gather_value_case_is_run_with_its_inputs(case, where, expected, hint):
    assert feedback(L.check_gather_sample, wrong_in_one_call(L.gather_reference, case, where)) == (
        GATHER + expected, hint)


def gradient_wrong(what, kern):
    """Right values; the gradient w.r.t. ``what`` 1.5×, only with the kernel ``kern``."""
    def gather_sample(U, x, y, kernel="bilinear"):
        if kernel == kern:
            U, x, y = (v + 0.5 * (v - v.detach()) if name == what else v for name, v in (("U", U), ("x", x), ("y", y)))
        return L.gather_reference(U, x, y, kernel)
    return gather_sample


READS = ": at output (image 0, row 0, column 0), which reads U at (x, y) = (1.382, 3.106), the gradient w.r.t. its "


@pytest.mark.parametrize("what, kern, expected", [
    ("U", "nearest", "'nearest, random positions' (kernel='nearest'): at U[0, 0] at row 0, column 0: the gradient of "
     "your output w.r.t. 'U' is -1.32604, expected -0.884025 (45 of 270 entries differ)"),
    ("U", "bilinear", "'bilinear, random positions' (kernel='bilinear'): at U[0, 0] at row 0, column 0: the gradient "
     "of your output w.r.t. 'U' is -0.875967, expected -0.583978 (138 of 270 entries differ)"),
    ("U", "bicubic", "'bicubic, random positions' (kernel='bicubic'): at U[0, 0] at row 0, column 0: the gradient of "
     "your output w.r.t. 'U' is -1.13134, expected -0.754228 (270 of 270 entries differ)"),
    ("x", "bilinear", "'bilinear, random positions' (kernel='bilinear')" + READS + "x: the gradient of your output "
     "w.r.t. 'x' is -1.06106, expected -0.707372 (18 of 24 entries differ)"),
    ("y", "bicubic", "'bicubic, random positions' (kernel='bicubic')" + READS + "y: the gradient of your output w.r.t. "
     "'y' is 0.528537, expected 0.352358 (24 of 24 entries differ)"),
], ids=["U-nearest", "U-bilinear", "U-bicubic", "x-bilinear", "y-bicubic"])
def test_each_gather_gradient_case_is_compared_and_named(what, kern, expected):
    assert feedback(L.check_gather_sample, gradient_wrong(what, kern)) == (GATHER + expected, None)


def test_gather_tolerance():
    G = L.gather_reference
    # rtol 1e-6 and atol 1e-9: 2e-6 relative and 5e-9 absolute are caught (the defaults would pass both)
    assert feedback(L.check_gather_sample, lambda U, x, y, kernel="bilinear": G(U, x, y, kernel) * (1 + 2e-6)) == (
        GATHER + "'nearest, random positions' (kernel='nearest')" + AT00 + "(1.382, 3.106): your output is "
        "0.544327, expected 0.544326 (48 of 72 entries differ)", None)
    message, _ = feedback(L.check_gather_sample, lambda U, x, y, kernel="bilinear": G(U, x, y, kernel) + 5e-9)
    assert message == (GATHER + "'nearest, random positions' (kernel='nearest'): at output (image 0, channel 0, "
                       "row 0, column 3), which reads U at (x, y) = (7.894, 5.199): your output is 5e-09, expected "
                       "0 (24 of 72 entries differ)")
    assert L.check_gather_sample(lambda U, x, y, kernel="bilinear": G(U, x, y, kernel) * (1 + 5e-7) + 5e-10,
                                 verbose=False) is True


MASK = ". A tap is inside when 0 ≤ tx ≤ W − 1 and 0 ≤ ty ≤ H − 1, both ends included"


@pytest.mark.parametrize("mask, message, hint", [
    (dict(lo_x=-1), "'nearest, pixel centres' (kernel='nearest'): at output (image 0, channel 0, row 1, column 2), "
     "which reads U at (x, y) = (-1, 0): your output is 0.642015, expected 0 (3 of 72 entries differ)",
     "`tx >= -1` lets the tap at column −1, outside the image, read the border"),
    (dict(hi_y=1), "'nearest, random positions' (kernel='nearest'): at output (image 0, channel 0, row 0, column 3), "
     "which reads U at (x, y) = (7.894, 5.199): your output is 0.534713, expected 0 (6 of 72 entries differ)",
     "`ty <= H` lets the tap at row H, outside the image, read the border"),
    (dict(lo_x=1, hi_x=1, lo_y=-1, hi_y=-1), "'nearest, random positions' (kernel='nearest'): at output (image 0, "
     "channel 0, row 1, column 0), which reads U at (x, y) = (0.1209, -0.2486): your output is 0, expected 0.642015 "
     "(18 of 72 entries differ)", "`tx > 0` leaves out column 0; `tx <= W` lets the tap at column W, outside the "
     "image, read the border; `ty >= -1` lets the tap at row −1, outside the image, read the border; `ty < H − 1` "
     "leaves out the last row, H − 1"),
], ids=["lo-x", "hi-y", "four"])
def test_off_by_one_masks_word_for_word(mask, message, hint):
    assert feedback(L.check_gather_sample, masked(**mask)) == (GATHER + message, "off by one in the validity mask: "
                                                               + hint + MASK)


def test_mask_said_for_each_end():
    assert L._mask_said("x", 0, 0) == []
    assert L._mask_said("y", 1, 1) == ["`ty > 0` leaves out row 0", "`ty <= H` lets the tap at row H, outside the "
                                       "image, read the border"]
    assert L._mask_said("x", -1, -1) == ["`tx >= -1` lets the tap at column −1, outside the image, read the border",
                                         "`tx < W − 1` leaves out the last column, W − 1"]
    assert len(L._mask_mistakes()) == 3 ** 4 - 1  # every shifted mask but the right one


NEAREST = "'nearest, random positions' (kernel='nearest'): your function raised "


def always_out_of_bounds(U, x, y, kernel="bilinear"):
    return U.reshape(-1)[torch.tensor([U.numel() + 5])]


def gather_out_of_bounds(U, x, y, kernel="bilinear"):
    return U.reshape(U.shape[0], U.shape[1], -1).gather(2, torch.full((U.shape[0], U.shape[1], 3), 999))


def list_index(U, x, y, kernel="bilinear"):
    raise IndexError("list index out of range")


GENERAL = ("an index ran outside U: rows go with y and H, columns with x and W (U[n, c, y, x]), and taps outside "
           "the image must be clamped into it before indexing")


@pytest.mark.parametrize("student, message, hint", [
    (indexed(swap=True), "IndexError: index 8 is out of bounds for dimension 1 with size 5",
     "x and y are swapped in your index: on this 5×9 image (H = 5 rows, W = 9 columns) a column number ran past the "
     "5 rows. x is the column, y the row: U[n, c, y, x], and a flat index is y · W + x"),
    (indexed(clamp=False), "IndexError: index 5 is out of bounds for dimension 1 with size 5",
     "a tap outside the image was used as an index: clamp the taps into it (tx.clamp(0, W − 1), ty.clamp(0, H − 1)) "
     "before indexing, and give those outside weight 0"),
    (always_out_of_bounds, "IndexError: index 275 is out of bounds for dimension 0 with size 270", GENERAL),
    (gather_out_of_bounds, "RuntimeError: index 999 is out of bounds for dimension 2 with size 45", GENERAL),
    (list_index, "IndexError: list index out of range", None),
], ids=["swapped", "unclamped", "always", "gather", "other-index-error"])
def test_index_errors_word_for_word(student, message, hint):
    got, got_hint = feedback(L.check_gather_sample, student)
    assert got.startswith(GATHER + NEAREST + message) and got_hint == hint


def test_index_hint_tries_the_bilinear_kernel_when_nearest_raises():
    def nearest_fails(U, x, y, kernel="bilinear"):  # x and y swapped, and no nearest kernel
        if kernel == "nearest":
            raise ValueError("no nearest")
        return L.gather_reference(U, y, x, kernel)
    assert L._index_hint(nearest_fails, 5, 9).startswith("x and y are swapped in your index: on this 5×9 image")
    assert L._index_hint(indexed(clamp=False), 4, 7).startswith("a tap outside the image was used as an index")


# the typical mistakes are built once, when the module is imported: their builders, called here, must build them


@pytest.mark.parametrize("mask", [{}, {"lo_x": 1}, {"hi_x": -1, "lo_y": -1}, {"hi_y": 1}, {"lo_x": -1, "hi_x": 1}],
                         ids=["right", "lo-x", "hi-x-lo-y", "hi-y", "lo-hi-x"])
@pytest.mark.parametrize("kern", ["nearest", "bilinear", "bicubic"])
def test_gather_masked_is_the_gather_with_that_mask(mask, kern):
    x, y = L._pixel_positions(2, 3, 4, 5, 9, seed=6)
    U = torch.rand(2, 3, 5, 9, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    got = L._gather_masked(**mask)(U, x, y, kern)
    torch.testing.assert_close(got, masked(**mask)(U, x, y, kern))
    if not mask:
        torch.testing.assert_close(got, L.gather_reference(U, x, y, kern))
    assert L._gather_masked(**mask)(U, x, y).shape == (2, 3, 3, 4)  # bilinear by default
    torch.testing.assert_close(L._gather_masked(**mask)(U, x, y), masked(**mask)(U, x, y, "bilinear"))


def test_mask_mistakes_one_per_shifted_mask_in_order():
    mistakes = L._mask_mistakes()
    tail = ". A tap is inside when 0 ≤ tx ≤ W − 1 and 0 ≤ ty ≤ H − 1, both ends included"
    # itertools.product order over (lo_x, hi_x, lo_y, hi_y) in (0, 1, -1): (0, 0, 0, 1) first, (-1, -1, -1, -1) last
    assert mistakes[0].hint == ("off by one in the validity mask: `ty <= H` lets the tap at row H, outside the image, "
                                "read the border" + tail)
    assert mistakes[-1].hint == ("off by one in the validity mask: `tx >= -1` lets the tap at column −1, outside the "
                                 "image, read the border; `tx < W − 1` leaves out the last column, W − 1; `ty >= -1` "
                                 "lets the tap at row −1, outside the image, read the border; `ty < H − 1` leaves out "
                                 "the last row, H − 1" + tail)
    x, y = L._pixel_positions(2, 3, 4, 5, 9, integer=True, seed=7)
    U = torch.rand(2, 3, 5, 9, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(mistakes[0].wrong(U, x, y, "nearest"), masked(hi_y=1)(U, x, y, "nearest"))
    torch.testing.assert_close(mistakes[-1].wrong(U, x, y, "bilinear"),
                               masked(-1, -1, -1, -1)(U, x, y, "bilinear"))


def test_the_right_answers_print_their_lines_only_when_verbose(capsys):
    assert L.check_bilinear_kernel(kernel, subgradient, verbose=False) is True
    assert L.check_gather_sample(L.gather_reference, verbose=False) is True
    assert capsys.readouterr().out == ""
    assert L.check_bilinear_kernel(kernel, subgradient) is True
    assert L.check_gather_sample(L.gather_reference) is True
    assert capsys.readouterr().out == (
        "✓ bilinear_kernel and bilinear_subgradient are correct: values on 13 points with the kinks, and the sampler "
        "built from them matches grid_sample in value and in the gradients w.r.t. U and the grid, also at exact pixel "
        "positions\n"
        "✓ gather_sample is correct: nearest, bilinear and bicubic match grid_sample in value (random positions and "
        "pixel centres, inside and outside the image) and in the gradients w.r.t. U, x and y\n")


def test_a_subgradient_stub_that_reads_d_first_is_still_open(capsys):
    def bilinear_subgradient(d):
        one = torch.ones_like(d)  # noqa: F841 - begun, not finished
        raise NotImplementedError("Exercise: write this part, then delete this line.")
    assert L.check_bilinear_kernel(kernel, bilinear_subgradient) is False
    assert capsys.readouterr().out.startswith("✓ bilinear_kernel is correct; … bilinear_subgradient is not "
                                              "implemented yet")


def at_pixel_centres(scale, shift=0.0):
    """The reference, off by ``scale`` relative and ``shift`` absolute only at exact pixel positions."""
    def gather_sample(U, x, y, kernel="bilinear"):
        out = L.gather_reference(U, x, y, kernel)
        return out * (1 + scale) + shift if bool((x == x.round()).all()) else out
    return gather_sample


def test_the_pixel_centre_cases_have_the_tight_tolerance_too():
    # the gradient step re-checks the random positions only: rtol 1e-6 and atol 1e-9 hold at pixel centres
    message, _ = feedback(L.check_gather_sample, at_pixel_centres(2e-6))
    assert message.startswith(GATHER + "'nearest, pixel centres' (kernel='nearest')" + AT00 + "(2, 2): your output "
                              "is 0.654999, expected 0.654998 (54 of 72 entries differ)")
    message, _ = feedback(L.check_gather_sample, at_pixel_centres(0.0, 5e-9))
    assert message.startswith(GATHER + "'nearest, pixel centres' (kernel='nearest'): at output (image 0, channel 0, "
                              "row 0, column 2), which reads U at (x, y) = (0, -1): your output is 5e-09, expected 0")


@pytest.mark.parametrize("case, where, position", [
    (1, (0, 0, 0, 3), "(image 0, channel 0, row 0, column 3), which reads U at (x, y) = (8, 2)"),   # tap at the last column
    (1, (0, 0, 1, 3), "(image 0, channel 0, row 1, column 3), which reads U at (x, y) = (5, 4)"),   # tap at the last row
    (1, (1, 0, 0, 3), "(image 1, channel 0, row 0, column 3), which reads U at (x, y) = (0, 2)"),   # tap at column 0
    (1, (1, 0, 1, 0), "(image 1, channel 0, row 1, column 0), which reads U at (x, y) = (1, 0)"),   # tap at row 0
    (3, (1, 0, 0, 3), "(image 1, channel 0, row 0, column 3), which reads U at (x, y) = (0, 2)"),   # bilinear, 0 and 1
], ids=["last-column", "last-row", "column-0", "row-0", "bilinear-column-0"])
def test_no_zero_padding_hint_for_an_entry_whose_taps_are_all_inside(case, where, position):
    kernel_name = ("nearest", "nearest", "bilinear", "bilinear")[case]
    label = {1: "nearest, pixel centres", 3: "bilinear, pixel centres"}[case]
    message, hint = feedback(L.check_gather_sample, wrong_in_one_call(L.gather_reference, case, where))
    assert message.startswith(f"{GATHER}'{label}' (kernel='{kernel_name}'): at output {position}: your output is ")
    assert message.endswith("(1 of 72 entries differ)") and hint is None


def test_no_zero_padding_hint_when_inside_entries_are_off_too():
    # 5e-6 relative everywhere (beyond rtol 1e-6) and 1 at an entry that reads outside: not only outside entries
    def gather_sample(U, x, y, kernel="bilinear"):
        out = L.gather_reference(U, x, y, kernel) * (1 + 5e-6)
        out[0, 0, 0, 3] += 1.0  # reads U at (7.894, 5.199), below the last row
        return out
    assert feedback(L.check_gather_sample, gather_sample)[1] is None


@pytest.mark.parametrize("wrong", [lambda out: out[:, :1], lambda out: out.tolist()], ids=["shape", "list"])
def test_no_zero_padding_hint_for_a_wrong_shape_or_type(wrong):
    assert feedback(L.check_gather_sample, lambda U, x, y, kernel="bilinear": wrong(
        L.gather_reference(U, x, y, kernel)))[1] is None


def test_index_hint_unclamped_when_only_one_kernel_reads_right():
    unclamped = indexed(clamp=False)

    def gather_sample(U, x, y, kernel="bilinear"):  # unclamped, and bilinear is off besides
        out = unclamped(U, x, y, kernel)
        return out * 2 if kernel == "bilinear" else out
    assert L._index_hint(gather_sample, 5, 9).startswith("a tap outside the image was used as an index")


def test_index_hint_general_when_no_kernel_reads_right():
    unclamped = indexed(clamp=False)

    def gather_sample(U, x, y, kernel="bilinear"):  # unclamped, and 1.5× the values besides
        return unclamped(U, x, y, kernel) * 1.5
    assert L._index_hint(gather_sample, 5, 9) == GENERAL


@pytest.mark.parametrize("swap", [True, False], ids=["swapped", "unclamped"])
@pytest.mark.parametrize("off", [lambda v: v * (1 + 5e-6), lambda v: v + 1e-6 * v.abs() + 5e-7],
                         ids=["relative", "absolute"])
def test_index_hint_reads_right_only_within_its_own_tolerance(swap, off):
    # 5e-6 relative, or 5e-7 beyond rtol 1e-6: inside torch-like defaults (1e-5, 1e-6), outside the hint's (1e-6, 1e-9)
    def gather_sample(U, x, y, kernel="bilinear"):
        return off(L.gather_reference(U, y, x, kernel) if swap else L.gather_reference(U, x, y, kernel))
    assert L._index_hint(gather_sample, 5, 9) == GENERAL


def test_no_zero_padding_hint_when_inside_entries_are_off_by_more_than_atol():
    # inside entries 5e-9 beyond rtol 1e-6 (within isclose's default atol 1e-8, not the hint's 1e-9)
    def gather_sample(U, x, y, kernel="bilinear"):
        ref = L.gather_reference(U, x, y, kernel)
        out = ref + 1e-6 * ref.abs() + 5e-9
        out[0, 0, 0, 3] += 1.0  # reads U at (7.894, 5.199), below the last row
        return out
    assert feedback(L.check_gather_sample, gather_sample)[1] is None


def test_the_kink_and_outside_hints_need_the_expected_shape():
    # an answer of another shape that broadcasts against the expected one gets neither hint
    d = L._kink_points()
    expected = ((d >= -1) & (d < 0)).double() - ((d >= 0) & (d < 1)).double()  # the right derivative
    wrong_at_zero = expected.clone()
    wrong_at_zero[d == 0] = 0.5
    assert L._only_at_kinks({"d": d}, wrong_at_zero, expected)  # the same answer in the right shape
    assert not L._only_at_kinks({"d": d}, wrong_at_zero[None], expected)
    g = torch.Generator().manual_seed(0)
    U = torch.rand(1, 1, 4, 5, generator=g, dtype=torch.float64).repeat(2, 1, 1, 1)  # two equal images,
    x = torch.tensor([[[0.5, -1.5]], [[0.5, -1.5]]], dtype=torch.float64)  # read alike; column -1.5 is outside
    y = torch.full_like(x, 1.5)
    case = {"U": U, "x": x, "y": y, "kernel": "bilinear"}
    ref = L.gather_reference(U, x, y, "bilinear")
    answer = ref.clone()
    answer[0, 0, 0, 1] += 1.0
    assert L._reads_outside(case, answer, ref)
    assert not L._reads_outside(case, answer[:1], ref)


@pytest.mark.parametrize("swap", [True, False], ids=["swapped", "unclamped"])
def test_index_hint_reads_right_up_to_its_own_tolerance_on_its_float64_probe(swap):
    # nearest raises, so bilinear decides; a gather computed in float64, 0.9999 of the hint's tolerance
    # (rtol 1e-6, atol 1e-9) off, still reads right on the float64 probe (a float32 one would round past the edge)
    def gather_sample(U, x, y, kernel="bilinear"):
        if kernel == "nearest":
            raise IndexError("index 8 is out of bounds for dimension 1 with size 5")
        U, x, y = U.double(), x.double(), y.double()
        out = L.gather_reference(U, y, x, kernel) if swap else L.gather_reference(U, x, y, kernel)
        return out + (1e-9 + 1e-6 * out.abs()) * (1 - 1e-4)
    assert L._index_hint(gather_sample, 5, 9).startswith(
        "x and y are swapped in your index" if swap else "a tap outside the image was used as an index")
