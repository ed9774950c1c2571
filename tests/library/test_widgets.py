"""The θ and TPS explorers, driven without a browser, and their static figures."""

import ipywidgets
import numpy as np
import pytest
import torch

from stnlib import grids, plot, sampler, theta, widgets


@pytest.fixture(scope="module")
def small():
    """A 32×32 crop of the camera photograph: enough to see every change, fast to redraw."""
    return plot.default_image("camera", size=32)


@pytest.fixture
def ex(small):
    return widgets.theta_explorer(small)


def test_explorer_is_a_widget_with_non_continuous_sliders(ex):
    assert isinstance(ex, ipywidgets.VBox)
    assert set(ex.sliders) == {"angle", "scale_x", "scale_y", "shear", "tx", "ty"}
    assert len(ex.raw) == 6
    for s in [*ex.sliders.values(), *ex.raw.values()]:
        assert s.continuous_update is False
    assert ex.image in ex.children and ex.tabs in ex.children
    assert ex.renders == 1 and ex.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_theta_matches_affine_theta_and_raw_view(ex):
    d = widgets.THETA_DEFAULTS
    want = theta.affine_theta(d["angle"], (d["scale_x"], d["scale_y"]), d["shear"], (d["tx"], d["ty"]))
    assert torch.allclose(ex.theta, want)
    raw = torch.tensor([s.value for s in ex.raw.values()]).view(2, 3)
    assert torch.allclose(raw, want, atol=1e-6)


def test_moving_a_slider_changes_theta_output_and_picture(ex, small):
    before_theta, before_out, before_png = ex.theta.clone(), ex.output.clone(), ex.image.value
    ex.sliders["angle"].value = -40.0
    assert ex.renders == 2
    assert torch.allclose(ex.theta, plot.params_theta(**{**widgets.THETA_DEFAULTS, "angle": -40.0}))
    assert not torch.allclose(ex.theta, before_theta)
    assert (ex.output - before_out).abs().max() > 0.1
    assert ex.image.value != before_png
    # the output is exactly what the library computes for that θ
    grid = grids.affine_grid(ex.theta[None], (32, 32), align_corners=False)
    assert torch.equal(ex.output, sampler.sample(small, grid, align_corners=False))


def test_identity_params_reproduce_the_input(ex, small):
    ex.set_params(angle=0, scale_x=1, scale_y=1, shear=0, tx=0, ty=0)
    assert torch.allclose(ex.theta, torch.eye(2, 3), atol=1e-6)
    assert torch.allclose(ex.output, small, atol=1e-6)


def test_set_params_redraws_once(ex):
    ex.set_params(angle=10, tx=-0.2)
    assert ex.renders == 2


def test_translation_moves_the_picture_the_documented_way(small):
    # +tx moves the picture right: the output column j shows input column j - shift
    ex = widgets.theta_explorer(small, angle=0, scale_x=1, scale_y=1, shear=0, tx=0.25, ty=0,
                                kernel="nearest")
    shift = 0.25 * 32 / 2  # 4 pixels
    assert torch.allclose(ex.output[..., 8:], small[..., 8 - int(shift):32 - int(shift)])


def test_raw_tab_sets_theta_directly_and_params_tab_takes_over_again(ex, small):
    ex.set_theta([[1, 0, 0], [0, 1, 0]])
    assert ex.source == "raw" and ex.tabs.selected_index == 1
    assert torch.allclose(ex.output, small, atol=1e-6)
    ex.raw["θ13"].value = 0.5
    assert torch.equal(ex.theta, torch.tensor([[1, 0, 0.5], [0, 1, 0]]))
    ex.sliders["angle"].value = 90  # ignored while θ comes from the raw entries
    assert torch.equal(ex.theta, torch.tensor([[1, 0, 0.5], [0, 1, 0]]))
    ex.tabs.selected_index = 0
    assert torch.allclose(ex.theta, plot.params_theta(**{**widgets.THETA_DEFAULTS, "angle": 90}))


def test_sampler_options_redraw(ex):
    out = ex.output.clone()
    ex.kernel.value = "nearest"
    assert not torch.equal(ex.output, out)
    ex.padding.value = "border"
    ex.align_corners.value = True
    assert ex.renders == 4
    grid = grids.affine_grid(ex.theta[None], (32, 32), align_corners=True)
    assert torch.equal(ex.grid, grid)


def test_output_size_and_colour_input():
    img = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    ex = widgets.theta_explorer(img, out_size=(10, 12))
    assert ex.input.shape == (1, 3, 20, 24) and ex.output.shape == (1, 3, 10, 12)


def test_bad_arguments_say_what_is_wrong(small):
    with pytest.raises(TypeError, match="unknown explorer parameter"):
        widgets.theta_explorer(small, rotation=3)
    with pytest.raises(ValueError, match="kernel"):
        widgets.theta_explorer(small, kernel="lanczos")


def test_tps_explorer_moves_control_points(small):
    tp = widgets.tps_explorer(small, n=3)
    assert isinstance(tp, ipywidgets.VBox) and tp.dx.continuous_update is False
    assert tp.control_points.shape == (9, 2)
    out, renders = tp.output.clone(), tp.renders
    tp.move(0, 0.2, -0.1)
    assert tp.renders == renders + 1
    assert torch.allclose(tp.displacements[0], torch.tensor([0.2, -0.1]))
    assert not torch.equal(tp.output, out)
    # the grid is the library's TPS for these displacements
    want = grids.tps_grid(tp.displacements[None], tp.control_points, (32, 32), align_corners=False)
    assert torch.allclose(tp.grid, want, atol=1e-5)
    # choosing a point shows its displacement on the sliders; the sliders move it
    tp.point.value = 4
    assert (tp.dx.value, tp.dy.value) == pytest.approx(tuple(tp.displacements[4].tolist()))
    tp.dx.value = -0.3
    assert tp.displacements[4, 0].item() == pytest.approx(-0.3)
    tp.reset.click()
    assert tp.displacements.abs().sum() == 0
    assert torch.allclose(tp.output, small, atol=1e-5)
