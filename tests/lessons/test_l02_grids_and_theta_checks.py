"""Lesson 02's exercise checks, case by case (issue 25, mutation run of 2026-12-05): an answer right except
in one case or entry gets exactly the feedback naming that case, its arguments, the entry of θ and the values,
so every documented case runs with its documented inputs; wrong gradients are caught in every case of the
inverse; the checks' tolerances accept rounding and nothing more."""

import math

import pytest
import torch

from stnlib import theta as T
from stnlib.course.checking import CheckError, matches
from stnlib.lessons import l02_grids_and_theta as L


def message(check, student):
    with pytest.raises(CheckError) as err:
        check(student, verbose=False)
    assert err.value.hint is None
    return err.value.message


def wrong_in_one_call(reference, call, where=(slice(None),), by=1.0):
    """``reference`` (called positionally, as these checks call the answer), off by ``by`` at ``where``
    in its call number ``call`` only."""
    calls = []

    def answer(*args):
        calls.append(1)
        out = torch.as_tensor(reference(*args)).clone()
        if len(calls) == call + 1:
            out[where] += by
        return out
    return answer


RZ = "rotate_zoom_theta, case "


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'rotate 30°, zoom in 2×' (angle=30.0, zoom=2.0): at θ[0, 0]: your θ is 1.43301, expected "
                        "0.433013 (6 of 6 entries differ)"),
    (1, (1, 2), "'rotate −45°, zoom out 2×' (angle=-45.0, zoom=0.5): at θ[1, 2]: your θ is 1, expected 0 (1 of 6 "
                "entries differ)"),
    (2, (1, 1), "'rotate 90°, no zoom' (angle=90.0, zoom=1.0): at θ[1, 1]: your θ is 1, expected 6.12323e-17 (1 of "
                "6 entries differ)"),
], ids=["30-zoom-in", "minus-45-zoom-out", "90"])
def test_each_rotate_zoom_case_is_run_with_its_arguments(case, where, expected):
    assert message(L.check_rotate_zoom_theta, wrong_in_one_call(L.rotate_zoom_reference, case, where)) == RZ + expected


def test_rotate_zoom_reference_is_the_inverse_rotation_over_the_zoom():
    c, s = 3 ** 0.5 / 2, 0.5  # cos 30°, sin 30°: θ = [[c, −s], [s, c]] / 2 (y points down)
    expected = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=torch.float64) / 2
    torch.testing.assert_close(L.rotate_zoom_reference(30.0, 2.0), expected)


def test_rotate_zoom_tolerance_and_types():
    ref = L.rotate_zoom_reference
    assert message(L.check_rotate_zoom_theta, lambda a, z: ref(a, z) * (1 + 2e-5)) == RZ + (
        "'rotate 30°, zoom in 2×' (angle=30.0, zoom=2.0): at θ[0, 0]: your θ is 0.433021, expected 0.433013 (4 of "
        "6 entries differ)")
    assert message(L.check_rotate_zoom_theta, lambda a, z: ref(a, z) + 2e-6) == RZ + (
        "'rotate 30°, zoom in 2×' (angle=30.0, zoom=2.0): at θ[0, 2]: your θ is 2e-06, expected 0 (2 of 6 entries "
        "differ)")
    assert L.check_rotate_zoom_theta(lambda a, z: ref(a, z) * (1 + 5e-6) + 5e-7, verbose=False) is True
    assert L.check_rotate_zoom_theta(lambda a, z: ref(a, z).float(), verbose=False) is True  # float32 is fine
    assert message(L.check_rotate_zoom_theta, lambda a, z: ref(a, z).tolist()) == RZ + (
        "'rotate 30°, zoom in 2×' (angle=30.0, zoom=2.0): your θ must be a torch.Tensor, got list (use "
        "torch.tensor / torch.stack, not a list)")


