"""θ statistics and the collapse detector."""

import pytest
import torch

from stnlib import theta as theta_lib
from stnlib.diagnostics import CollapseDetector, ThetaCollapseError, theta_stats
from stnlib.grids import affine_grid
from stnlib.theta import affine_theta


def test_identity_statistics():
    theta = theta_lib.identity(8)
    grid = affine_grid(theta, (10, 10), align_corners=False)
    V = torch.rand(8, 1, 10, 10)
    s = theta_stats(theta, "affine", grid=grid, output=V)
    assert s["det_mean"] == pytest.approx(1) and s["scale_mean"] == pytest.approx(1)
    assert s["translation_mean"] == 0 and s["outside"] == 0 and s["blank"] == 0


def test_zoom_out_and_blank_outputs_are_measured():
    theta = affine_theta(0.0, 0.25).expand(4, 2, 3)  # picture shrunk 4×: θ scale 4
    grid = affine_grid(theta, (10, 10), align_corners=False)
    s = theta_stats(theta, "affine", grid=grid, output=torch.zeros(4, 1, 10, 10))
    assert s["scale_mean"] == pytest.approx(4)
    assert s["outside"] > 0.5 and s["blank"] == 1.0


@pytest.mark.parametrize("transform,theta,key", [
    ("attention", torch.tensor([[2.0, 0.1, 0.0]]), "scale_mean"),
    ("projective", torch.eye(3).expand(2, 3, 3), "det_mean"),
    ("tps", torch.full((2, 16, 2), 0.3), "displacement_mean"),
    ("timewarp", torch.tensor([[0.5, 0.1]]), "shift_mean"),
])
def test_every_transform_has_statistics(transform, theta, key):
    assert key in theta_stats(theta, transform)


def test_detector_raises_after_patience_with_a_clear_message():
    det = CollapseDetector(patience=3)
    healthy = {"scale_mean": 1.0, "det_min": 1.0, "outside": 0.0, "blank": 0.0}
    collapsed = {"scale_mean": 9.0, "det_min": 0.01, "outside": 0.95, "blank": 1.0}
    assert det.update(healthy) == []
    det.update(collapsed)
    det.update(collapsed)
    assert det.update(healthy) == []  # recovers: the count restarts
    det.update(collapsed)
    det.update(collapsed)
    with pytest.raises(ThetaCollapseError, match="zooms out"):
        det.update(collapsed)


def test_detector_flags_non_finite_values():
    assert "diverged" in CollapseDetector().problems({"scale_mean": float("nan")})[0]
