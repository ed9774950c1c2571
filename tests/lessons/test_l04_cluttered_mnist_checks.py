"""Lesson 04's exercise checks (issue 25, mutation run of 2026-12-05): the outside-fraction check runs
each documented case (an answer wrong in one case or one image gets exactly the feedback naming it), the
words the fix check uses for what a run shows (`_collapse_verdict`) and for why a fix failed
(`_fix_hint`), each branch with its numbers. The fix check itself trains a model per call; its
pass/fail behaviour is tested in test_l04_cluttered_mnist.py."""

import pytest
from checks import wrong_in_one_call

from stnlib.course.checking import CheckError
from stnlib.lessons import l04_cluttered_mnist as L


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'identity, 8×8' (out_size=(8, 8)): at index (0,): your output is 0.5, expected 0"),
    (1, (slice(None),), "'zoom out 2×, 8×8' (out_size=(8, 8)): at index (0,): your output is 1.25, expected 0.75"),
    (2, (slice(None),), "'a horizontal flip, 8×8' (out_size=(8, 8)): at index (0,): your output is 0.5, expected 0"),
    (3, (slice(None),), "'shifted by 2.5: the whole grid is off the input, 8×8' (out_size=(8, 8)): at index (0,): "
                        "your output is 1.5, expected 1"),
    (4, (slice(None),), "'zoom out 2×, 6×6 (two sample columns land exactly on the edge |x| = 1)' (out_size=(6, 6)): "
                        "at index (0,): your output is 1.05556, expected 0.555556"),
    (5, (slice(None),), "'zoom out 1.5× in x only, 4×10 (H = 4, W = 10)' (out_size=(4, 10)): at index (0,): your "
                        "output is 0.9, expected 0.4"),
    (6, (slice(None),), "'a batch of three θ, 5×7' (out_size=(5, 7)): at index (0,): your output is 0.5, expected 0 "
                        "(3 of 3 entries differ)"),
    (6, (2,), "'a batch of three θ, 5×7' (out_size=(5, 7)): at index (2,): your output is 1.32857, expected 0.828571 "
              "(1 of 3 entries differ)"),
], ids=["identity", "zoom-out", "flip", "off", "edge", "x-only", "batch", "batch-third"])
def test_each_outside_fraction_case_is_run_with_its_inputs(case, where, expected):
    with pytest.raises(CheckError) as err:
        L.check_outside_fraction(wrong_in_one_call(L.outside_fraction_reference, case, where, by=0.5), verbose=False)
    assert err.value.message == "outside_fraction, case " + expected


def test_the_right_answer_prints_its_line(capsys):
    assert L.check_outside_fraction(L.outside_fraction_reference) is True
    assert capsys.readouterr().out == "✓ outside_fraction is correct (values match the reference on 7 cases)\n"


START = {"kind": "random", "border": False, "scaled": False, "frozen": False}
FIRST = {"scale_mean": 0.123}


@pytest.mark.parametrize("start, text", [
    ({"kind": "naive bound"}, "a tanh over the identity bias starts at tanh(1) ≈ 0.76, and a translation bounded by 1 "
                              "still lets the grid slide half off the input: start the bias at atanh(identity / "
                              "bound) with a bound above 1"),
    ({"kind": "theta 0"}, "θ = 0 (zero weights and a zero bias) sends every output pixel to the same point, the "
                          "input's centre, so the transformer's output is one flat value (scale 0). Zeroing the "
                          "weights is right; the bias must be the identity (1, 0, 0, 0, 1, 0)"),
    ({"kind": "bias random"}, "the weights are zero but the bias is still PyTorch's random start, so θ starts as one "
                              "random matrix (mean scale 0.12, the identity's is 1): set the bias to the identity "
                              "(1, 0, 0, 0, 1, 0)"),
    ({"kind": "weights random"}, "the bias is the identity but the weights are still random, so θ = W·f + b depends "
                                 "on each image from the first step and drifts off: zero the weights too "
                                 "(init_identity(head, \"affine\") does both)"),
    ({"frozen": True, "scaled": True, "border": True}, "a frozen localization net keeps its random start (θ ≈ 0 plus "
                                                       "random shifts) for the whole run: zero its weights and set its "
                                                       "bias to the identity instead"),
    ({"scaled": True, "border": True}, "scaling the localization net's gradients (a lower learning rate) only slows "
                                       "θ down; the head still starts at random (θ ≈ 0 plus random shifts): zero its "
                                       "weights and set its bias to the identity"),
    ({"border": True}, "border padding only repeats the edge pixels, which are black on this canvas; the grid still "
                       "leaves the input. Start θ at the identity instead"),
    ({}, "the localization head still starts at random (θ ≈ 0 plus random shifts): zero its weights and set its bias "
         "to the identity, or bound θ"),
    ({"kind": "identity"}, "θ starts at the identity but drifts off the input while it trains: also lower the "
                           "localization net's learning rate or bound θ"),
], ids=["naive-bound", "theta-0", "bias-random", "weights-random", "frozen", "scaled", "border", "random", "identity"])
def test_fix_hint_names_what_the_fix_left(start, text):
    assert L._fix_hint({**START, **start}, FIRST) == text