INV = "invert_theta, case "
BATCH = "'batch of 4 with rotation, scale, shear, shift'"


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'identity': at θ[0] of the batch, entry [0, 0]: your inverse is 2, expected 1 (6 of 6 "
                        "entries differ)"),
    (1, (0, 1, 2), "'zoom and shift': at θ[0] of the batch, entry [1, 2]: your inverse is 1.8, expected 0.8 (1 of 6 "
                   "entries differ)"),
    (2, (slice(None),), BATCH + ": at θ[0] of the batch, entry [0, 0]: your inverse is 1.82787, expected 0.827874 "
                        "(24 of 24 entries differ)"),
    (2, (3, 1, 0), BATCH + ": at θ[3] of the batch, entry [1, 0]: your inverse is 2.35792, expected 1.35792 (1 of "
                   "24 entries differ)"),
    (2, (3, 1, 2), BATCH + ": at θ[3] of the batch, entry [1, 2]: your inverse is 1.09115, expected 0.0911463 (1 of "
                   "24 entries differ)"),
], ids=["identity", "zoom-shift", "batch", "batch-3", "batch-3-shift"])
def test_each_invert_case_is_run_with_its_theta(case, where, expected):
    assert message(L.check_invert_theta, wrong_in_one_call(T.invert, case, where)) == INV + expected


def test_the_inverse_of_zoom_and_shift_by_hand():
    # x = 0.5 y + (0.2, −0.4)  ⇒  y = 2 x + (−0.4, 0.8)
    th = torch.tensor([[[0.5, 0.0, 0.2], [0.0, 0.5, -0.4]]], dtype=torch.float64)
    torch.testing.assert_close(T.invert(th), torch.tensor([[[2.0, 0.0, -0.4], [0.0, 2.0, 0.8]]],
                                                          dtype=torch.float64))


def gradient_wrong_for(which):
    """Right values; the gradient w.r.t. θ 1.5×, only for the case ``which`` picks."""
    def invert_theta(theta):
        if which(theta):
            theta = theta + 0.5 * (theta - theta.detach())
        return T.invert(theta)
    return invert_theta


@pytest.mark.parametrize("which, expected", [
    (lambda th: th[0, 0, 0] == 1, "'identity': at θ[0] of the batch, entry [0, 0]: the gradient of your output "
                                  "w.r.t. 'theta' is -2.31149, expected -1.541 (6 of 6 entries differ)"),
    (lambda th: th[0, 0, 0] == 0.5, "'zoom and shift': at θ[0] of the batch, entry [0, 0]: the gradient of your "
                                    "output w.r.t. 'theta' is -11.8605, expected -7.90702 (6 of 6 entries differ)"),
    (lambda th: len(th) == 4, BATCH + ": at θ[0] of the batch, entry [0, 0]: the gradient of your output w.r.t. "
                              "'theta' is 3.01749, expected 2.01166 (24 of 24 entries differ)"),
], ids=["identity", "zoom-shift", "batch"])
def test_the_gradient_of_every_invert_case_is_compared(which, expected):
    assert message(L.check_invert_theta, gradient_wrong_for(which)) == INV + expected


CV = "theta_from_cv2, case "
SHIFT = "'shift 3 px right, 1 px down, 10×12' (in_size=(10, 12), out_size=(10, 12))"
ROT = "'rotate and scale about (5, 4), 8×10 → 16×20' (in_size=(8, 10), out_size=(16, 20))"


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'identity, 8×8' (in_size=(8, 8), out_size=(8, 8)): at θ[0, 0]: your θ is 2, expected 1 "
                        "(6 of 6 entries differ)"),
    (1, (0, 2), "'shift 3 px right, 1 px down, 10×12' (in_size=(10, 12), out_size=(10, 12)): at θ[0, 2]: your θ is "
                "0.5, expected -0.5 (1 of 6 entries differ)"),
    (1, (1, 0), SHIFT + ": at θ[1, 0]: your θ is 1, expected 0 (1 of 6 entries differ)"),
    (1, (1, 1), SHIFT + ": at θ[1, 1]: your θ is 2, expected 1 (1 of 6 entries differ)"),
    (1, (1, 2), SHIFT + ": at θ[1, 2]: your θ is 0.8, expected -0.2 (1 of 6 entries differ)"),
    (2, (slice(None),), ROT + ": at θ[0, 0]: your θ is 1.93969, expected 0.939693 (6 of 6 entries differ)"),
    (2, (1, 2), ROT + ": at θ[1, 2]: your θ is 1.01697, expected 0.0169735 (1 of 6 entries differ)"),
], ids=["identity", "shift", "shift-10", "shift-11", "shift-12", "rotate", "rotate-ty"])
def test_each_cv2_case_is_run_with_its_matrix_and_sizes(case, where, expected):
    assert message(L.check_theta_from_cv2, wrong_in_one_call(L.cv2_reference, case, where)) == CV + expected


