"""Lesson 03's exercise checks, message by message (issue 25, mutation run of 2026-12-05): a head wrong only for
one of the three transforms (affine, projective, TPS) gets exactly the feedback and hint of its mistake, in
each branch of the identity-head check; an angle wrong in one case or batch entry gets exactly the feedback
naming it; the angle check's own tolerances (1e-3 absolute, 1e-4 relative) accept rounding and nothing
more."""

import pytest
import torch
from checks import wrong_in_one_call

from stnlib import grids
from stnlib.course.checking import CheckError
from stnlib.lessons import l03_distorted_mnist as L
from stnlib.localization import init_identity
from stnlib.theta import affine_theta


def feedback(check, student):
    with pytest.raises(CheckError) as err:
        check(student, verbose=False)
    return err.value.message, err.value.hint


def good_head(n_features, transform):
    identity = grids.identity(transform)
    return init_identity(torch.nn.Linear(n_features, identity.numel()), identity)


def only_for(transform, wrong):
    """The right head, except for ``transform``, where ``wrong`` builds it."""
    def identity_head(n_features, t):
        return wrong(n_features, t) if t == transform else good_head(n_features, t)
    return identity_head


def changed(change):
    def wrong(n, t):
        head = good_head(n, t)
        with torch.no_grad():
            change(head)
        return head
    return wrong


def zero_bias(head):
    head.bias.zero_()


def last_bias_off(head):
    head.bias[-1] += 0.5


def affine_bias(head):
    head.bias.zero_()
    head.bias[:6] = grids.identity("affine")


def last_weight(head):
    head.weight[-1, -1] = 0.25


def _frozen(n, t, which):
    head = good_head(n, t)
    getattr(head, which).requires_grad_(False)
    return head


def raises(n, t):
    raise ValueError("boom")


A, P, T = "identity_head(20, 'affine')", "identity_head(32, 'projective')", "identity_head(7, 'tps')"
ZEROS = "the bias is all zeros: it must hold the identity, grids.identity(transform)"
OWN = "the bias is the identity of the transform: grids.identity(transform)"
WEIGHTS = ("a new nn.Linear starts with random weights: set them to zero (nn.init.zeros_(head.weight)), so the "
           "output is the bias whatever the features are")
FROZEN_HINT = ("the identity is only where the localization net starts: it must learn from there, so leave both "
               "trainable (set their values under torch.no_grad() instead of freezing them)")
AFFINE_P = ("this is the affine head for every transform: P depends on the transform, P = "
            "grids.identity(transform).numel()")
READS = "the layer reads the n_features features of the localization body"
NO_BIAS = "nn.Linear(n_features, P) has a bias by default; do not pass bias=False"
FROZEN = ": the weight and the bias are frozen (requires_grad=False)"
PROJ = "(a projective transform has 8 (a 3×3 homography without its last entry) parameters)"
TPS = "(a tps transform has 32 (16 control points × (x, y)) parameters)"
AFF = "(a affine transform has 6 (a 2×3 θ) parameters)"