def run_with(history, fired_at):
    return L.CollapseRun("c", None, history, fired_at is not None, fired_at, "")


def test_collapse_verdict_reads_outside_or_the_detectors_reasons():
    last = {"step": 39, "scale_mean": 1.234, "translation_mean": 0.567, "outside": 0.62}
    assert L._collapse_verdict(run_with([], None), last) == (
        "after 40 steps 62% of the output is read from outside the input (mean scale √|det θ| = 1.23, |t| = 0.57)")
    fired = {"step": 9, "det_mean": 1.0, "det_min": 1.0, "det_max": 1.0, "scale_mean": 30.0,
             "translation_mean": 3.0, "outside": 0.9}
    quiet = {**last, "outside": 0.2}
    text = L._collapse_verdict(run_with([{"step": 0, "scale_mean": 1.0, "translation_mean": 0.0, "outside": 0.0},
                                         fired], 9), quiet)
    why = "; ".join(L.CollapseDetector(max_outside=0.5).problems({k: v for k, v in fired.items() if k != "step"}))
    assert why.count("; ") == 1 and text == (f"the collapse detector fired at step 10 ({why}); after 40 steps mean scale √|det θ| = "
                            "1.23, |t| = 0.57, 20% read from outside")
    assert L._collapse_verdict(run_with([], None), {**last, "outside": 0.5}).startswith("after 40 steps 50% of the output")


def test_the_second_theta_of_the_batch_and_the_probe_cases():
    with pytest.raises(CheckError) as err:
        L.check_outside_fraction(wrong_in_one_call(L.outside_fraction_reference, 6, (1,), by=0.5), verbose=False)
    assert err.value.message == ("outside_fraction, case 'a batch of three θ, 5×7' (out_size=(5, 7)): at index (1,): "
                                 "your output is 1.04286, expected 0.542857 (1 of 3 entries differ)")

    def wrong_for_flips(theta, out_size):  # right except where θ₁₁ < 0: only the flip case can tell
        return L.outside_fraction_reference(theta, out_size) + (theta[:, 0, 0] < 0).float()

    def wrong_between_2_and_3(theta, out_size):  # right except for shifts in (2, 3): only the 2.5 case can tell
        tx = theta[:, 0, 2]
        return L.outside_fraction_reference(theta, out_size) + ((tx > 2) & (tx < 3)).float()

    for student, case in ((wrong_for_flips, "'a horizontal flip, 8×8'"),
                          (wrong_between_2_and_3, "'shifted by 2.5: the whole grid is off the input, 8×8'")):
        with pytest.raises(CheckError) as err:
            L.check_outside_fraction(student, verbose=False)
        assert err.value.message.startswith(f"outside_fraction, case {case} ")


def test_a_typical_mistake_gets_its_hint_and_quiet_means_quiet(capsys):
    import torch

    def all_instead_of_any(theta, out_size):
        grid = torch.nn.functional.affine_grid(theta, (theta.shape[0], 1, *out_size), align_corners=False)
        return (grid.abs() > 1).all(-1).flatten(1).float().mean(1)

    with pytest.raises(CheckError) as err:
        L.check_outside_fraction(all_instead_of_any, verbose=False)
    assert err.value.hint == ("you counted a pixel only when both x and y are outside (`.all`); it reads padding as "
                              "soon as one of them is (`.any(-1)`)")
    assert L.check_outside_fraction(L.outside_fraction_reference, verbose=False) is True
    assert capsys.readouterr().out == ""


def test_the_verdict_rounds_the_outside_share_as_a_percentage():
    last = {"step": 9, "scale_mean": 1.0, "translation_mean": 0.0, "outside": 0.245}
    fired = {"step": 4, "det_mean": 1, "det_min": 1, "det_max": 1, "scale_mean": 30.0, "translation_mean": 3.0,
             "outside": 0.9}
    text = L._collapse_verdict(run_with([fired], 4), last)
    assert text.endswith("after 10 steps mean scale √|det θ| = 1.00, |t| = 0.00, 24% read from outside")