def test_the_cv2_shift_by_hand():
    # a 3-pixel shift right reads 3 pixels to the left: tx = −3 · 2 / W = −0.5 on 12 columns
    M = torch.tensor([[1.0, 0, 3], [0, 1, 1]], dtype=torch.float64)
    torch.testing.assert_close(L.cv2_reference(M, (10, 12), (10, 12)),
                               torch.tensor([[1.0, 0, -0.5], [0, 1, -0.2]], dtype=torch.float64))


def test_cv2_tolerance_and_types():
    ref = L.cv2_reference
    # rtol 1e-6 and atol 1e-8 (the defaults, 1e-5 and 1e-6, would pass both of these)
    assert message(L.check_theta_from_cv2, lambda M, i, o: ref(M, i, o) * (1 + 2e-6)) == CV + (
        "'identity, 8×8' (in_size=(8, 8), out_size=(8, 8)): at θ[0, 0]: your θ is 1, expected 1 (2 of 6 entries "
        "differ)")
    assert message(L.check_theta_from_cv2, lambda M, i, o: ref(M, i, o) + 5e-8) == CV + (
        "'identity, 8×8' (in_size=(8, 8), out_size=(8, 8)): at θ[0, 1]: your θ is 5e-08, expected 0 (4 of 6 "
        "entries differ)")
    assert L.check_theta_from_cv2(lambda M, i, o: ref(M, i, o) * (1 + 5e-7) + 5e-9, verbose=False) is True
    assert L.check_theta_from_cv2(lambda M, i, o: ref(M, i, o).float(), verbose=False) is True
    assert message(L.check_theta_from_cv2, lambda M, i, o: ref(M, i, o).tolist()) == CV + (
        "'identity, 8×8' (in_size=(8, 8), out_size=(8, 8)): your θ must be a torch.Tensor, got list (use "
        "torch.tensor / torch.stack, not a list)")


@pytest.mark.parametrize("check, reference, line", [
    (L.check_rotate_zoom_theta, L.rotate_zoom_reference, "✓ rotate_zoom_theta is correct (values match the "
                                                         "reference on 3 cases)\n"),
    (L.check_invert_theta, T.invert, "✓ invert_theta is correct (values and gradients match the reference on 3 "
                                     "cases)\n"),
    (L.check_theta_from_cv2, L.cv2_reference, "✓ theta_from_cv2 is correct (values match the reference on 3 "
                                              "cases)\n"),
], ids=["rotate-zoom", "invert", "cv2"])
def test_the_right_answers_pass_quietly_or_with_their_line(check, reference, line, capsys):
    assert check(reference, verbose=False) is True
    assert capsys.readouterr().out == ""
    assert check(reference) is True
    assert capsys.readouterr().out == line


# the typical mistakes are built once, when the module is imported: their builders, called here, must build them


def test_with_parts_joins_a_linear_part_and_a_shift():
    th = torch.tensor([[[1.0, 2.0, 5.0], [3.0, 4.0, 6.0]], [[0.5, 0.0, -1.0], [0.0, 2.0, 1.0]]], dtype=torch.float64)
    torch.testing.assert_close(L._with_parts(L._transpose, lambda A, t: -t)(th), torch.tensor(
        [[[1.0, 3.0, -5.0], [2.0, 4.0, -6.0]], [[0.5, 0.0, 1.0], [0.0, 2.0, -1.0]]], dtype=torch.float64))
    torch.testing.assert_close(L._with_parts(torch.linalg.inv, lambda A, t: A @ t)(th)[1], torch.tensor(
        [[2.0, 0.0, -0.5], [0.0, 0.5, 2.0]], dtype=torch.float64))


