"""θ statistics on hand-made θ with known answers, and the collapse criteria firing exactly at their limits.

Each statistic is computed by hand for a batch whose items differ (so a mean, a norm over the wrong axis
or a wrong slice gives a different number), and each limit of :class:`CollapseDetector` is tried just
inside and just outside it.
"""

import math

import pytest
import torch

from stnlib.diagnostics import CollapseDetector, ThetaCollapseError, linear_part, theta_stats
from stnlib.grids import affine_grid


def _affine(a, b, tx, c, d, ty):
    return torch.tensor([[a, b, tx], [c, d, ty]], dtype=torch.float64)


def test_affine_statistics_of_a_known_batch():
    # det 2·3 = 6, det 0.5·0.5 = 0.25, det of a flip = -1; translations of length 5, 0 and 1
    theta = torch.stack([_affine(2, 0, 3, 0, 3, 4), _affine(0.5, 0, 0, 0, 0.5, 0), _affine(-1, 0, 0, 0, 1, 1)])
    s = theta_stats(theta)  # the default transform is "affine"
    assert s["det_mean"] == pytest.approx((6 + 0.25 - 1) / 3)
    assert s["det_min"] == pytest.approx(-1) and s["det_max"] == pytest.approx(6)
    assert s["scale_mean"] == pytest.approx((math.sqrt(6) + 0.5 + 1) / 3)
    assert s["translation_mean"] == pytest.approx((5 + 0 + 1) / 3)
    assert set(s) == {"det_mean", "det_min", "det_max", "scale_mean", "translation_mean"}


def test_linear_part_of_each_transform():
    theta = torch.stack([_affine(1, 2, 9, 3, 4, 9), _affine(5, 6, 9, 7, 8, 9)])
    assert torch.equal(linear_part(theta, "affine"), theta[:, :, :2])
    params = torch.tensor([[2.0, 0.3, -0.4], [0.5, 0.0, 0.0]])
    A = linear_part(params, "attention")
    assert A.shape == (2, 2, 2)
    assert torch.equal(A, torch.stack([2.0 * torch.eye(2), 0.5 * torch.eye(2)]))
    # a homography is defined up to scale: 2·I is the identity, its linear part is I
    M = torch.stack([2 * torch.eye(3), torch.tensor([[3.0, 1.0, 0.2], [0.0, 2.0, 0.1], [0.0, 0.0, 1.0]])])
    A = linear_part(M, "projective")
    assert A.shape == (2, 2, 2)
    assert torch.allclose(A, torch.stack([torch.eye(2), torch.tensor([[3.0, 1.0], [0.0, 2.0]])]))
    assert linear_part(torch.zeros(2, 16, 2), "tps") is None


def test_projective_statistics_from_the_three_layouts():
    M = torch.tensor([[[3.0, 1.0, 0.3], [0.0, 2.0, 0.4], [0.0, 0.0, 1.0]],
                      [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]])  # det 6; the identity (det 1)
    expected = {"det_mean": 3.5, "det_min": 1.0, "det_max": 6.0, "scale_mean": (math.sqrt(6) + 1) / 2,
                "translation_mean": 0.25}
    flat8 = torch.stack([M[0].reshape(9)[:8], torch.tensor([1.0, 0, 0, 0, 1, 0, 0, 0])])  # N×8
    stacked = M.reshape(1, 2, 3, 3)  # two transformers per item: N×K×3×3
    for theta in (M, flat8, stacked):
        s = theta_stats(theta, "projective")
        assert s == pytest.approx(expected), theta.shape


def test_attention_statistics():
    params = torch.tensor([[2.0, 0.3, 0.4], [0.5, 0.0, -1.0]])
    s = theta_stats(params, "attention")
    assert s["det_mean"] == pytest.approx((4 + 0.25) / 2)
    assert s["det_min"] == pytest.approx(0.25) and s["det_max"] == pytest.approx(4)
    assert s["scale_mean"] == pytest.approx((2 + 0.5) / 2)
    assert s["translation_mean"] == pytest.approx((0.5 + 1.0) / 2)


