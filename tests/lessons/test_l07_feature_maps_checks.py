"""Lesson 07's exercise checks, case by case (issue 25, mutation run of 2026-12-05): an answer that is
right except in one case (or one image, or one logit) gets exactly the feedback that names that case,
its inputs and the first wrong entry, so every documented case is run with its documented inputs; the
tolerances accept rounding and nothing more; the right answers print exactly their ✓ line."""

import pytest
from checks import wrong_in_one_call

from stnlib.course.checking import CheckError
from stnlib.lessons import l07_feature_maps as L

GAMMA = "(gamma=Γ = conv 5×5 (4 channels, 'same' padding) → ReLU, seed 7)"
PIECES = "(pieces=pieces of STN-SL1 (seed 7))"


def message(check, student):
    with pytest.raises(CheckError) as err:
        check(student, verbose=False)
    return err.value.message


@pytest.mark.parametrize("case, expected", [
    (0, "'T_g = identity' " + GAMMA + ": at image 0: your misalignment is 1, expected 0 (3 of 3 entries differ)"),
    (1, "'T_g = 30° rotation' " + GAMMA + ": at image 0: your misalignment is 1.79146, expected 0.791465 (3 of 3 "
        "entries differ)"),
    (2, "'T_g = 90° rotation' " + GAMMA + ": at image 0: your misalignment is 2.06902, expected 1.06902 (3 of 3 "
        "entries differ)"),
    (3, "'T_g = shift by 2 pixels right' " + GAMMA + ": at image 0: your misalignment is 1.06367, expected "
        "0.0636674 (3 of 3 entries differ)"),
    (4, "'T_g = 45° rotation and zoom 1.2' " + GAMMA + ": at image 0: your misalignment is 1.86506, expected "
        "0.865056 (3 of 3 entries differ)"),
])
def test_each_misalignment_case_is_run_with_its_inputs(case, expected):
    assert message(L.check_misalignment, wrong_in_one_call(L.misalignment_reference, case)) == "misalignment, case " + expected


def test_the_third_image_of_a_case_is_its_own():
    assert message(L.check_misalignment, wrong_in_one_call(L.misalignment_reference, 1, (2,))) == (
        "misalignment, case 'T_g = 30° rotation' " + GAMMA + ": at image 2: your misalignment is 1.76516, "
        "expected 0.765162 (1 of 3 entries differ)")


@pytest.mark.parametrize("case, expected", [
    (0, "'4 random 28×28 images' " + PIECES + ": at image 0, logit of class 0: your logits is 0.667001, expected "
        "-0.332999 (40 of 40 entries differ)"),
    (1, "'2 images with a bright square' " + PIECES + ": at image 0, logit of class 0: your logits is 0.751417, "
        "expected -0.248583 (20 of 20 entries differ)"),
])
def test_each_sl_forward_case_is_run_with_its_inputs(case, expected):
    assert message(L.check_sl_forward, wrong_in_one_call(L.sl_forward_reference, case)) == "sl_forward, case " + expected


def test_one_wrong_logit_is_named_by_image_and_class():
    assert message(L.check_sl_forward, wrong_in_one_call(L.sl_forward_reference, 0, (1, 3))) == (
        "sl_forward, case '4 random 28×28 images' " + PIECES + ": at image 1, logit of class 3: your logits is "
        "0.847659, expected -0.152341 (1 of 40 entries differ)")


def test_rounding_passes_and_the_tolerances_are_the_checks_own():
    # 5e-5 relative: within rtol 1e-4 (a default 1e-5 would reject it)
    assert L.check_misalignment(lambda gamma, images, theta:
                                L.misalignment_reference(gamma, images, theta) * (1 + 5e-5), verbose=False)
    assert L.check_sl_forward(lambda x, pieces: L.sl_forward_reference(x, pieces) * (1 + 5e-5), verbose=False)
    # 8e-6 absolute on logits as small as 0.018: within atol 1e-5 (a default 1e-6 would reject it)
    assert L.check_sl_forward(lambda x, pieces: L.sl_forward_reference(x, pieces) + 8e-6, verbose=False)
    with pytest.raises(CheckError):
        L.check_misalignment(lambda gamma, images, theta:
                             L.misalignment_reference(gamma, images, theta) * (1 + 5e-4), verbose=False)


def test_the_right_answers_print_their_line(capsys):
    assert L.check_misalignment(L.misalignment_reference) and L.check_sl_forward(L.sl_forward_reference)
    assert capsys.readouterr().out == ("✓ misalignment is correct (values match the reference on 5 cases)\n"
                                       "✓ sl_forward is correct (values match the reference on 2 cases)\n")