@pytest.mark.parametrize("align, inverse", [(True, False), (False, True), (True, True), (False, False)])
def test_cv2_variant_builds_each_mistake(align, inverse):
    M = torch.tensor([[1.0, 0, 3], [0, 1, 1]], dtype=torch.float64)
    expected = T.theta_from_pixel_matrix(M, (10, 12), (10, 12), align_corners=align, inverse_map=inverse)
    options = {"inverse_map": True} if inverse else {}
    torch.testing.assert_close(L._cv2_variant(align_corners=align, **options)(M, (10, 12), (10, 12)), expected)
    # input and output sizes each in their place
    torch.testing.assert_close(L._cv2_variant(align_corners=align, **options)(M, (8, 10), (16, 20)),
                               T.theta_from_pixel_matrix(M, (8, 10), (16, 20), align_corners=align,
                                                         inverse_map=inverse))
    if not align and not inverse:  # the right answer: a 3-pixel shift right reads 3 · 2 / 12 to the left
        torch.testing.assert_close(expected, torch.tensor([[1.0, 0, -0.5], [0, 1, -0.2]], dtype=torch.float64))


def test_every_case_hands_the_answer_float64_inputs():
    # the checks compare in float64: every θ and M the student's function receives is float64, as documented
    seen = []

    def invert_theta(theta):
        seen.append(("invert", tuple(theta.shape), theta.dtype))
        return T.invert(theta)

    def theta_from_cv2(M, in_size, out_size):
        seen.append(("cv2", tuple(M.shape), M.dtype))
        return L.cv2_reference(M, in_size, out_size)

    assert L.check_invert_theta(invert_theta, verbose=False) is True
    assert L.check_theta_from_cv2(theta_from_cv2, verbose=False) is True
    assert {(w, shape) for w, shape, _ in seen} == {("invert", (1, 2, 3)), ("invert", (4, 2, 3)), ("cv2", (2, 3))}
    assert {dtype for *_, dtype in seen} == {torch.float64}


def just_inside(reference, rtol, atol):
    """``reference``, every entry moved down by 0.9999 of the tolerance ``atol + rtol·|θ|``, computed in the
    dtype of the inputs: on float64 inputs it passes; on float32 ones, rounding carries it over the edge."""
    def answer(*args):
        out = reference(*args)
        return out - ((atol + rtol * out.abs()) * (1 - 1e-4)).detach()
    return answer


@pytest.mark.parametrize("check, reference, rtol, atol, float32_cases", [
    (L.check_invert_theta, T.invert, 1e-5, 1e-6,
     [(torch.eye(2, 3)[None],), (torch.tensor([[[0.5, 0.0, 0.2], [0.0, 0.5, -0.4]]]),)]),
    (L.check_theta_from_cv2, L.cv2_reference, 1e-6, 1e-8,
     [(torch.tensor([[1.0, 0, 0], [0, 1, 0]]), (8, 8), (8, 8)),
      (torch.tensor([[1.0, 0, 3], [0, 1, 1]]), (10, 12), (10, 12)),
      (torch.tensor([[2 * math.cos(math.radians(20)), 2 * math.sin(math.radians(20)), 1.0],
                     [-2 * math.sin(math.radians(20)), 2 * math.cos(math.radians(20)), 3.0]]), (8, 10), (16, 20))]),
], ids=["invert", "cv2"])
def test_an_answer_just_inside_the_tolerance_passes_on_the_float64_cases(check, reference, rtol, atol,
                                                                        float32_cases):
    answer = just_inside(reference, rtol, atol)
    assert check(answer, verbose=False) is True
    for args in float32_cases:  # the same answer on each case built in float32 is over the edge
        assert not matches(answer(*args), reference(*args), rtol=rtol, atol=atol)


def test_a_theta_from_cv2_with_float64_pixel_matrices_passes():
    # M is documented float64: pixel matrices built in float64 and M's row (0, 0, 1) appended without a dtype
    # (cat promotes it to M's float64) multiply without a dtype error
    def to_pixels(size):  # normalized → pixel coordinates, x_pix = ((x + 1) W − 1) / 2
        H, W = size
        return torch.tensor([[W / 2, 0, (W - 1) / 2], [0, H / 2, (H - 1) / 2], [0, 0, 1]], dtype=torch.float64)

    def theta_from_cv2(M, in_size, out_size):
        M3 = torch.cat([M, torch.tensor([[0.0, 0.0, 1.0]])])
        return (torch.linalg.inv(to_pixels(in_size)) @ torch.linalg.inv(M3) @ to_pixels(out_size))[:2]

    assert L.check_theta_from_cv2(theta_from_cv2, verbose=False) is True