def test_tps_and_timewarp_statistics():
    disp = torch.tensor([[[3.0, 4.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])  # |Δ| = 5, 0, 1, 0
    assert theta_stats(disp, "tps") == {"displacement_mean": pytest.approx(6 / 4)}
    warp = torch.tensor([[2.0, -0.5], [-1.0, 0.25]])  # (scale, shift)
    assert theta_stats(warp, "timewarp") == {"scale_mean": pytest.approx(1.5), "shift_mean": pytest.approx(0.375)}


def test_outside_counts_only_points_strictly_beyond_the_border():
    theta = torch.stack([_affine(1, 0, 0, 0, 1, 0)]).float()
    on_border = affine_grid(theta, (5, 5), align_corners=True)  # corners exactly at ±1
    assert theta_stats(theta, grid=on_border)["outside"] == 0
    shifted = affine_grid(torch.tensor([[[1.0, 0, 0.5], [0, 1, 0]]]), (4, 4), align_corners=False)
    # x of the columns: -0.25, 0.25, 0.75, 1.25 → one column in four lies outside
    # a position counts once, whether x, y or both are outside (not per coordinate: that gave 0.125)
    assert theta_stats(torch.tensor([[[1.0, 0, 0.5], [0, 1, 0]]]), grid=shifted)["outside"] == pytest.approx(0.25)
    both = affine_grid(torch.tensor([[[1.0, 0, 0.5], [0, 1, 0.5]]]), (4, 4), align_corners=False)
    assert theta_stats(theta, grid=both)["outside"] == pytest.approx(7 / 16)  # last row or last column


def test_outside_of_a_time_warp_grid():
    positions = torch.tensor([[-1.5, -1.0, 0.0, 1.0], [0.2, 0.4, 1.2, 3.0]])  # N×L' positions
    s = theta_stats(torch.tensor([[1.0, 0.0], [2.0, 0.5]]), "timewarp", grid=positions)
    assert s["outside"] == pytest.approx(3 / 8)


def test_blank_is_the_fraction_of_near_constant_outputs():
    theta = torch.stack([_affine(1, 0, 0, 0, 1, 0)] * 3)
    V = torch.zeros(3, 2, 4, 4)
    V[0] = 0.5  # constant grey: blank
    V[1, 0, 0, 0] = 0.25  # spans exactly 0.25
    V[2, 1] = torch.linspace(0, 1, 16).view(4, 4)
    s = theta_stats(theta, output=V, blank_tol=0.25)
    assert s["blank"] == pytest.approx(1 / 3)  # a span equal to the tolerance is not blank
    assert theta_stats(theta, output=V, blank_tol=0.3)["blank"] == pytest.approx(2 / 3)


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match=r"^theta must be a torch.Tensor, got list$"):
        theta_stats([[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError) as err:
        theta_stats(torch.zeros(2, 3), "similarity")
    assert str(err.value) == ("unknown transform 'similarity'; expected one of 'affine', 'attention', "
                              "'projective', 'tps', 'timewarp'")


HEALTHY = {"det_mean": 1.0, "det_min": 0.8, "det_max": 1.2, "scale_mean": 1.0, "translation_mean": 0.1,
           "outside": 0.0, "blank": 0.0}


@pytest.mark.parametrize("change,message", [
    ({"scale_mean": 4.5}, "mean scale √|det θ| = 4.5 > 4.0: the transformer zooms out so far that the "
                          "object shrinks to a few pixels"),
    ({"scale_mean": 0.04}, "mean scale √|det θ| = 0.04 < 0.05: the transformer zooms into a tiny patch"),
    ({"outside": 0.95}, "95% of the sampling grid lies outside the input"),
    ({"blank": 0.96}, "96% of the transformer's outputs are blank"),
    ({"translation_mean": float("inf")}, "translation_mean is inf (θ diverged)"),
])
def test_each_criterion_fires_with_its_message(change, message):
    assert CollapseDetector().problems(HEALTHY) == []
    assert CollapseDetector().problems({**HEALTHY, **change}) == [message]


@pytest.mark.parametrize("key,limit", [("scale_mean", 4.0), ("scale_mean", 0.05), ("outside", 0.9),
                                       ("blank", 0.9)])
def test_a_value_exactly_at_a_limit_is_healthy(key, limit):
    assert CollapseDetector().problems({**HEALTHY, key: limit}) == []


def test_limits_are_the_detectors_fields():
    det = CollapseDetector(max_scale=2.0, min_scale=0.5, max_outside=0.2, max_blank=0.1)
    assert len(det.problems({**HEALTHY, "scale_mean": 2.5})) == 1
    assert len(det.problems({**HEALTHY, "scale_mean": 0.4})) == 1
    assert len(det.problems({**HEALTHY, "outside": 0.3})) == 1
    assert len(det.problems({**HEALTHY, "blank": 0.15})) == 1
    assert det.problems({**HEALTHY, "scale_mean": 1.9, "outside": 0.2, "blank": 0.1}) == []


def test_flips_are_flagged_only_when_not_allowed():
    flipped = {**HEALTHY, "det_min": -0.5}
    assert CollapseDetector().problems(flipped) == []  # allowed by default
    strict = CollapseDetector(allow_flip=False)
    assert strict.problems(flipped) == ["det θ reaches -0.5 ≤ 0: some θ flip or squash the image"]
    assert strict.problems({**HEALTHY, "det_min": 0.0}) == ["det θ reaches 0 ≤ 0: some θ flip or squash the image"]
    assert strict.problems({**HEALTHY, "det_min": 0.5}) == []
    assert strict.problems(HEALTHY) == []
    # statistics without a determinant (TPS, time warps) are never a flip
    assert strict.problems({"displacement_mean": 0.1}) == []


def test_missing_statistics_are_healthy():
    assert CollapseDetector().problems({"displacement_mean": 0.3}) == []
    assert CollapseDetector().problems({}) == []


def test_detector_fires_on_a_collapsing_sequence_and_not_on_a_healthy_one():
    torch.manual_seed(0)
    healthy_det = CollapseDetector(patience=5)
    for _ in range(50):
        theta = torch.eye(2, 3).expand(8, 2, 3) + 0.05 * torch.randn(8, 2, 3)
        assert healthy_det.update(theta_stats(theta)) == []
    assert healthy_det.bad_steps == 0 and len(healthy_det.history) == 50

    det = CollapseDetector(patience=5)
    steps = 0
    with pytest.raises(ThetaCollapseError) as err:
        while steps < 100:
            steps += 1  # the localization net zooms out a little more at every step
            det.update(theta_stats(1.2**steps * torch.eye(2, 3).expand(8, 2, 3)))
    # the scale passes 4 at zoom 1.2^8 ≈ 4.3; at the fifth bad step (zoom 1.2^12) it stops
    assert steps == 12 and det.bad_steps == 5 and len(det.history) == 12
    assert str(err.value) == (
        "the spatial transformer collapsed (5 bad batches in a row): mean scale √|det θ| = 8.92 > 4.0: the "
        "transformer zooms out so far that the object shrinks to a few pixels. Try identity initialization of "
        "the localization head (zero weights, the identity as bias), a bounded θ, or a lower learning rate "
        "for the localization net; pad with the background value or normalize after the warp (see lesson 04).")


def test_update_records_history_and_returns_the_problems():
    det = CollapseDetector(patience=3)
    bad = {**HEALTHY, "outside": 1.0, "blank": 1.0}
    assert det.update(HEALTHY) == []
    assert det.update(bad) == ["100% of the sampling grid lies outside the input",
                               "100% of the transformer's outputs are blank"]
    assert det.bad_steps == 1 and det.history == [HEALTHY, bad]
    det.update(bad)
    with pytest.raises(ThetaCollapseError, match=r"\(3 bad batches in a row\): 100% of the sampling grid lies "
                                                 r"outside the input; 100% of the transformer's outputs"):
        det.update(bad)
