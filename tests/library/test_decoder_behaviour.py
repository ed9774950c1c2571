"""The scatter decoder on hand-made grids whose result is computed by hand.

Grids are in pixel units on a 3×3 (or 3×4) input with ``align_corners=True``, where pixel m sits at the
normalized position m − 1 (for a side of 3), so each weight below is an exact binary fraction.
"""

import pytest
import torch

from stnlib.decoder import SpatialDecoder, scatter_decode


def _grid(points, W=3, H=3):
    """Pixel positions (x, y) → a 1×1×P×2 normalized grid (align_corners=True)."""
    p = torch.tensor(points, dtype=torch.float64)
    return torch.stack([2 * p[:, 0] / (W - 1) - 1, 2 * p[:, 1] / (H - 1) - 1], -1).view(1, 1, -1, 2)


def _values(*v):
    return torch.tensor(v, dtype=torch.float64).view(1, 1, 1, -1)


def test_weights_are_normalized_per_pixel():
    # a at pixel (row 1, col 1) with value 1; b at x = 1.5 with value 3 (half on col 1, half on col 2)
    D = scatter_decode(_values(1.0, 3.0), _grid([(1, 1), (1.5, 1)]), (3, 3), align_corners=True,
                       skip=torch.full((1, 1, 3, 3), -1.0, dtype=torch.float64))
    expected = torch.full((3, 3), -1.0, dtype=torch.float64)
    expected[1, 1] = (1 * 1 + 3 * 0.5) / (1 + 0.5)
    expected[1, 2] = 3.0
    torch.testing.assert_close(D[0, 0], expected, rtol=0, atol=1e-12)


def test_weight_beyond_the_border_is_dropped_not_clamped_onto_the_edge():
    # b lies half a pixel beyond the right edge: its tap at x = 3 is outside and must not land on col 2
    D = scatter_decode(_values(1.0, 3.0), _grid([(2, 1), (2.5, 1)]), (3, 3), align_corners=True)
    expected = torch.zeros(3, 3, dtype=torch.float64)
    expected[1, 2] = (1 * 1 + 3 * 0.5) / (1 + 0.5)
    torch.testing.assert_close(D[0, 0], expected, rtol=0, atol=1e-12)
    # the same beyond the bottom edge, with the bicubic kernel too (its taps are padded differently)
    for kernel in ("bilinear", "bicubic"):
        far = scatter_decode(_values(5.0), _grid([(1, 3.5)]), (3, 3), align_corners=True, kernel=kernel)
        assert far.abs().max() == 0, kernel


def test_holes_are_zero_without_skip_features_and_take_them_with():
    V, grid = _values(2.0), _grid([(0, 0)])
    D = scatter_decode(V, grid, (3, 3), align_corners=True)
    expected = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    expected[0, 0, 0, 0] = 2.0
    torch.testing.assert_close(D, expected, rtol=0, atol=0)
    skip = torch.arange(9, dtype=torch.float64).view(1, 1, 3, 3)
    expected = skip.clone()
    expected[0, 0, 0, 0] = 2.0
    torch.testing.assert_close(scatter_decode(V, grid, (3, 3), align_corners=True, skip=skip), expected)


def test_coverage_threshold_decides_which_pixels_keep_the_skip_features():
    # one value at x = 0.25: weight 0.75 on col 0 and exactly 0.25 on col 1
    V, grid = _values(4.0), _grid([(0.25, 0)])
    skip = torch.full((1, 1, 3, 3), 9.0, dtype=torch.float64)

    def row(**kw):
        return scatter_decode(V, grid, (3, 3), align_corners=True, skip=skip, **kw)[0, 0, 0].tolist()

    assert row() == [4.0, 4.0, 9.0]  # default eps = 1e-6: both covered
    assert row(eps=0.25) == [4.0, 9.0, 9.0]  # a weight equal to eps is not enough
    assert row(eps=0.2) == [4.0, 4.0, 9.0]
    assert row(eps=0.8) == [9.0, 9.0, 9.0]
    dec = SpatialDecoder(align_corners=True, eps=0.5)
    theta = torch.tensor([[[1.0, 0.0, -0.75], [0.0, 1.0, -1.0]]], dtype=torch.float64)  # 1×1 output at (0.25, 0)
    assert dec(V, theta, skip)[0, 0, 0].tolist() == [4.0, 9.0, 9.0]
    assert SpatialDecoder(align_corners=True)(V, theta, skip)[0, 0, 0].tolist() == [4.0, 4.0, 9.0]


