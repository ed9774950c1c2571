"""Lesson 06's exercise checks, message by message (issue 25, mutation run of 2026-12-05): a typical
mistake that first shows in each of the checks' cases gets exactly its feedback (the case, the inputs,
the first wrong entry and the hint), so every case is exercised; the right answers print exactly their ✓
line; a head initialized out of place is accepted."""

import pytest
import torch
from torch import nn

from stnlib.course.checking import CheckError
from stnlib.lessons import l06_time_series as L


def centres(n, dtype):
    return (2 * torch.arange(n, dtype=dtype) + 1) / n - 1


def grid_student(f):
    def timewarp_positions(params, length):
        return f(params, length)
    return timewarp_positions


GRID = [
    # wrong everywhere: caught on the first case
    (lambda p, n: p[:, :1] * torch.linspace(-1, 1, n, dtype=p.dtype) + p[:, 1:],
     "timewarp_positions, case 'identity, L = 8' (length=8): at series 0, output sample i = 0 (scale s = 1, "
     "shift t = 0): your output is -1, expected -0.875 (8 of 8 entries differ)",
     "these are align_corners=True positions (torch.linspace(-1, 1, L)); the course's transformers use "
     "align_corners=False: sample i sits at the centre of its cell, x_i = (2i + 1) / L − 1"),
    # right while s = 1: caught on the zoom
    (lambda p, n: centres(n, p.dtype) / p[:, :1] + p[:, 1:],
     "timewarp_positions, case 'zoom in by 2 (s = 0.5), L = 8' (length=8): at series 0, output sample i = 0 "
     "(scale s = 0.5, shift t = 0): your output is -1.75, expected -0.4375 (8 of 8 entries differ)",
     "you divided by the scale, x / s + t: that is the inverse map. θ maps an OUTPUT position to the INPUT "
     "position it reads, s·x + t"),
    # right while t = 0: caught on the shift
    (lambda p, n: p[:, :1] * centres(n, p.dtype) - p[:, 1:],
     "timewarp_positions, case 'shift by t = 0.25, L = 8' (length=8): at series 0, output sample i = 0 "
     "(scale s = 1, shift t = 0.25): your output is -1.125, expected -0.625 (8 of 8 entries differ)",
     "you subtracted the shift: the input position is s·x + t"),
    # right while s = 1 or t = 0: caught when both move
    (lambda p, n: p[:, :1] * (centres(n, p.dtype) + p[:, 1:]),
     "timewarp_positions, case 'zoom out (s = 1.5) and shift, L = 5' (length=5): at series 0, output sample "
     "i = 0 (scale s = 1.5, shift t = -0.2): your output is -1.5, expected -1.4 (5 of 5 entries differ)",
     "you scaled the shift too, s·(x + t): θ maps x to s·x + t (θ22 x + θ23), the shift is added after the "
     "scale"),
    # right while s > 0: caught on the flip, with no hint written for it
    (lambda p, n: p[:, :1].abs() * centres(n, p.dtype) + p[:, 1:],
     "timewarp_positions, case 'a flip (s = −1), L = 6' (length=6): at series 0, output sample i = 0 (scale "
     "s = -1, shift t = 0): your output is -0.833333, expected 0.833333 (6 of 6 entries differ)", None),
    # right for one series: caught on the batch
    (lambda p, n: (p[:1, :1] * centres(n, p.dtype) + p[:1, 1:]).expand(p.shape[0], n),
     "timewarp_positions, case 'a batch of three warps, L = 7' (length=7): at series 1, output sample i = 0 "
     "(scale s = 0.644, shift t = 0.608): your output is -0.585714, expected 0.0554124 (14 of 21 entries "
     "differ)", None),
]


@pytest.mark.parametrize("wrong, message, hint", GRID, ids=["align", "inverse", "minus", "scaled-shift", "abs", "first-row"])
def test_timewarp_grid_feedback_word_for_word(wrong, message, hint):
    with pytest.raises(CheckError) as err:
        L.check_timewarp_grid(grid_student(wrong), verbose=False)
    assert err.value.message == message and err.value.hint == hint


def test_timewarp_grid_passes_the_reference(capsys):
    assert L.check_timewarp_grid(L.timewarp_positions_reference) is True
    assert capsys.readouterr().out == ("✓ timewarp_positions is correct (values and gradients match the reference on "
                                       "6 cases)\n")


