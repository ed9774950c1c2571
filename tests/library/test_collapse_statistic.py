"""stnlib.diagnostics.outside_fraction and the collapse detector on hand-made θ."""

import math

import pytest
import torch

from stnlib.diagnostics import CollapseDetector, ThetaCollapseError, outside_fraction, theta_stats


def affine(a11=1.0, a12=0.0, tx=0.0, a21=0.0, a22=1.0, ty=0.0):
    return torch.tensor([[[a11, a12, tx], [a21, a22, ty]]])


@pytest.mark.parametrize("align_corners", [False, True])
def test_identity_and_flip_read_nothing_outside(align_corners):
    for theta in (affine(), affine(-1.0), affine(-1.0, a22=-1.0), affine(0.0, 1.0, 0.0, 1.0, 0.0)):
        assert outside_fraction(theta, (8, 6), align_corners=align_corners).tolist() == [0.0]


def test_zoom_out_onto_padding():
    # zoom out 2×: on 8×8 the outer half of the positions along each axis lands beyond ±1
    assert outside_fraction(affine(2.0, a22=2.0), (8, 8), align_corners=False).item() == 0.75
    # on 6×6 two columns land exactly on ±1, which is inside: 4 of 6 per axis inside
    assert math.isclose(outside_fraction(affine(2.0, a22=2.0), (6, 6), align_corners=False).item(),
                        1 - 16 / 36, rel_tol=1e-6)
    # align_corners=True: positions -2, -2/3·…: 8 positions from -2 to 2, those with |x| ≤ 1 inside
    xs = torch.linspace(-2, 2, 8)
    inside = (xs.abs() <= 1).float().mean().item()
    assert math.isclose(outside_fraction(affine(2.0, a22=2.0), (8, 8), align_corners=True).item(),
                        1 - inside ** 2, rel_tol=1e-6)
    # the whole grid shifted off the input; zoom in (s = 0.5) reads nothing outside
    assert outside_fraction(affine(tx=2.5), (8, 8), align_corners=False).item() == 1.0
    assert outside_fraction(affine(0.5, a22=0.5), (8, 8), align_corners=False).item() == 0.0
    # one value per image
    batch = torch.cat([affine(), affine(2.0, a22=2.0), affine(tx=2.5)])
    assert outside_fraction(batch, (8, 8), align_corners=False).tolist() == [0.0, 0.75, 1.0]


def test_theta_stats_outside_counts_pixels_once():
    theta = affine(1.5)  # zoom out in x only: outside in x for the outer third of the columns
    from_theta = theta_stats(theta, out_size=(4, 12))["outside"]
    grid = torch.nn.functional.affine_grid(theta, (1, 1, 4, 12), align_corners=False)
    assert from_theta == theta_stats(theta, grid=grid)["outside"]
    assert math.isclose(from_theta, 4 / 12, rel_tol=1e-6)  # 4 of 12 columns, every row


def test_outside_fraction_errors():
    with pytest.raises(TypeError, match="out_size must be an int or a sequence of 2 ints"):
        outside_fraction(affine(), (8,), align_corners=False)
    with pytest.raises(TypeError, match="align_corners"):
        outside_fraction(affine(), (8, 8), align_corners=None)
    with pytest.raises(TypeError, match="theta"):
        outside_fraction([[1, 0, 0]], (8, 8), align_corners=False)


def test_detector_fires_on_a_grid_off_the_input_and_not_on_a_healthy_one():
    collapsed = theta_stats(affine(tx=2.5), out_size=(8, 8))
    healthy = theta_stats(affine(0.8, a22=0.8, tx=0.1), out_size=(8, 8))
    detector = CollapseDetector(patience=3)
    for _ in range(10):
        assert detector.update(healthy) == []
    detector.update(collapsed)
    detector.update(collapsed)
    assert detector.update(healthy) == []  # a healthy batch resets the count
    detector.update(collapsed)
    detector.update(collapsed)
    with pytest.raises(ThetaCollapseError, match=r"100% of the sampling grid lies outside.*identity"):
        detector.update(collapsed)
    # a lower threshold catches a grid that reads mostly, not only, padding
    half = theta_stats(affine(2.0, a22=2.0), out_size=(8, 8))  # 75 % outside, scale 2
    assert CollapseDetector().problems(half) == []
    assert CollapseDetector(max_outside=0.5).problems(half) != []


def test_theta_monitor_logs_outside_from_theta():
    from stnlib.models import cluttered as zoo
    from stnlib.train import theta_monitor, train

    torch.manual_seed(0)
    model = zoo.collapse_stn((0.0, 1.0), identity_init=True)
    monitor = theta_monitor("affine", every=1, out_size=(32, 32))
    x, y = torch.rand(8, 1, 64, 64), torch.randint(0, 10, (8,))
    train(model, (x, y), epochs=1, batch_size=4, lr=1e-6, progress=False, on_step=monitor)
    assert [r["step"] for r in monitor.history] == [0, 1]
    assert monitor.history[0]["outside"] == 0.0  # the identity reads only the input