def test_kernel_choice_reaches_the_scatter():
    V, grid = _values(4.0), _grid([(0.25, 0)])
    skip = torch.full((1, 1, 3, 3), 9.0, dtype=torch.float64)
    nearest = scatter_decode(V, grid, (3, 3), align_corners=True, kernel="nearest", skip=skip)
    assert nearest[0, 0, 0].tolist() == [4.0, 9.0, 9.0]
    theta = torch.tensor([[[1.0, 0.0, -0.75], [0.0, 1.0, -1.0]]], dtype=torch.float64)
    assert SpatialDecoder(align_corners=True, kernel="nearest")(V, theta, skip)[0, 0, 0].tolist() == [4.0, 9.0, 9.0]
    assert SpatialDecoder(align_corners=True, kernel="nearest").kernel == "nearest"


def test_tps_decoder_uses_its_number_of_control_points():
    x = torch.rand(2, 1, 6, 6, dtype=torch.float64)
    for n in (3, 4):
        dec = SpatialDecoder(align_corners=False, transform="tps", tps_points=n)
        torch.testing.assert_close(dec(x, torch.zeros(2, n * n, 2, dtype=torch.float64), torch.zeros_like(x)), x)
    with pytest.raises(ValueError, match=r"N×16×2"):
        SpatialDecoder(align_corners=False, transform="tps")(x, torch.zeros(2, 9, 2, dtype=torch.float64), x)


def _message(fn, *args, **kwargs):
    with pytest.raises((TypeError, ValueError)) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_bad_input_to_scatter_decode_names_the_argument():
    V, grid, skip = torch.rand(2, 2, 4, 5), torch.rand(2, 4, 5, 2), torch.rand(2, 2, 8, 8)
    assert _message(scatter_decode, [1.0], grid, (8, 8), align_corners=False) == \
        "V must be a torch.Tensor N×C×H'×W', got list"
    assert _message(scatter_decode, V[0], grid, (8, 8), align_corners=False) == \
        "V must be a 4-D tensor N×C×H'×W', got shape (2, 4, 5)"
    assert _message(scatter_decode, V, [0.0], (8, 8), align_corners=False) == \
        "grid must be a torch.Tensor N×H'×W'×2, got list"
    assert _message(scatter_decode, V, grid[0], (8, 8), align_corners=False) == \
        "grid must be a 4-D tensor N×H'×W'×2, got shape (4, 5, 2)"
    assert _message(scatter_decode, V, torch.rand(2, 3, 3, 2), (8, 8), align_corners=False) == \
        "grid must have shape N×H'×W'×2 matching V's N×C×4×5, got (2, 3, 3, 2)"
    assert _message(scatter_decode, V, grid[:1], (8, 8), align_corners=False) == \
        "batch size mismatch: V has 2 items (shape (2, 2, 4, 5)) but grid has 1 (shape (1, 4, 5, 2))"
    assert _message(scatter_decode, V, grid, (8,), align_corners=False) == \
        "out_size must be an int or a sequence of 2 ints, got (8,)"
    assert _message(scatter_decode, V, grid, (8, 8), align_corners=None) == \
        "align_corners must be True or False (pass it explicitly), got None"
    assert _message(scatter_decode, V, grid, (8, 8), align_corners=False, skip="zeros") == \
        "skip must be a torch.Tensor N×C×H×W, got str"
    assert _message(scatter_decode, V, grid, (8, 8), align_corners=False, skip=skip[0]) == \
        "skip must be a 4-D tensor N×C×H×W, got shape (2, 8, 8)"
    assert _message(scatter_decode, V, grid, (8, 8), align_corners=False, skip=skip[:, :1]) == \
        "skip must have shape (2, 2, 8, 8), got (2, 1, 8, 8)"


def test_bad_input_to_the_decoder_module_names_the_argument():
    assert _message(SpatialDecoder, align_corners=False, transform="timewarp") == \
        "SpatialDecoder needs an image transform, got 'timewarp'"
    assert _message(SpatialDecoder, align_corners="yes") == \
        "align_corners must be True or False (pass it explicitly), got 'yes'"
    dec = SpatialDecoder(align_corners=False)
    V, theta, skip = torch.rand(2, 2, 4, 4), torch.eye(2, 3).expand(2, 2, 3), torch.rand(2, 2, 8, 8)
    assert _message(dec, V[0], theta, skip) == "V must be a 4-D tensor N×C×H'×W', got shape (2, 4, 4)"
    assert _message(dec, V, theta, skip[0]) == "skip must be a 4-D tensor N×C×H×W, got shape (2, 8, 8)"
    assert _message(dec, "V", theta, skip) == "V must be a torch.Tensor N×C×H'×W', got str"


def test_holes_are_zero_for_every_item_and_channel():
    V = torch.arange(1.0, 7.0, dtype=torch.float64).view(2, 3, 1, 1)  # 2 items × 3 channels, one value each
    grid = _grid([(1, 1)]).expand(2, 1, 1, 2)
    D = scatter_decode(V, grid, (3, 3), align_corners=True)
    expected = torch.zeros(2, 3, 3, 3, dtype=torch.float64)
    expected[:, :, 1, 1] = V[:, :, 0, 0]
    torch.testing.assert_close(D, expected, rtol=0, atol=0)
