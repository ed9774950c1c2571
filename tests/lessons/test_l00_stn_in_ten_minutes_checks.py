"""Lesson 00's exercise checks, case by case (issue 25, mutation run of 2026-12-05): an answer right except
in one case, entry or gradient gets exactly the feedback naming that case, the entry (by the row of params it
comes from, or the output pixel and where it reads U) and the values, so every documented case runs with its
documented inputs; the tolerance accepts rounding and nothing more."""

import pytest
import torch
from checks import wrong_in_one_call

from stnlib import grids
from stnlib.course.checking import CheckError
from stnlib.lessons import l00_stn_in_ten_minutes as L


def message(check, student):
    with pytest.raises(CheckError) as err:
        check(student, verbose=False)
    assert err.value.hint is None
    return err.value.message


def theta_reference(params):
    return grids.attention_theta(params)


AT = "attention_theta, case "


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'identity': at params[0] = (s, tx, ty) = (1, 0, 0), θ[0, 0, 0] (should be s): your θ is 2, "
                        "expected 1 (6 of 6 entries differ)"),
    (1, (0, 1, 2), "'zoom in and shift': at params[0] = (s, tx, ty) = (0.5, 0.25, -0.5), θ[0, 1, 2] (should be ty): "
                   "your θ is 0.5, expected -0.5 (1 of 6 entries differ)"),
    (2, (slice(None),), "'batch of 3': at params[0] = (s, tx, ty) = (0.994, -0.736, -0.385), θ[0, 0, 0] (should be "
                        "s): your θ is 1.99438, expected 0.994385 (18 of 18 entries differ)"),
    (2, (0, 1, 0), "'batch of 3': at params[0] = (s, tx, ty) = (0.994, -0.736, -0.385), θ[0, 1, 0] (should be 0): "
                   "your θ is 1, expected 0 (1 of 18 entries differ)"),
    (2, (1, 0, 1), "'batch of 3': at params[1] = (s, tx, ty) = (1.4, 0.268, -0.0198), θ[1, 0, 1] (should be 0): "
                   "your θ is 1, expected 0 (1 of 18 entries differ)"),
    (2, (2, 1, 2), "'batch of 3': at params[2] = (s, tx, ty) = (0.383, 0.793, -0.0887), θ[2, 1, 2] (should be ty): "
                   "your θ is 0.911256, expected -0.088744 (1 of 18 entries differ)"),
], ids=["identity", "zoom-ty", "batch", "batch-0-10", "batch-1-01", "batch-2-12"])
def test_each_attention_case_is_run_with_its_inputs(case, where, expected):
    assert message(L.check_attention_theta, wrong_in_one_call(theta_reference, case, where)) == AT + expected


def test_the_batch_case_draws_its_params_as_documented():
    # s uniform in [0.25, 1.75), tx and ty uniform in [-1, 1), from the seed-0 generator
    g = torch.Generator().manual_seed(0)
    s, t = torch.rand(3, 1, generator=g) * 1.5 + 0.25, torch.rand(3, 2, generator=g) * 2 - 1
    assert torch.equal(L._cases_params(), torch.cat([s, t], 1))
    assert [f"{v:.3g}" for v in L._cases_params()[2].tolist()] == ["0.383", "0.793", "-0.0887"]


def gradient_of(k, batch=None):
    """Right values; the gradient w.r.t. params[:, k] 1.5× (only for a batch of ``batch`` rows, if given)."""
    def attention_theta(params):
        if batch is not None and params.shape[0] != batch:
            return theta_reference(params)
        m = torch.zeros(params.shape[-1], dtype=params.dtype)
        m[k] = 0.5
        return theta_reference(params + m * (params - params.detach()))
    return attention_theta


@pytest.mark.parametrize("k, batch, expected", [
    (0, None, "'identity': at params[0] = (s, tx, ty) = (1, 0, 0), the entry of s: the gradient of your output "
              "w.r.t. 'params' is 0.684711, expected 0.456474 (1 of 3 entries differ)"),
    (1, None, "'identity': at params[0] = (s, tx, ty) = (1, 0, 0), the entry of tx: the gradient of your output "
              "w.r.t. 'params' is -3.26818, expected -2.17879 (1 of 3 entries differ)"),
    (2, None, "'identity': at params[0] = (s, tx, ty) = (1, 0, 0), the entry of ty: the gradient of your output "
              "w.r.t. 'params' is -2.09789, expected -1.3986 (1 of 3 entries differ)"),
    (0, 3, "'batch of 3': at params[0] = (s, tx, ty) = (0.994, -0.736, -0.385), the entry of s: the gradient of "
           "your output w.r.t. 'params' is -0.790501, expected -0.527 (3 of 9 entries differ)"),
], ids=["s", "tx", "ty", "batch-only"])
def test_a_wrong_gradient_is_named_by_its_param(k, batch, expected):
    assert message(L.check_attention_theta, gradient_of(k, batch)) == AT + expected