HEADS = [
    ("affine", changed(zero_bias), A + ": at bias[0] (identity parameter 0): the bias is 0, expected 1 (2 of 6 "
     "entries differ)", ZEROS),
    ("affine", changed(last_bias_off), A + ": at bias[5] (identity parameter 5): the bias is 0.5, expected 0 (1 of 6 "
     "entries differ)", OWN),
    ("affine", changed(last_weight), A + ": at weight[5, 19]: the weight is 0.25, expected 0 (1 of 120 entries "
     "differ)", WEIGHTS),
    ("affine", lambda n, t: _frozen(n, t, "bias"), A + FROZEN, FROZEN_HINT),
    ("affine", lambda n, t: _frozen(n, t, "weight"), A + FROZEN, FROZEN_HINT),
    ("affine", raises, A + ": your function raised ValueError: boom", None),
    ("affine", lambda n, t: torch.nn.Linear(n + 1, 6), A + ": the layer maps 21 → 6 features, expected 20 → 6 " + AFF,
     READS),
    ("affine", lambda n, t: torch.nn.Linear(n, 5), A + ": the layer maps 20 → 5 features, expected 20 → 6 " + AFF,
     None),
    ("affine", lambda n, t: torch.nn.Linear(n, 6, bias=False), A + ": the layer has no bias, and the bias is what "
     "holds the identity", NO_BIAS),
    ("affine", lambda n, t: torch.nn.Sequential(good_head(n, t)), A + " must return an nn.Linear, got Sequential",
     "return the layer itself, torch.nn.Linear(n_features, P)"),
    ("projective", changed(zero_bias), P + ": at bias[0] (identity parameter 0): the bias is 0, expected 1 (2 of 8 "
     "entries differ)", ZEROS),
    ("projective", changed(last_bias_off), P + ": at bias[7] (identity parameter 7): the bias is 0.5, expected 0 (1 "
     "of 8 entries differ)", OWN),
    ("projective", changed(last_weight), P + ": at weight[7, 31]: the weight is 0.25, expected 0 (1 of 256 entries "
     "differ)", WEIGHTS),
    ("projective", lambda n, t: _frozen(n, t, "bias"), P + FROZEN, FROZEN_HINT),
    ("projective", raises, P + ": your function raised ValueError: boom", None),
    ("projective", lambda n, t: torch.nn.Linear(n, 6), P + ": the layer maps 32 → 6 features, expected 32 → 8 " + PROJ,
     AFFINE_P),
    ("projective", lambda n, t: torch.nn.Linear(n + 1, 8), P + ": the layer maps 33 → 8 features, expected 32 → 8 "
     + PROJ, READS),
    ("projective", lambda n, t: torch.nn.Linear(n, 5), P + ": the layer maps 32 → 5 features, expected 32 → 8 " + PROJ,
     None),
    ("projective", lambda n, t: torch.nn.Linear(n, 8, bias=False), P + ": the layer has no bias, and the bias is "
     "what holds the identity", NO_BIAS),
    ("tps", changed(last_bias_off), T + ": at bias[31] (identity parameter 31): the bias is 0.5, expected 0 (1 of 32 "
     "entries differ)", OWN),
    ("tps", changed(affine_bias), T + ": at bias[0] (identity parameter 0): the bias is 1, expected 0 (2 of 32 entries "
     "differ)", "this bias is the affine identity [1, 0, 0, 0, 1, 0]; each transform has its own identity: "
     "grids.identity(transform)"),
    ("tps", changed(last_weight), T + ": at weight[31, 6]: the weight is 0.25, expected 0 (1 of 224 entries differ)",
     WEIGHTS),
    ("tps", lambda n, t: _frozen(n, t, "weight"), T + FROZEN, FROZEN_HINT),
    ("tps", raises, T + ": your function raised ValueError: boom", None),
    ("tps", lambda n, t: torch.nn.Linear(n, 6), T + ": the layer maps 7 → 6 features, expected 7 → 32 " + TPS,
     AFFINE_P),
    ("tps", lambda n, t: torch.nn.Linear(n + 1, 32), T + ": the layer maps 8 → 32 features, expected 7 → 32 " + TPS,
     READS),
    ("tps", lambda n, t: torch.nn.Linear(n, 5), T + ": the layer maps 7 → 5 features, expected 7 → 32 " + TPS, None),
    ("tps", lambda n, t: torch.nn.Linear(n, 32, bias=False), T + ": the layer has no bias, and the bias is what "
     "holds the identity", NO_BIAS),
    ("tps", lambda n, t: torch.nn.Sequential(good_head(n, t)), T + " must return an nn.Linear, got Sequential",
     "return the layer itself, torch.nn.Linear(n_features, P)"),
]


@pytest.mark.parametrize("transform, wrong, message, hint", HEADS,
                         ids=[f"{h[0]}-{i}" for i, h in enumerate(HEADS)])
def test_identity_head_feedback_for_each_transform_word_for_word(transform, wrong, message, hint):
    assert feedback(L.check_identity_head, only_for(transform, wrong)) == (message, hint)


