"""Lesson 08's exercise checks, case by case (issue 25, mutation run of 2026-12-05): an answer that is
right except in one case, entry or pixel gets exactly the feedback naming it with the expected value, so
every documented case is run with its documented inputs; the checks' tolerances accept rounding and
nothing more; the right answers print exactly their ✓ line."""

import pytest
import torch
from checks import wrong_in_one_call

from stnlib.course.checking import CheckError
from stnlib.lessons import l08_segmentation as L


def message(check, student):
    with pytest.raises(CheckError) as err:
        check(student, verbose=False)
    return err.value.message


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'3 images, 20 % of the pixels flipped': at entry 0 (precision): your score is 80.2079, "
                        "expected 79.2079 (4 of 4 entries differ)"),
    (0, (2,), "'3 images, 20 % of the pixels flipped': at entry 2 (FPR): your score is 22.875, expected 21.875 (1 of "
              "4 entries differ)"),
    (1, (slice(None),), "'3 images, road predicted one row too low': at entry 0 (precision): your score is 76, "
                        "expected 75 (4 of 4 entries differ)"),
    (2, (slice(None),), "'image 0 all road, images 1-2 exact': at entry 0 (precision): your score is 76, expected 75 "
                        "(4 of 4 entries differ)"),
], ids=["noisy", "noisy-fpr", "shifted", "all-road"])
def test_each_road_scores_case_is_run_with_its_inputs(case, where, expected):
    assert message(L.check_road_scores, wrong_in_one_call(L.road_scores_reference, case, where)) == "road_scores, case " + expected


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'θ = the picture shifted 2 pixels to the right': at image 0, channel 0, pixel (row 0, column "
                        "0): your decoded map is 1.89835, expected 0.898348 (864 of 864 entries differ)"),
    (0, (1, 2, 3, 4), "'θ = the picture shifted 2 pixels to the right': at image 1, channel 2, pixel (row 3, column "
                      "4): your decoded map is 1.09733, expected 0.097334 (1 of 864 entries differ)"),
    (1, (slice(None),), "'θ = zoom in 2× (the output reads the middle half)': at image 0, channel 0, pixel (row 0, "
                        "column 0): your decoded map is 1, expected 0 (864 of 864 entries differ)"),
    (2, (slice(None),), "'θ = 30° rotation': at image 0, channel 0, pixel (row 0, column 0): your decoded map is 1, "
                        "expected 0 (864 of 864 entries differ)"),
    (3, (slice(None),), "'θ = 20° rotation, zoom out 1.25×, shift': at image 0, channel 0, pixel (row 0, column 0): "
                        "your decoded map is 1.63454, expected 0.63454 (864 of 864 entries differ)"),
], ids=["shift", "shift-pixel", "zoom", "rotation", "all"])
def test_each_round_trip_case_is_run_with_its_inputs(case, where, expected):
    assert message(L.check_round_trip, wrong_in_one_call(L.round_trip_reference, case, where)) == "round_trip, case " + expected


def test_the_tolerances_are_the_checks_own():
    # road_scores: rtol 1e-6 (a default 1e-5 would let a 5e-6 relative error through)
    with pytest.raises(CheckError):
        L.check_road_scores(lambda pred, target: torch.as_tensor(L.road_scores_reference(pred, target),
                                                                 dtype=torch.float64) * (1 + 5e-6), verbose=False)
    assert L.check_road_scores(lambda pred, target: torch.as_tensor(L.road_scores_reference(pred, target),
                                                                    dtype=torch.float64) * (1 + 1e-8), verbose=False)
    # round_trip: atol 1e-9 and rtol 1e-6 (the defaults, 1e-6 and 1e-5, would pass both of these)
    with pytest.raises(CheckError):
        L.check_round_trip(lambda U, theta: L.round_trip_reference(U, theta) + 1e-7, verbose=False)
    with pytest.raises(CheckError):
        L.check_round_trip(lambda U, theta: L.round_trip_reference(U, theta) * (1 + 5e-6), verbose=False)
    assert L.check_round_trip(lambda U, theta: L.round_trip_reference(U, theta) * (1 + 1e-8), verbose=False)