def test_attention_tolerance():
    # check_function's defaults: 1e-6 + 1e-5·|θ|; 2e-5 relative is caught, 2e-6 relative is not
    assert message(L.check_attention_theta, lambda params: theta_reference(params) * (1 + 2e-5)) == AT + (
        "'identity': at params[0] = (s, tx, ty) = (1, 0, 0), θ[0, 0, 0] (should be s): your θ is 1.00002, "
        "expected 1 (2 of 6 entries differ)")
    assert L.check_attention_theta(lambda params: theta_reference(params) * (1 + 2e-6), verbose=False) is True


WARP = "warp, case "


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'identity, same size' (out_size=(9, 12)): at output pixel (row 0, column 0) of image 0, "
                        "channel 0, which reads U at (x, y) = (-1.19e-07, -2.98e-08) pixels: your output is 1.75763, "
                        "expected 0.757631 (648 of 648 entries differ)"),
    (0, (1, 2, 8, 11), "'identity, same size' (out_size=(9, 12)): at output pixel (row 8, column 11) of image 1, "
                       "channel 2, which reads U at (x, y) = (11, 8) pixels: your output is 1.97238, expected "
                       "0.972382 (1 of 648 entries differ)"),
    (1, (slice(None),), "'zoom in, 6×8 output' (out_size=(6, 8)): at output pixel (row 0, column 0) of image 0, "
                        "channel 0, which reads U at (x, y) = (4.07, 1.68) pixels: your output is 1.23225, expected "
                        "0.232251 (288 of 288 entries differ)"),
    (1, (1,), "'zoom in, 6×8 output' (out_size=(6, 8)): at output pixel (row 0, column 0) of image 1, channel 0, "
              "which reads U at (x, y) = (-0.5, 2.12) pixels: your output is 1.03168, expected 0.0316806 (144 of "
              "288 entries differ)"),
    (2, (slice(None),), "'rotate 90°, 12×12 output' (out_size=(12, 12)): at output pixel (row 0, column 0) of image "
                        "0, channel 0, which reads U at (x, y) = (11.6, -0.125) pixels: your output is 1.18363, "
                        "expected 0.183633 (864 of 864 entries differ)"),
    (2, (1, 1, 11, 5), "'rotate 90°, 12×12 output' (out_size=(12, 12)): at output pixel (row 11, column 5) of image "
                       "1, channel 1, which reads U at (x, y) = (0.6, 3.62) pixels: your output is 1.38466, expected "
                       "0.384657 (1 of 864 entries differ)"),
], ids=["identity", "identity-last", "zoom", "zoom-image-1", "rotate", "rotate-image-1"])
def test_each_warp_case_is_run_with_its_inputs(case, where, expected):
    assert message(L.check_warp, wrong_in_one_call(L.warp_reference, case, where)) == WARP + expected


def test_the_warp_image_is_the_documented_draw():
    # the identity case reads U itself: the expected values above are U's entries (up to the sampler's rounding)
    U = torch.rand(2, 3, 9, 12, generator=torch.Generator().manual_seed(1))
    assert abs(U[0, 0, 0, 0].item() - 0.757631) < 1e-6 and abs(U[1, 2, 8, 11].item() - 0.972382) < 1e-6


def gradient_wrong(what, size):
    """Right values; the gradient w.r.t. ``what`` 1.5×, only for the case with that output size."""
    def warp(U, theta, out_size):
        if tuple(out_size) == size:
            if what == "U":
                U = U + 0.5 * (U - U.detach())
            else:
                theta = theta + 0.5 * (theta - theta.detach())
        return L.warp_reference(U, theta, out_size)
    return warp