def test_affine_identity_as_projective_bias_is_right():
    # the projective identity starts with the affine one: [1, 0, 0, 0, 1, 0, 0, 0]
    assert L.check_identity_head(only_for("projective", changed(affine_bias)), verbose=False) is True
    assert torch.equal(grids.identity("projective"), torch.tensor([1.0, 0, 0, 0, 1, 0, 0, 0]))


def test_identity_head_passes_quietly_or_with_its_line(capsys):
    assert L.check_identity_head(good_head, verbose=False) is True
    assert capsys.readouterr().out == ""


PA = "picture_angle, case "
BATCH = "'batch of 6 rotations, zooms and shifts': at θ["


@pytest.mark.parametrize("case, where, expected", [
    (0, (slice(None),), "'identity': at θ[0]: your angle is 1, expected 0"),
    (1, (slice(None),), "'turn 30° counter-clockwise': at θ[0]: your angle is 31, expected 30"),
    (2, (0,), "'turn −120°, zoom out 2×': at θ[0]: your angle is -119, expected -120"),
    (3, (slice(None),), BATCH + "0] of the batch: your angle is -167.55, expected -168.55 (6 of 6 entries differ)"),
    (3, (5,), BATCH + "5] of the batch: your angle is -148.56, expected -149.56 (1 of 6 entries differ)"),
], ids=["identity", "30", "minus-120", "batch", "batch-5"])
def test_each_picture_angle_case_is_run_with_its_theta(case, where, expected):
    message, hint = feedback(L.check_picture_angle, wrong_in_one_call(L.picture_angle_reference, case, where))
    assert message == PA + expected and hint is None


def test_the_batch_is_the_documented_draw():
    # angles uniform in [-170°, 170°), scales in [0.5, 2), shifts in [-0.5, 0.5)², from the seed-3 generator
    g = torch.Generator().manual_seed(3)
    angles, scales, shifts = torch.rand(6, generator=g) * 340 - 170, torch.rand(6, generator=g) * 1.5 + 0.5, \
        torch.rand(6, 2, generator=g) - 0.5
    thetas = L._similarity_thetas()
    assert thetas.dtype == torch.float32 and thetas.shape == (6, 2, 3)
    for i in range(6):
        expected = affine_theta(angle=angles[i].item(), scale=scales[i].item(), translation=shifts[i].tolist())
        torch.testing.assert_close(thetas[i], expected.float())
    torch.testing.assert_close(L.picture_angle_reference(thetas.double()), angles.double(), atol=1e-4, rtol=0)


def test_picture_angle_tolerances():
    ref = L.picture_angle_reference
    # 1e-3 absolute: 1.5e-3 on the identity's 0° is caught, 9e-4 is not
    assert feedback(L.check_picture_angle, lambda theta: ref(theta) + 1.5e-3) == (
        PA + "'identity': at θ[0]: your angle is 0.0015, expected 0", None)
    # 1e-4 relative: 1.5e-4 · 30° + 0 is caught; 9e-5 relative plus 9e-4 is not (the defaults would catch it)
    assert feedback(L.check_picture_angle, lambda theta: ref(theta) * (1 + 1.5e-4)) == (
        PA + "'turn 30° counter-clockwise': at θ[0]: your angle is 30.0045, expected 30", None)
    assert L.check_picture_angle(lambda theta: ref(theta) * (1 + 9e-5) + 9e-4, verbose=False) is True


def test_picture_angle_passes_quietly(capsys):
    assert L.check_picture_angle(L.picture_angle_reference, verbose=False) is True
    assert capsys.readouterr().out == ""


def test_an_angle_that_ignores_the_zoom_is_caught_on_the_zoomed_turn():
    # acos(θ₁₁) is the angle only without a zoom: the −120° case zooms out 2×, so θ₁₁ = cos(−120°) / 0.5 = −1
    def picture_angle(theta):
        return torch.sign(theta[:, 1, 0]) * torch.rad2deg(torch.acos(theta[:, 0, 0].clamp(-1, 1)))
    assert feedback(L.check_picture_angle, picture_angle) == (
        PA + "'turn −120°, zoom out 2×': at θ[0]: your angle is -180, expected -120", None)
