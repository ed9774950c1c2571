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
    assert torch.allclose(ex.theta, plot.explorer_theta(**{**widgets.THETA_DEFAULTS, "angle": -40.0}))
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


def test_raw_tab_sets_theta_directly_and_leaving_it_keeps_the_edits(ex, small):
    ex.set_theta([[1, 0, 0], [0, 1, 0]])
    assert ex.source == "raw" and ex.tabs.selected_index == 1
    assert torch.allclose(ex.output, small, atol=1e-6)
    ex.raw["θ13"].value = 0.5
    assert torch.equal(ex.theta, torch.tensor([[1, 0, 0.5], [0, 1, 0]]))
    ex.sliders["angle"].value = 90  # ignored while θ comes from the raw entries
    assert torch.equal(ex.theta, torch.tensor([[1, 0, 0.5], [0, 1, 0]]))
    ex.tabs.selected_index = 0  # back: the raw θ stays, the sliders show it
    assert torch.allclose(ex.theta, torch.tensor([[1, 0, 0.5], [0, 1, 0]]), atol=1e-6)
    values = {k: s.value for k, s in ex.sliders.items()}
    assert values == pytest.approx({"angle": 0, "scale_x": 1, "scale_y": 1, "shear": 0,
                                    "tx": -0.5, "ty": 0}, abs=1e-6)
    assert widgets.RAW_KEPT in ex.notice.value
    ex.sliders["scale_x"].value = 2.0  # and the sliders go on from there
    assert torch.allclose(ex.theta, plot.explorer_theta(**{**values, "scale_x": 2.0}))


@pytest.mark.parametrize("params", [
    dict(angle=50.0, scale_x=1.5, scale_y=0.8, shear=10.0, tx=0.2, ty=-0.1),
    dict(angle=-170.0, scale_x=0.3, scale_y=2.5, shear=-45.0, tx=-0.9, ty=0.7),
    dict(angle=90.0, scale_x=1.0, scale_y=1.0, shear=0.0, tx=0.0, ty=0.0),
])
def test_explorer_values_inverts_explorer_theta(params):
    th = plot.explorer_theta(**params)
    assert plot.explorer_values(th) == pytest.approx(params, abs=1e-4)


def test_leaving_the_raw_tab_with_a_mirror_says_it_drops_the_edits(ex):
    before = {k: s.value for k, s in ex.sliders.items()}
    assert plot.explorer_values(torch.tensor([[-1.0, 0, 0], [0, 1, 0]])) is None  # a mirror
    assert plot.explorer_values(torch.zeros(2, 3)) is None  # singular
    ex.set_theta([[-1.0, 0, 0], [0, 1, 0]])
    ex.tabs.selected_index = 0
    assert ex.notice.value == f"<b>{widgets.RAW_DROPPED}</b>"
    assert {k: s.value for k, s in ex.sliders.items()} == before
    assert torch.allclose(ex.theta, plot.explorer_theta(**before))
    ex.set_theta(plot.explorer_theta(angle=0, scale_x=4.0))  # a scale beyond its slider: dropped
    ex.tabs.selected_index = 0
    assert widgets.RAW_DROPPED in ex.notice.value
    assert torch.allclose(ex.theta, plot.explorer_theta(**before))


def _fits(text: str, width: str) -> bool:
    """Whether ``text`` fits ``width`` (an em width) at 0.62 em per character (13 px sans)."""
    return len(text) * 0.62 <= float(width.removesuffix("em"))


def test_labels_and_tab_titles_fit_and_every_control_has_a_real_tooltip(ex, small):
    tp = widgets.tps_explorer(small)
    sliders = [*ex.sliders.values(), *ex.raw.values(), tp.dx, tp.dy]
    for s in sliders:
        assert _fits(s.description, s.style.description_width), s.description
    for d in (ex.kernel, ex.padding, tp.point):
        assert _fits(d.description, d.style.description_width), d.description
    assert all(len(t) <= 12 for t in ex.tabs.titles) and len(ex.tabs.titles) == 2
    for control in [*sliders, ex.kernel, ex.padding, ex.align_corners, tp.point, tp.reset]:
        assert isinstance(control.tooltip, str) and len(control.tooltip) > 10, control
    # JupyterLab cannot render a Tab or an Image that has a tooltip (the browser test saw it)
    assert ex.tabs.tooltip is None and ex.image.tooltip is None
    assert ex.sliders["angle"].tooltip == widgets.THETA_TOOLTIPS["angle"]
    assert "counter-clockwise" in ex.sliders["angle"].tooltip


def test_the_corner_marker_is_drawn_last_on_top_and_unclipped_at_90_degrees(small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    grid = grids.affine_grid(theta.affine_theta(angle=90.0)[None], (32, 32), align_corners=False)
    plot.draw_grid(ax, grid, (32, 32), align_corners=False)
    marker = ax.lines[-1]
    x = sampler.unnormalize(grid[0, 0, 0, 0], 32, align_corners=False).item()
    y = sampler.unnormalize(grid[0, 0, 0, 1], 32, align_corners=False).item()
    assert marker.get_xydata()[0].tolist() == pytest.approx([x, y], abs=1e-5)
    assert (x, y) == pytest.approx((31.0, 0.0), abs=1e-4)  # the corner pixel: half a marker out
    assert marker.get_clip_on() is False
    assert marker.get_zorder() > max(line.get_zorder() for line in ax.lines[:-1])
    assert marker.get_markersize() >= 6 and marker.get_markeredgecolor() == "black"
    plt.close(fig)


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