@pytest.mark.parametrize("what, size, expected", [
    ("U", (9, 12), "'identity, same size' (out_size=(9, 12)): at input pixel (row 0, column 0) of image 0, channel "
                   "0: the gradient of your output w.r.t. 'U' is -1.68876, expected -1.12584 (648 of 648 entries "
                   "differ)"),
    ("U", (6, 8), "'zoom in, 6×8 output' (out_size=(6, 8)): at input pixel (row 1, column 4) of image 0, channel 0: "
                  "the gradient of your output w.r.t. 'U' is -0.605994, expected -0.403996 (315 of 648 entries "
                  "differ)"),
    ("U", (12, 12), "'rotate 90°, 12×12 output' (out_size=(12, 12)): at input pixel (row 0, column 0) of image 0, "
                    "channel 0: the gradient of your output w.r.t. 'U' is 0.42549, expected 0.28366 (648 of 648 "
                    "entries differ)"),
    ("theta", (9, 12), "'identity, same size' (out_size=(9, 12)): at θ[0, 0, 0]: the gradient of your output w.r.t. "
                       "'theta' is -41.5089, expected -27.6726 (12 of 12 entries differ)"),
    ("theta", (6, 8), "'zoom in, 6×8 output' (out_size=(6, 8)): at θ[0, 0, 0]: the gradient of your output w.r.t. "
                      "'theta' is -34.5468, expected -23.0312 (12 of 12 entries differ)"),
    ("theta", (12, 12), "'rotate 90°, 12×12 output' (out_size=(12, 12)): at θ[0, 0, 0]: the gradient of your output "
                        "w.r.t. 'theta' is 7.71198, expected 5.14132 (12 of 12 entries differ)"),
], ids=["U-identity", "U-zoom", "U-rotate", "theta-identity", "theta-zoom", "theta-rotate"])
def test_each_warp_gradient_is_compared_and_named(what, size, expected):
    assert message(L.check_warp, gradient_wrong(what, size)) == WARP + expected


def test_warp_passes_quietly_or_with_its_line(capsys):
    assert L.check_warp(L.warp_reference, verbose=False) is True
    assert capsys.readouterr().out == ""
    assert L.check_warp(L.warp_reference) is True
    assert capsys.readouterr().out == "✓ warp is correct (values and gradients match the reference on 3 cases)\n"


def test_a_wrong_gradient_of_one_theta_entry_is_named_by_its_indices():
    def warp(U, theta, out_size):  # θ[1, 0, 2]'s gradient 1.5×, in the zoom case only
        if tuple(out_size) == (6, 8):
            mask = torch.zeros_like(theta)
            mask[1, 0, 2] = 0.5
            theta = theta + mask * (theta - theta.detach())
        return L.warp_reference(U, theta, out_size)
    got = message(L.check_warp, warp)
    assert got.startswith(WARP + "'zoom in, 6×8 output' (out_size=(6, 8)): at θ[1, 0, 2]: the gradient of your output "
                          "w.r.t. 'theta' is ") and got.endswith("(1 of 12 entries differ)")


# the typical mistakes are built once, when the module is imported: their builders, called here, must build them


def test_attention_in_order_reads_params_in_that_order():
    params = torch.tensor([[0.5, 0.25, -0.5], [2.0, 1.0, 3.0]])
    swapped = L._attention_in_order((0, 2, 1))(params)
    torch.testing.assert_close(swapped, torch.tensor([[[0.5, 0.0, -0.5], [0.0, 0.5, 0.25]],
                                                      [[2.0, 0.0, 3.0], [0.0, 2.0, 1.0]]]))
    torch.testing.assert_close(L._attention_in_order((1, 0, 2))(params)[0], torch.tensor([[0.25, 0.0, 0.5],
                                                                                          [0.0, 0.25, -0.5]]))


@pytest.mark.parametrize("options, mode, align, size", [
    ({}, "bilinear", False, (6, 8)),
    ({"kernel": "nearest"}, "nearest", False, (6, 8)),
    ({"align_corners": True}, "bilinear", True, (6, 8)),
    ({"swap": True}, "bilinear", False, (8, 6)),
], ids=["right", "nearest", "align-corners", "swapped"])
def test_warp_with_builds_each_variant(options, mode, align, size):
    import torch.nn.functional as F

    U = torch.rand(2, 3, 9, 12, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    theta = grids.attention_theta(torch.tensor([[0.5, 0.2, -0.1], [0.8, -0.3, 0.25]], dtype=torch.float64))
    expected = F.grid_sample(U, F.affine_grid(theta, (2, 3, *size), align_corners=align), mode=mode,
                             padding_mode="zeros", align_corners=align)
    torch.testing.assert_close(L._warp_with(**options)(U, theta, (6, 8)), expected)