def zeros(head):
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
    return head


def random_weights(head):
    with torch.no_grad():
        head.bias.copy_(torch.tensor(L.WARP_IDENTITY).repeat(head.out_features // 4))
    return head


def six_features_only(head):
    with torch.no_grad():
        if head.in_features == 6:
            head.weight.zero_()
        head.bias.copy_(torch.tensor(L.WARP_IDENTITY).repeat(head.out_features // 4))
    return head


HEAD = "init_warp_head, case "
HEADS = [
    (zeros, HEAD + "'one series, 6 features from 5 inputs' (n_out=4): at input 0, parameter 0 (scale s): the "
     "head's output θ is 0, expected 1 (10 of 20 entries differ)",
     "all zeros: s = 0 reads one point for the whole series and a = 0 multiplies it by 0. The identity is s = 1, "
     "t = 0, a = 1, b = 0: V = 1 · U(1 · x + 0) + 0"),
    (random_weights, HEAD + "'one series, 6 features from 5 inputs' (n_out=4): at input 0, parameter 0 (scale s): "
     "the head's output θ is -0.127953, expected 1 (20 of 20 entries differ)",
     "the bias is right but the weights are still random, so θ depends on the input from the first step: zero "
     "the weights too (head.weight.zero_())"),
    (six_features_only, HEAD + "'one series, 3 features from 4 inputs' (n_out=4): at input 0, parameter 0 (scale "
     "s): the head's output θ is 1.00789, expected 1 (16 of 16 entries differ)", None),
    (L._first_only, HEAD + "'two channels, each its own warp (8 outputs), 6 features from 3 inputs' (n_out=8): at "
     "input 0, parameter 4 (scale s, channel 1): the head's output θ is 0, expected 1 (6 of 24 entries differ)",
     "with 4·k outputs (k channels, each its own warp) the identity repeats k times: (1, 0, 1, 0, 1, 0, 1, 0, …)"),
]


@pytest.mark.parametrize("wrong, message, hint", HEADS, ids=["zeros", "random-weights", "six-features-only", "first-only"])
def test_warp_head_init_feedback_word_for_word(wrong, message, hint):
    with pytest.raises(CheckError) as err:
        L.check_warp_head_init(wrong, verbose=False)
    assert err.value.message == message and err.value.hint == hint


def test_warp_head_init_passes_in_place_or_returned(capsys):
    assert L.check_warp_head_init(L.init_warp_head_reference) is True
    assert capsys.readouterr().out == "✓ init_warp_head is correct (values match the reference on 3 cases)\n"

    def returns_a_new_head(head):  # leaves the head it was given alone
        return L.init_warp_head_reference(nn.Linear(head.in_features, head.out_features))

    assert L.check_warp_head_init(returns_a_new_head, verbose=False) is True
    with pytest.raises(TypeError, match="^" + "pass the function itself, check_warp_head_init\\(init_warp_head\\), "
                                              "got int$"):
        L.check_warp_head_init(3)


def four_outputs_only(head):  # zeroes the weights of a one-series head only
    with torch.no_grad():
        if head.out_features == 4:
            head.weight.zero_()
        head.bias.copy_(torch.tensor(L.WARP_IDENTITY).repeat(head.out_features // 4))
    return head


def nearly(head):  # the identity, but 3e-6 off: more than the check's tolerance of 1e-6 + 1e-6 · |1|
    L.init_warp_head_reference(head)
    with torch.no_grad():
        head.bias[0] += 3e-6
    return head


def test_warp_head_init_cases_and_tolerance_beyond_the_first_case():
    with pytest.raises(CheckError) as err:
        L.check_warp_head_init(four_outputs_only, verbose=False)
    assert err.value.message == (
        HEAD + "'two channels, each its own warp (8 outputs), 6 features from 3 inputs' (n_out=8): at input 0, "
        "parameter 0 (scale s, channel 0): the head's output θ is 1.07868, expected 1 (24 of 24 entries differ)")
    with pytest.raises(CheckError) as err:
        L.check_warp_head_init(nearly, verbose=False)
    assert err.value.message.startswith(HEAD + "'one series, 6 features from 5 inputs' (n_out=4): at input 0, "
                                        "parameter 0 (scale s): the head's output θ is 1")
