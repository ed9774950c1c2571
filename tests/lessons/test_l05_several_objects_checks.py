"""Lesson 05's exercise checks, message by message (issue 25, mutation run of 2026-12-05): each typical
mistake gets exactly the feedback written for it, the right answers print exactly their ✓ line, and
mistakes that only a later window or the second transformer shows are caught there."""

import pytest
import torch

from stnlib.course.checking import CheckError
from stnlib.lessons import l05_several_objects as L
from stnlib.transformer import SpatialTransformer

WINDOW_1 = "left_right_bias(): window 1 does not read the left half of the image; "
WINDOW_2 = "left_right_bias(): window 2 does not read the right half of the image; "


def bias(*values):
    return lambda: torch.tensor(values, dtype=torch.float32)


def message(check, student):
    with pytest.raises(CheckError) as err:
        check(student, verbose=False)
    return err.value.message


@pytest.mark.parametrize("student, expected", [
    (bias(0.5, 0, 0.5, 0, 1, 0, 0.5, 0, -0.5, 0, 1, 0), WINDOW_1 +
     "the two windows are swapped: the first six values must read the LEFT half (its centre is at x = −0.5), the "
     "last six the right half (x = +0.5)"),
    (bias(0.5, 0, -0.5, 0, 1, 0, 0.5, 0, -0.5, 0, 1, 0), WINDOW_2 +
     "both windows read the left half (both shifts are −0.5, the misprint in Wang's report): the second window's "
     "centre is at x = +0.5"),
    (bias(0.5, 0, -14, 0, 1, 0, 0.5, 0, 14, 0, 1, 0), WINDOW_1 +
     "the shifts look like pixels: θ works in normalized coordinates, where the 56-pixel width spans [−1, 1], so "
     "the centre of each half is at x = ∓0.5"),
    (bias(0.5, 0, -1.5, 0, 1, 0, 0.5, 0, 1.5, 0, 1, 0), WINDOW_1 +
     "window 1 must read exactly the left half: θ₁₁ = 0.5, θ₁₃ = −0.5, second row [0, 1, 0]"),
    (bias(0.5, 0, -1, 0, 1, 0, 0.5, 0, 1, 0, 1, 0), WINDOW_1 +
     "a shift of ±1 puts the window's centre on the image's edge: the centre of the left half is at x = −0.5, of "
     "the right half at x = +0.5"),
    (bias(2, 0, -0.5, 0, 1, 0, 2, 0, 0.5, 0, 1, 0), WINDOW_1 +
     "θ maps output coordinates to input coordinates: a window half as wide as the image has θ₁₁ = 0.5 (each "
     "output step reads half a step of the input), not 2"),
    (bias(1, 0, -0.5, 0, 1, 0, 1, 0, 0.5, 0, 1, 0), WINDOW_1 +
     "with θ₁₁ = 1 a window reads the whole width of the image: it must read half of it, so θ₁₁ = 0.5"),
    (bias(0.5, 0, -0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0), WINDOW_1 +
     "the windows keep the full height and no shear: the second row of each θ is [0, 1, 0]"),
    # wrong only in the second window: caught there, with the second window's own hint
    (bias(0.5, 0, -0.5, 0, 1, 0, 0.5, 0, 0.7, 0, 1, 0), WINDOW_2 +
     "window 2 must read exactly the right half: θ₁₁ = 0.5, θ₁₃ = +0.5, second row [0, 1, 0]"),
    (bias(0.5, 0, -0.3, 0, 1, 0, 0.5, 0, 0.5, 0, 1, 0), WINDOW_1 +
     "window 1 must read exactly the left half: θ₁₁ = 0.5, θ₁₃ = −0.5, second row [0, 1, 0]"),
    (bias(0.5, 0, -0.5, 0, 1, 0, 0.5, 0.1, 0.5, 0, 1, 0), WINDOW_2 +
     "window 2 must read exactly the right half: θ₁₁ = 0.5, θ₁₃ = +0.5, second row [0, 1, 0]"),
    (lambda: L.left_right_bias_reference().tolist(),
     "left_right_bias() must return a torch.Tensor, got list (use torch.tensor([...]))"),
    (lambda: tuple(L.left_right_bias_reference().tolist()),
     "left_right_bias() must return a torch.Tensor, got tuple (use torch.tensor([...]))"),
    (lambda: L.left_right_bias_reference().numpy(), "left_right_bias() must return a torch.Tensor, got ndarray"),
    (lambda: L.left_right_bias_reference().view(2, 2, 3),
     "left_right_bias() has shape (2, 2, 3): return the 12 values as one flat tensor, θ₁ (left) then θ₂ (right), "
     "each row by row"),
    (lambda: torch.tensor([1, 0, -1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
     "left_right_bias() must be a float tensor (write 1.0, not 1)"),
    (lambda: 1 / 0, "left_right_bias() raised ZeroDivisionError: division by zero"),
], ids=[f"mistake{i}" for i in range(17)])
def test_left_right_bias_feedback_word_for_word(student, expected):
    assert message(L.check_left_right_bias, student) == expected


def test_left_right_bias_passes_the_reference_and_a_double_tensor(capsys):
    assert L.check_left_right_bias(L.left_right_bias_reference) is True
    assert capsys.readouterr().out == ("✓ left_right_bias is correct: window 1 reads exactly the left half, window 2 "
                                       "exactly the right half\n")
    assert L.check_left_right_bias(lambda: L.left_right_bias_reference().double(), verbose=False) is True
    assert capsys.readouterr().out == ""


def good():
    return (SpatialTransformer(2, align_corners=False, out_size=28, per_channel=True),
            SpatialTransformer(2, align_corners=False, out_size=28, n_transformers=2))


def moved(which):
    per, par = good()
    with torch.no_grad():
        (per.loc[0] if which == "per" else par.loc[1]).head.bias[0] = 0.7
    return per, par


class Broken(SpatialTransformer):
    def forward(self, U):
        raise RuntimeError("boom")


PER, PAR = good()


@pytest.mark.parametrize("student, expected", [
    (lambda: (PAR, PER), "the two are swapped: the first must be the per-channel transformer, the second the two "
                         "parallel ones"),
    (lambda: (SpatialTransformer(2, align_corners=False, out_size=28), PAR),
     "per_channel must regress one θ per channel: pass per_channel=True"),
    (lambda: (PER, SpatialTransformer(2, align_corners=False, out_size=28, n_transformers=3)),
     "parallel must be two transformers (n_transformers=2), got n_transformers=3, per_channel=False"),
    (lambda: (PER, SpatialTransformer(2, align_corners=False, out_size=28, per_channel=True)),
     "parallel must be two transformers (n_transformers=2), got n_transformers=1, per_channel=True"),
    (lambda: (SpatialTransformer(2, align_corners=False, per_channel=True), PAR),
     "per_channel outputs 42×42 windows: pass out_size=28 (a digit-sized window of the 42×42 canvas)"),
    (lambda: (PER, SpatialTransformer(2, align_corners=False, out_size=(28, 20), n_transformers=2)),
     "parallel outputs 28×20 windows: pass out_size=28 (a digit-sized window of the 42×42 canvas)"),
    (lambda: (SpatialTransformer(2, align_corners=True, out_size=28, per_channel=True), PAR),
     "per_channel has align_corners=True: the course's convention is False"),
    (lambda: (PER, SpatialTransformer(2, align_corners=True, out_size=28, n_transformers=2)),
     "parallel has align_corners=True: the course's convention is False"),
    (lambda: (SpatialTransformer(1, align_corners=False, out_size=28, per_channel=True), PAR),
     "per_channel sees 1 channel(s): MNIST-addition images have 2 (pass in_channels=2)"),
    (lambda: PER, "addition_transformers() must return a pair (per_channel, parallel)"),
    (lambda: (PER, PAR, PER), "addition_transformers() must return a pair (per_channel, parallel)"),
    (lambda: [PER, PAR], "addition_transformers() must return a pair (per_channel, parallel)"),
    (lambda: (PER, 3), "parallel must be a stnlib SpatialTransformer, got int"),
    (lambda: (SpatialTransformer(2, align_corners=False, out_size=28, per_channel=True, transform="attention"), PAR),
     "per_channel: V has shape (3, 2, 28, 28), θ (3, 2, 3); expected V (3, 2, 28, 28), θ (3, 2, 2, 3)"),
    (lambda: (Broken(2, align_corners=False, out_size=28, per_channel=True), PAR),
     "per_channel(x) raised RuntimeError on x of shape 3×2×42×42: boom"),
    (lambda: moved("per"), "per_channel does not start as the identity: keep the library's identity-initialized "
                           "localization net"),
    (lambda: moved("par"), "parallel does not start as the identity: keep the library's identity-initialized "
                           "localization nets"),
    (lambda: 1 / 0, "addition_transformers() raised ZeroDivisionError: division by zero"),
], ids=[f"mistake{i}" for i in range(18)])
def test_addition_transformers_feedback_word_for_word(student, expected):
    assert message(L.check_addition_transformers, student) == expected


def test_addition_transformers_passes_the_reference_with_either_padding(capsys):
    assert L.check_addition_transformers(good) is True
    assert capsys.readouterr().out == (
        "✓ addition_transformers is correct: per channel V 2×28×28 and θ 2×2×3 (one θ per channel); parallel V "
        "4×28×28 and θ 2×2×3 (one θ per transformer)\n")
    border = (SpatialTransformer(2, align_corners=False, out_size=28, per_channel=True, padding_mode="border"),
              SpatialTransformer(2, align_corners=False, out_size=28, n_transformers=2, padding_mode="border"))
    assert L.check_addition_transformers(lambda: border, verbose=False) is True


@pytest.mark.parametrize("values, hint", [
    ((0.5, 0, 0.5, 0, 1, 0, 0.5, 0, -0.5, 0, 1, 0), "the two windows are swapped"),
    ((0.5, 0, -0.5, 0, 1, 0, 0.5, 0, -0.5, 0, 1, 0), "both windows read the left half"),
    ((0.5, 0, -1, 0, 1, 0, 0.5, 0, 1, 0, 1, 0), "a shift of ±1 puts the window's centre"),
    ((2, 0, -0.5, 0, 1, 0, 2, 0, 0.5, 0, 1, 0), "θ maps output coordinates to input coordinates"),
    ((1, 0, -0.5, 0, 1, 0, 1, 0, 0.5, 0, 1, 0), "with θ₁₁ = 1 a window reads the whole width"),
    ((0.5, 0, -2, 0, 1, 0, 0.5, 0, 2, 0, 1, 0), "the shifts look like pixels"),
], ids=["swapped", "both-left", "edge", "two", "one", "pixels-2"])
def test_a_mistake_is_recognized_up_to_rounding(values, hint):
    noisy = torch.tensor(values, dtype=torch.float32) + 5e-5 * torch.tensor([1.0, -1.0] * 6)
    assert hint in message(L.check_left_right_bias, lambda: noisy)


def test_the_second_rows_hint_up_to_rounding():
    b = L.left_right_bias_reference().clone()
    b[4] = 0.5  # window 1 reads half the height
    assert message(L.check_left_right_bias, lambda: b + 5e-5).endswith(
        "the windows keep the full height and no shear: the second row of each θ is [0, 1, 0]")


def test_a_second_row_within_the_checks_tolerance_is_not_named():
    # window 1 shifted to -0.4 (wrong), both second rows 5e-5 off [0, 1, 0]: inside the hint's atol 1e-4,
    # so the feedback is the general one for window 1, not the second-row hint
    b = L.left_right_bias_reference().clone()
    b[2] = -0.4
    b[[3, 4, 5, 9, 10, 11]] += 5e-5
    assert message(L.check_left_right_bias, lambda: b).endswith(
        "window 1 must read exactly the left half: θ₁₁ = 0.5, θ₁₃ = −0.5, second row [0, 1, 0]")


def nudged(which, shift):
    per, par = good()
    with torch.no_grad():
        (per.loc[0] if which == "per" else par.loc[1]).head.bias[2] += shift
    return per, par


@pytest.mark.parametrize("which", ["per", "par"])
def test_an_identity_start_is_accepted_up_to_the_checks_tolerance(which):
    # a translation of 3e-7 moves V by a few 1e-6: inside the identity check's atol 1e-5, outside torch's default
    assert L.check_addition_transformers(lambda: nudged(which, 3e-7), verbose=False) is True
    assert "does not start as the identity" in message(L.check_addition_transformers, lambda: nudged(which, 1e-3))