def test_the_right_answers_print_their_line(capsys):
    assert L.check_road_scores(L.road_scores_reference) and L.check_round_trip(L.round_trip_reference)
    assert capsys.readouterr().out == ("✓ road_scores is correct (values match the reference on 3 cases)\n"
                                       "✓ round_trip is correct (values and gradients match the reference on 4 "
                                       "cases)\n")


@pytest.mark.parametrize("case, expected", [
    (0, "'θ = the picture shifted 2 pixels to the right': at image 0, channel 0, pixel (row 6, column 6): your "
        "decoded map is 1.63971, expected 0.639711 (1 of 864 entries differ)"),
    (1, "'θ = zoom in 2× (the output reads the middle half)': at image 0, channel 0, pixel (row 6, column 6): your "
        "decoded map is 1.70576, expected 0.705763 (1 of 864 entries differ)"),
    (2, "'θ = 30° rotation': at image 0, channel 0, pixel (row 6, column 6): your decoded map is 1.70735, expected "
        "0.707351 (1 of 864 entries differ)"),
    (3, "'θ = 20° rotation, zoom out 1.25×, shift': at image 0, channel 0, pixel (row 6, column 6): your decoded map "
        "is 1.73645, expected 0.73645 (1 of 864 entries differ)"),
], ids=["shift", "zoom", "rotation", "all"])
def test_each_round_trip_case_has_its_own_warp_inside_the_picture(case, expected):
    assert message(L.check_round_trip, wrong_in_one_call(L.round_trip_reference, case, (0, 0, 6, 6))) == "round_trip, case " + expected


@pytest.mark.parametrize("entry, expected", [
    (1, "at entry 1 (recall): your score is 84.3333, expected 83.3333 (1 of 4 entries differ)"),
    (3, "at entry 3 (F1): your score is 82.2183, expected 81.2183 (1 of 4 entries differ)"),
])
def test_each_score_is_named(entry, expected):
    assert message(L.check_road_scores, wrong_in_one_call(L.road_scores_reference, 0, (entry,))) == (
        "road_scores, case '3 images, 20 % of the pixels flipped': " + expected)


def encoded(U, theta):
    from stnlib.grids import affine_grid
    from stnlib.sampler import sample

    return sample(U, affine_grid(theta, tuple(U.shape[2:]), align_corners=False), padding_mode="border",
                  align_corners=False)


class Undecoded:
    """A callable object (no __globals__) that returns the encoder's V as it is."""

    def __call__(self, U, theta):
        return encoded(U, theta)


def hint_of(student):
    with pytest.raises(CheckError) as err:
        L.check_round_trip(student, verbose=False)
    return err.value.hint


def test_the_returned_v_hints_fire_for_v_and_only_for_v():
    assert hint_of(Undecoded()) == L.UNDECODED_HINT
    for near_v in (lambda U, theta: 1.5 * encoded(U, theta), lambda U, theta: encoded(U, theta) + 0.5,
                   lambda U, theta: encoded(U, theta) * (1 + 5e-6),
                   # 5e-9 off where V is 0 (zero padding): inside torch's default atol 1e-8, not the 1e-9 here
                   lambda U, theta: encoded(U, theta) + 5e-9):
        assert hint_of(near_v) is None

    def decodes_then_adds_one(U, theta):
        from stnlib import decoder
        from stnlib.grids import affine_grid

        grid = affine_grid(theta, tuple(U.shape[2:]), align_corners=False)
        return decoder.scatter_decode(encoded(U, theta), grid, tuple(U.shape[2:]), align_corners=False) + 1

    assert hint_of(decodes_then_adds_one) is None  # it calls the decoder, but does not return V


def test_the_shift_case_moves_the_picture_by_two_pixels():
    # covered pixels come back as U; column 8 is covered after a 2-pixel shift (a 4-pixel one would leave it a hole)
    assert message(L.check_round_trip, wrong_in_one_call(L.round_trip_reference, 0, (0, 0, 6, 8))) == (
        "round_trip, case 'θ = the picture shifted 2 pixels to the right': at image 0, channel 0, pixel (row 6, "
        "column 8): your decoded map is 1.22215, expected 0.222151 (1 of 864 entries differ)")
