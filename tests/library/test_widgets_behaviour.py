"""stnlib.widgets driven through its ipywidgets: θ and the warped image against torch's affine_grid +
grid_sample, the picture's drawn data, every control's settings and texts, the tab logic.

The PNG rasterization is replaced by a recorder (``figure_png`` keeps the figure it was given), so a
redraw costs milliseconds and the test reads what was drawn: the images' arrays, the lines, the titles.
"""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stnlib import grids, widgets
from stnlib import sampler as sampler_lib

START = {"angle": 30.0, "scale_x": 1.25, "scale_y": 1.25, "shear": 0.0, "tx": 0.1, "ty": 0.0}


def ref_theta(angle=0.0, scale_x=1.0, scale_y=1.0, shear=0.0, tx=0.0, ty=0.0):
    """θ = (T · R · Sh · S)⁻¹ written out in float64: the picture scaled, sheared, turned, shifted."""
    a, h = math.radians(angle), math.radians(shear)
    c, s = math.cos(a), math.sin(a)
    S = np.diag([scale_x, scale_y, 1.0])
    Sh = np.array([[1.0, math.tan(h), 0], [0, 1, 0], [0, 0, 1]])
    R = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    T = np.array([[1.0, 0, tx], [0, 1, ty], [0, 0, 1]])
    return torch.from_numpy(np.linalg.inv(T @ R @ Sh @ S)[:2])


def ref_output(U, th, out_size, *, align_corners=False, mode="bilinear", padding="zeros"):
    grid = F.affine_grid(th[None].to(U.dtype), (1, U.shape[1], *out_size), align_corners=align_corners)
    return F.grid_sample(U, grid, mode=mode, padding_mode=padding, align_corners=align_corners)


class Recorder:
    """Stands in for plot.figure_png: keeps each figure and its dpi, returns numbered bytes."""

    def __init__(self):
        self.calls = []

    def __call__(self, fig, dpi=80):
        self.calls.append((fig, dpi))
        return f"png {len(self.calls)}".encode()

    @property
    def fig(self):
        return self.calls[-1][0]


@pytest.fixture
def png(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(widgets, "figure_png", rec)
    return rec


@pytest.fixture
def U():
    torch.manual_seed(0)
    return torch.rand(1, 1, 8, 10)  # H ≠ W, so a swapped size shows


def values(ex):
    return {k: s.value for k, s in ex.sliders.items()}


def raw_theta(ex):
    return torch.tensor([s.value for s in ex.raw.values()], dtype=torch.float64).view(2, 3)


def slider_spec(s):
    return (s.description, s.min, s.max, s.step, s.continuous_update, s.readout_format, s.tooltip,
            s.style.description_width, s.layout.width)


# --------------------------------------------------------------------------- θ and the warped image


def test_start_theta_and_output_equal_affine_grid_and_grid_sample(png, U):
    ex = widgets.theta_explorer(U)
    assert values(ex) == START and ex.source == "params"
    assert torch.allclose(ex.theta.double(), ref_theta(**START), atol=1e-6)
    assert torch.allclose(raw_theta(ex), ref_theta(**START), atol=1e-6)  # the raw tab shows θ
    assert ex.out_size == (8, 10) and ex.output.shape == (1, 1, 8, 10)
    assert torch.allclose(ex.grid, F.affine_grid(ex.theta[None], (1, 1, 8, 10), align_corners=False),
                          atol=1e-6)
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (8, 10)), atol=1e-6)
    assert ex.renders == 1 and len(png.calls) == 1 and ex.image.value == b"png 1"


@pytest.mark.parametrize("name, value", [("angle", -40.0), ("scale_x", 2.0), ("scale_y", 0.5),
                                         ("shear", 20.0), ("tx", -0.35), ("ty", 0.45)])
def test_each_slider_drives_its_own_parameter(png, U, name, value):
    ex = widgets.theta_explorer(U, out_size=(6, 7))
    ex.sliders[name].value = value
    want = ref_theta(**{**START, name: value})
    assert torch.allclose(ex.theta.double(), want, atol=1e-6)
    assert torch.allclose(raw_theta(ex), want, atol=1e-6)
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (6, 7)), atol=1e-6)
    assert ex.renders == 2 and ex.image.value == b"png 2"


def test_options_drive_the_sampler(png, U):
    ex = widgets.theta_explorer(U, angle=10.0, scale_x=0.6, scale_y=0.7, tx=0.3, ty=-0.2)
    want = ref_theta(angle=10.0, scale_x=0.6, scale_y=0.7, tx=0.3, ty=-0.2)
    assert torch.allclose(ex.theta.double(), want, atol=1e-6)
    ex.kernel.value = "nearest"
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (8, 10), mode="nearest"), atol=1e-6)
    ex.padding.value = "border"
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (8, 10), mode="nearest", padding="border"),
                          atol=1e-6)
    ex.kernel.value = "bilinear"
    ex.padding.value = "reflection"
    ex.align_corners.value = True
    assert torch.allclose(ex.grid, F.affine_grid(ex.theta[None], (1, 1, 8, 10), align_corners=True),
                          atol=1e-6)
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (8, 10), align_corners=True,
                                                padding="reflection"), atol=1e-5)
    assert ex.renders == 6
    assert png.fig.axes[1].get_title() == "output V (bilinear, reflection)"


def test_the_explorer_passes_every_option_to_the_sampler(png, U, monkeypatch):
    seen = []
    real = sampler_lib.sample

    def spy(inp, grid, **kw):
        seen.append((inp, grid, kw))
        return real(inp, grid, **kw)

    monkeypatch.setattr(sampler_lib, "sample", spy)
    ex = widgets.theta_explorer(U, align_corners=True, kernel="bicubic", padding_mode="border",
                                sampler="reference")
    (inp, grid, kw), = seen
    assert inp is ex.input and grid is ex.grid
    assert kw == {"align_corners": True, "kernel": "bicubic", "padding_mode": "border",
                  "sampler": "reference"}
    assert ex.sampler == "reference"
    tp = widgets.tps_explorer(U, align_corners=True, kernel="nearest", padding_mode="reflection",
                              sampler="reference")
    assert seen[-1][2] == {"align_corners": True, "kernel": "nearest", "padding_mode": "reflection",
                           "sampler": "reference"}
    assert tp.sampler == "reference"


def test_a_colour_input_and_an_output_size(png):
    img = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    ex = widgets.theta_explorer(img, out_size=(4, 5), kernel="nearest")
    U = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    assert torch.allclose(ex.input, U)
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (4, 5), mode="nearest"), atol=1e-6)
    left, right = png.fig.axes
    assert np.allclose(left.images[0].get_array(), img / 255, atol=1e-6)
    assert np.allclose(right.images[0].get_array(), ex.output[0].permute(1, 2, 0).clamp(0, 1).numpy())


def test_the_default_input_is_the_camera_photograph(png):
    ex = widgets.theta_explorer()
    assert ex.input.shape == (1, 1, 128, 128) and ex.out_size == (128, 128)
    assert torch.equal(ex.input, widgets.default_image())


# --------------------------------------------------------------------------- the picture


def test_the_picture_draws_the_input_the_grid_and_the_output(png, U):
    ex = widgets.theta_explorer(U, out_size=(6, 7), step=2, angle=0.0, scale_x=1.0, scale_y=1.0,
                                tx=0.0, ty=0.0)
    fig, dpi = png.calls[-1]
    assert dpi == 80 and tuple(fig.get_size_inches()) == (6.4, 3.4)
    assert fig._suptitle.get_text() == "θ from the sliders" and fig._suptitle.get_fontsize() == 10
    left, right = fig.axes
    assert left.get_title() == "input U with the sampling grid T_θ(G)"
    assert right.get_title() == "output V (bilinear, zeros)"
    assert np.array_equal(left.images[0].get_array(), U[0, 0].numpy())
    assert np.allclose(right.images[0].get_array(), ex.output[0, 0].clamp(0, 1).numpy())
    # step 2 on a 6×7 grid: rows 0, 2, 4, 5 and columns 0, 2, 4, 6, then the corner marker
    lines = left.lines
    assert len(lines) == 4 + 4 + 1
    px = sampler_lib.unnormalize(ex.grid[0, ..., 0], 10, align_corners=False).numpy()
    py = sampler_lib.unnormalize(ex.grid[0, ..., 1], 8, align_corners=False).numpy()
    for line, r in zip(lines[:4], (0, 2, 4, 5)):
        assert np.allclose(line.get_xdata(), px[r]) and np.allclose(line.get_ydata(), py[r])
    for line, c in zip(lines[4:8], (0, 2, 4, 6)):
        assert np.allclose(line.get_xdata(), px[:, c]) and np.allclose(line.get_ydata(), py[:, c])
    assert left.get_xlim() == (-0.5, 9.5) and left.get_ylim() == (7.5, -0.5)


def test_the_picture_follows_align_corners_and_the_default_step(png, U):
    ex = widgets.ThetaExplorer(U, align_corners=True, dpi=50)
    fig, dpi = png.calls[-1]
    assert dpi == 50 and ex.dpi == 50 and ex.step == 8
    left = fig.axes[0]
    assert len(left.lines) == 2 + 3 + 1  # rows 0, 7; columns 0, 8, 9; the marker
    px = sampler_lib.unnormalize(ex.grid[0, ..., 0], 10, align_corners=True).numpy()
    assert np.allclose(left.lines[0].get_xdata(), px[0])


def test_the_readout_and_the_title_show_where_theta_comes_from(png, U):
    ex = widgets.theta_explorer(U)
    ex.set_theta([[0.5, -0.25, 0.125], [1, 2, -3]])
    assert ex.readout.value == ("<pre style='margin:0'>θ = [  0.500   -0.250    0.125 ]\n"
                                "    [  1.000    2.000   -3.000 ]</pre>")
    assert png.fig._suptitle.get_text() == "θ from raw entries"
    ex.set_params(angle=0, scale_x=1, scale_y=1, shear=0, tx=0, ty=0)
    assert ex.readout.value == ("<pre style='margin:0'>θ = [  1.000    0.000    0.000 ]\n"
                                "    [  0.000    1.000    0.000 ]</pre>")
    assert png.fig._suptitle.get_text() == "θ from the sliders"


def test_repr_is_the_text_without_a_kernel(png, U):
    assert repr(widgets.theta_explorer(U)) == "ThetaExplorer: live in JupyterLab with a running kernel"
    assert repr(widgets.tps_explorer(U)) == "TPSExplorer: live in JupyterLab with a running kernel"


# --------------------------------------------------------------------------- the controls


def test_the_theta_controls_exactly(png, U):
    ex = widgets.theta_explorer(U)
    assert slider_spec(ex.sliders["angle"]) == (
        "rotation (°)", -180.0, 180.0, 1.0, False, ".2f",
        "rotation of the picture in degrees, counter-clockwise on screen", "8em", "30em")
    assert [slider_spec(s)[:4] for s in ex.sliders.values()] == [
        ("rotation (°)", -180.0, 180.0, 1.0), ("scale x", 0.25, 3.0, 0.05), ("scale y", 0.25, 3.0, 0.05),
        ("shear x (°)", -60.0, 60.0, 1.0), ("shift x", -1.0, 1.0, 0.05), ("shift y", -1.0, 1.0, 0.05)]
    assert [s.tooltip for s in ex.sliders.values()] == list(widgets.THETA_TOOLTIPS.values())
    assert [s._dom_classes for s in ex.sliders.values()] == [
        ("stn-slider-angle",), ("stn-slider-scale_x",), ("stn-slider-scale_y",), ("stn-slider-shear",),
        ("stn-slider-tx",), ("stn-slider-ty",)]
    assert list(ex.raw) == ["θ11", "θ12", "θ13", "θ21", "θ22", "θ23"]
    assert slider_spec(ex.raw["θ23"]) == ("θ23", -4.0, 4.0, 0.01, False, ".2f",
                                          "entry 2, 3 of θ (row 2, column 3)", "3em", "24em")
    assert ex.raw["θ12"].tooltip == "entry 1, 2 of θ (row 1, column 2)"
    assert [s._dom_classes for s in ex.raw.values()] == [(f"stn-slider-raw-{i}",) for i in range(6)]
    assert all(s.layout.width == "24em" for s in ex.raw.values())
    assert ex.tabs.titles == ("parameters", "raw θ") and ex.tabs.selected_index == 0
    assert list(ex.tabs.children[0].children) == list(ex.sliders.values())
    assert list(ex.tabs.children[1].children) == list(ex.raw.values())
    row = ex.children[0]
    assert list(row.children) == [ex.kernel, ex.padding, ex.align_corners]
    assert list(ex.children) == [row, ex.tabs, ex.notice, ex.readout, ex.image]
    assert ex.notice.value == "" and "stn-theta-explorer" in ex._dom_classes


def test_the_shared_options_exactly(png, U):
    ex = widgets.theta_explorer(U)
    k, p, a = ex.kernel, ex.padding, ex.align_corners
    assert (k.options, k.value, k.description, k.tooltip, k.style.description_width, k.layout.width) == (
        ("nearest", "bilinear", "bicubic"), "bilinear", "kernel", "the sampling kernel", "5em", "13em")
    assert (p.options, p.value, p.description, p.tooltip, p.style.description_width, p.layout.width) == (
        ("zeros", "border", "reflection"), "zeros", "padding", "what the sampler reads outside the input",
        "5em", "14em")
    assert (a.value, a.description, a.indent, a.tooltip) == (
        False, "align_corners", False,
        "True: −1 and +1 are the centres of the corner pixels; False: their outer edges")
    assert ex.image.format == "png" and ex.image._dom_classes == ("stn-explorer-image",)
    assert (ex.sampler, ex.step, ex.dpi) == ("native", 8, 80)


def test_a_slider_without_a_tooltip_shows_its_label():
    s = widgets._slider("move", -1.0, 2.0, 0.5, 0.5, "x")
    assert slider_spec(s) == ("move", -1.0, 2.0, 0.5, False, ".2f", "move", "8em", "30em")
    assert s.value == 0.5 and s._dom_classes == ("stn-slider-x",)


def test_the_constructor_arguments_reach_the_explorer(png, U):
    ex = widgets.theta_explorer(U, out_size=[5, 4], align_corners=True, kernel="nearest",
                                padding_mode="reflection", step=3, shear=12.0, ty=-0.5)
    assert ex.out_size == (5, 4) and ex.output.shape == (1, 1, 5, 4)
    assert (ex.align_corners.value, ex.kernel.value, ex.padding.value, ex.step) == (
        True, "nearest", "reflection", 3)
    assert values(ex) == {**START, "shear": 12.0, "ty": -0.5}
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (5, 4), align_corners=True, mode="nearest",
                                                padding="reflection"), atol=1e-6)


def test_bad_arguments_word_for_word(png, U):
    with pytest.raises(TypeError) as err:
        widgets.theta_explorer(U, rotation=3, kernel="lanczos", a=1)
    assert str(err.value) == ("unknown explorer parameter(s) ['a', 'rotation']; "
                              "known: angle, scale_x, scale_y, shear, tx, ty")
    for kw, error, message in [
            (dict(kernel="lanczos"), ValueError, "unknown kernel 'lanczos'; expected one of 'nearest', "
             "'bilinear', 'bicubic'"),
            (dict(padding_mode="wrap"), ValueError, "unknown padding_mode 'wrap'; expected one of 'zeros', "
             "'border', 'reflection'"),
            (dict(align_corners=1), TypeError, "align_corners must be True or False (pass it explicitly), "
             "got 1"),
            (dict(out_size=(0, 4)), ValueError, "out_size must be positive, got (0, 4)")]:
        for make in (widgets.theta_explorer, widgets.tps_explorer):
            with pytest.raises(error) as err:
                make(U, **kw)
            assert str(err.value) == message
    ex = widgets.theta_explorer(U)
    with pytest.raises(TypeError) as err:
        ex.set_params(angle=3, zoom=2, blur=1)
    assert str(err.value) == ("unknown slider(s) ['blur', 'zoom']; "
                              "known: angle, scale_x, scale_y, shear, tx, ty")
    assert values(ex) == START and ex.renders == 1


# --------------------------------------------------------------------------- the tabs


def test_set_params_redraws_once_and_always_uses_the_sliders(png, U):
    ex = widgets.theta_explorer(U)
    ex.set_params(angle=10, tx=-0.2)
    assert ex.renders == 2 and values(ex) == {**START, "angle": 10.0, "tx": -0.2}
    assert all(type(v) is float for v in values(ex).values())
    assert torch.allclose(ex.theta.double(), ref_theta(**{**START, "angle": 10.0, "tx": -0.2}), atol=1e-6)
    ex.set_theta([[-1.0, 0, 0], [0, 1, 0]])  # a mirror, from the raw tab
    ex.set_params(shear=5)  # back to the sliders directly: no notice about the raw θ
    assert ex.source == "params" and ex.notice.value == "" and ex.renders == 4
    assert torch.allclose(ex.theta.double(), ref_theta(**{**START, "angle": 10.0, "tx": -0.2, "shear": 5}),
                          atol=1e-6)


def test_raw_entries_set_theta_exactly(png, U):
    ex = widgets.theta_explorer(U)
    ex.tabs.selected_index = 1
    assert ex.source == "raw" and ex.renders == 2
    assert torch.allclose(ex.theta.double(), ref_theta(**START), atol=1e-6)  # unchanged by the switch
    ex.raw["θ11"].value = 0.5
    ex.raw["θ23"].value = -0.25
    want = ref_theta(**START).float()
    want[0, 0], want[1, 2] = 0.5, -0.25
    assert torch.allclose(ex.theta, want, atol=1e-6) and ex.renders == 4
    assert (ex.theta[0, 0].item(), ex.theta[1, 2].item()) == (0.5, -0.25)
    want = ex.theta.clone()
    assert torch.allclose(ex.output, ref_output(U, want, (8, 10)), atol=1e-6)
    ex.sliders["angle"].value = 90.0  # ignored while θ comes from the raw entries
    assert torch.equal(ex.theta, want) and ex.renders == 4
    ex.set_theta(torch.tensor([[[0.5, 0.0, 0.25], [0.0, 2.0, 0.0]]]))
    assert torch.equal(ex.theta, torch.tensor([[0.5, 0.0, 0.25], [0.0, 2.0, 0.0]])) and ex.renders == 5
    assert [s.value for s in ex.raw.values()] == [0.5, 0.0, 0.25, 0.0, 2.0, 0.0]
    with pytest.raises(ValueError, match=re.escape("θ must be a 2×3 affine matrix, got shape (3, 3)")):
        ex.set_theta(torch.eye(3))


def test_leaving_the_raw_tab_keeps_a_theta_the_sliders_can_show(png, U):
    ex = widgets.theta_explorer(U)
    target = dict(angle=-120.0, scale_x=2.5, scale_y=0.5, shear=-30.0, tx=0.75, ty=-0.6)
    ex.set_theta(ref_theta(**target).float())
    renders = ex.renders
    ex.tabs.selected_index = 0
    assert ex.renders == renders + 1  # the sliders are set quietly, then one redraw
    assert values(ex) == pytest.approx(target, abs=1e-4)
    assert torch.allclose(ex.theta.double(), ref_theta(**target), atol=1e-5)
    assert ex.notice.value == ("<i>the raw θ is kept: the sliders now show its rotation, scales, shear "
                               "and shift</i>")
    ex.sliders["tx"].value = 0.0  # the sliders go on from there
    assert torch.allclose(ex.theta.double(), ref_theta(**{**target, "tx": 0.0}), atol=1e-5)


@pytest.mark.parametrize("th", [
    [[-1.0, 0, 0], [0, 1, 0]],                     # a mirror
    [[0.0, 0, 0], [0, 0, 0]],                      # singular
    ref_theta(scale_x=4.0).tolist(),               # a scale beyond its slider
    ref_theta(shear=70.0).tolist(),                # a shear beyond its slider
    ref_theta(tx=1.5).tolist(),                    # a shift beyond its slider
    ref_theta(ty=-1.2).tolist(),
])
def test_leaving_the_raw_tab_drops_a_theta_the_sliders_cannot_show(png, U, th):
    ex = widgets.theta_explorer(U)
    ex.set_params(angle=15.0)
    before = values(ex)
    ex.set_theta(th)
    ex.tabs.selected_index = 0
    assert ex.notice.value == ("<b>this raw θ is no rotation · scale · shear · shift within the sliders' "
                               "ranges (a mirror, or a value off a slider): back on the parameters tab, θ "
                               "is the sliders' again and the raw edits are dropped</b>")
    assert values(ex) == before
    assert torch.allclose(ex.theta.double(), ref_theta(**before), atol=1e-6)
    assert torch.allclose(raw_theta(ex), ref_theta(**before), atol=1e-6)
    assert torch.allclose(ex.output, ref_output(U, ex.theta, (8, 10)), atol=1e-6)


@pytest.mark.parametrize("edge", [dict(scale_x=3.0), dict(scale_y=0.25), dict(shear=-60.0),
                                  dict(tx=1.0), dict(ty=-1.0), dict(angle=179.0)])
def test_a_theta_on_a_sliders_end_is_kept(png, U, edge):
    ex = widgets.theta_explorer(U)
    ex.set_theta(ref_theta(**edge).float())
    ex.tabs.selected_index = 0
    assert widgets.RAW_KEPT in ex.notice.value
    assert values(ex) == pytest.approx({**dict(angle=0.0, scale_x=1.0, scale_y=1.0, shear=0.0, tx=0.0,
                                               ty=0.0), **edge}, abs=1e-4)


def test_switching_tabs_without_a_change_event(png, U):
    ex = widgets.theta_explorer(U)
    ex.set_theta([[2.0, 0, 0], [0, 2, 0]])
    ex.tabs.selected_index = 0
    ex.notice.value = ""
    ex._on_tab()  # as set_params calls it: θ from the sliders, no notice
    assert ex.notice.value == "" and torch.allclose(ex.theta.double(), ref_theta(scale_x=0.5,
                                                                                 scale_y=0.5), atol=1e-6)
    ex._on_tab({"old": 1, "new": 0})  # the event from the raw tab: the raw θ is judged
    assert widgets.RAW_KEPT in ex.notice.value
    ex.notice.value = ""
    ex._on_tab({"old": 0, "new": 0})
    assert ex.notice.value == ""


def test_quiet_changes_redraw_nothing_and_restore_the_state(png, U):
    ex = widgets.theta_explorer(U)
    with ex._quiet():
        assert ex._syncing is True
        ex.sliders["angle"].value = 45.0
        ex.tabs.selected_index = 1
        ex.raw["θ11"].value = 3.0
    assert ex._syncing is False and ex.renders == 1
    assert torch.allclose(ex.theta.double(), ref_theta(**START), atol=1e-6)
    ex._syncing = True
    with pytest.raises(KeyError), ex._quiet():
        raise KeyError("x")
    assert ex._syncing is True
    ex._syncing = False
    with pytest.raises(KeyError), ex._quiet():
        raise KeyError("x")
    assert ex._syncing is False
    del ex._syncing
    with ex._quiet():
        pass
    assert ex._syncing is False


# --------------------------------------------------------------------------- the TPS explorer


def tps_output(U, tp):
    """The TPS grid of the explorer's displacements and torch's grid_sample of the input on it."""
    n = math.isqrt(len(tp.point.options))
    grid = grids.tps_grid(tp.displacements[None], grids.regular_control_points(n), tp.out_size,
                          align_corners=tp.align_corners.value)
    return grid, F.grid_sample(U, grid, mode=tp.kernel.value, padding_mode=tp.padding.value,
                               align_corners=tp.align_corners.value)


def test_tps_start_controls_and_picture(png, U):
    tp = widgets.tps_explorer(U)
    assert torch.equal(tp.control_points, grids.regular_control_points(3))
    want = torch.zeros(9, 2)
    want[4] = torch.tensor([0.3, 0.2])
    assert torch.equal(tp.displacements, want)
    assert tp.point.options == (
        ("0: (-1.00, -1.00)", 0), ("1: (+0.00, -1.00)", 1), ("2: (+1.00, -1.00)", 2),
        ("3: (-1.00, +0.00)", 3), ("4: (+0.00, +0.00)", 4), ("5: (+1.00, +0.00)", 5),
        ("6: (-1.00, +1.00)", 6), ("7: (+0.00, +1.00)", 7), ("8: (+1.00, +1.00)", 8))
    assert tp.point.value == 4 and (tp.dx.value, tp.dy.value) == pytest.approx((0.3, 0.2))
    p = tp.point
    assert (p.description, p.tooltip, p.style.description_width, p.layout.width) == (
        "point", "the control point to move: its number and where it sits (normalized x, y)", "5em", "16em")
    assert slider_spec(tp.dx) == ("move x", -0.75, 0.75, 0.05, False, ".2f",
                                  "move the point's sampling position right (normalized)", "8em", "30em")
    assert slider_spec(tp.dy) == ("move y", -0.75, 0.75, 0.05, False, ".2f",
                                  "move the point's sampling position down (normalized)", "8em", "30em")
    assert tp.dx._dom_classes == ("stn-slider-tps-dx",) and tp.dy._dom_classes == ("stn-slider-tps-dy",)
    assert (tp.reset.description, tp.reset.tooltip) == (
        "reset all points", "put every control point back: the identity warp")
    row, pair = tp.children[0], tp.children[1]
    assert list(row.children) == [tp.kernel, tp.padding, tp.align_corners]
    assert list(pair.children) == [tp.point, tp.reset]
    assert list(tp.children) == [row, pair, tp.dx, tp.dy, tp.image]
    assert "stn-tps-explorer" in tp._dom_classes
    grid, out = tps_output(U, tp)
    assert torch.allclose(tp.grid, grid, atol=1e-6) and torch.allclose(tp.output, out, atol=1e-6)
    assert tp.renders == 1 and tp.image.value == b"png 1" and png.calls[-1][1] == 80
    fig = png.fig
    assert fig._suptitle.get_text() == "TPS: point 4 samples the input at p + Δ = (+0.30, +0.20)"
    left, right = fig.axes
    assert left.get_title() == "input U with the sampling grid T_θ(G)"
    assert right.get_title() == "output V (bilinear, zeros)"
    assert np.array_equal(left.images[0].get_array(), U[0, 0].numpy())
    assert np.allclose(right.images[0].get_array(), tp.output[0, 0].clamp(0, 1).numpy())
    rings, dots, square = left.lines[-3:]
    cps = grids.regular_control_points(3)
    x = sampler_lib.unnormalize(cps[:, 0], 10, align_corners=False).numpy()
    y = sampler_lib.unnormalize(cps[:, 1], 8, align_corners=False).numpy()
    assert np.allclose(rings.get_xdata(), x) and np.allclose(rings.get_ydata(), y)
    src = cps + want
    assert np.allclose(dots.get_xdata(), sampler_lib.unnormalize(src[:, 0], 10, align_corners=False))
    assert square.get_marker() == "s" and square.get_markeredgecolor() == "cyan"
    assert np.allclose(square.get_xydata(), [[(0.3 + 1) * 5 - 0.5, (0.2 + 1) * 4 - 0.5]])


def test_tps_sliders_move_the_chosen_point(png, U):
    tp = widgets.tps_explorer(U, n=3, out_size=(6, 7), align_corners=True, kernel="nearest",
                              padding_mode="border", step=2)
    assert tp.out_size == (6, 7) and tp.step == 2 and tp.align_corners.value is True
    tp.point.value = 0
    assert (tp.dx.value, tp.dy.value) == (0.0, 0.0) and tp.renders == 2
    tp.dx.value = 0.25
    tp.dy.value = -0.5
    assert tp.displacements[0].tolist() == [0.25, -0.5] and tp.renders == 4
    grid, out = tps_output(U, tp)
    assert torch.allclose(tp.grid, grid, atol=1e-6) and torch.allclose(tp.output, out, atol=1e-6)
    assert png.fig._suptitle.get_text() == "TPS: point 0 samples the input at p + Δ = (-0.75, -1.50)"
    square = png.fig.axes[0].lines[-1]
    assert np.allclose(square.get_xydata(), [[(-0.75 + 1) / 2 * 9, (-1.5 + 1) / 2 * 7]])
    tp.point.value = 4  # the sliders show that point's displacement, quietly
    assert (tp.dx.value, tp.dy.value) == pytest.approx((0.3, 0.2)) and tp.renders == 5
    assert tp.displacements[0].tolist() == [0.25, -0.5]
    tp.move(8, -0.1, 0.75)
    assert tp.point.value == 8 and (tp.dx.value, tp.dy.value) == (-0.1, 0.75) and tp.renders == 6
    assert tp.displacements[8].tolist() == pytest.approx([-0.1, 0.75])
    assert png.fig._suptitle.get_text() == "TPS: point 8 samples the input at p + Δ = (+0.90, +1.75)"
    tp.reset.click()
    assert torch.equal(tp.displacements, torch.zeros(9, 2)) and tp.renders == 7
    assert (tp.point.value, tp.dx.value, tp.dy.value) == (8, 0.0, 0.0)
    assert png.fig._suptitle.get_text() == "TPS: point 8 samples the input at p + Δ = (+1.00, +1.00)"
    grid, out = tps_output(U, tp)
    assert torch.allclose(tp.output, out, atol=1e-6)


def test_tps_given_displacements_are_copied_and_pick_the_start_point(png, U):
    d = np.zeros(8, dtype=np.float64)  # n = 2: four points, given flat
    d[4:6] = [-0.2, 0.4]
    tp = widgets.TPSExplorer(U, n=2, displacements=d, dpi=40)
    assert tp.displacements.dtype == torch.float32 and tp.displacements.shape == (4, 2)
    assert tp.point.value == 2 and (tp.dx.value, tp.dy.value) == pytest.approx((-0.2, 0.4))
    assert png.calls[-1][1] == 40
    t = torch.zeros(4, 2)
    t[1] = torch.tensor([0.1, 0.0])
    tp = widgets.tps_explorer(U, n=2, displacements=t)
    tp.move(1, 0.5, 0.5)
    assert t[1].tolist() == pytest.approx([0.1, 0.0])  # the caller's tensor is not moved
    assert tp.displacements[1].tolist() == [0.5, 0.5]
    grid, out = tps_output(U, tp)
    assert torch.allclose(tp.output, out, atol=1e-6)


def test_tps_quiet_moves_do_not_redraw(png, U):
    tp = widgets.tps_explorer(U)
    with tp._quiet():
        tp.point.value = 1
        tp.dx.value = 0.5
    assert tp.renders == 1 and tp.displacements[1].tolist() == [0.0, 0.0]


def test_class_defaults_and_side_by_side_panels(png, U):
    ex = widgets.ThetaExplorer(U)
    assert ex.align_corners.value is False and (ex.step, ex.dpi) == (8, 80)
    left, right = png.fig.axes
    assert left.get_position().x1 <= right.get_position().x0  # one row: input left, output right
    assert left.get_position().y0 == pytest.approx(right.get_position().y0)
    tp = widgets.TPSExplorer(U)
    assert tp.align_corners.value is False and (tp.step, tp.dpi) == (8, 80)
    assert len(tp.point.options) == 9 and tp.displacements.shape == (9, 2)
    assert widgets.tps_explorer(U).step == 8


def test_only_value_changes_redraw(png, U):
    ex = widgets.theta_explorer(U)
    ex.sliders["angle"].description = "angle!"
    ex.raw["θ11"].description = "a11"
    ex.tabs.titles = ("a", "b")
    tp = widgets.tps_explorer(U)
    tp.dx.description = "dx!"
    tp.dy.description = "dy!"
    assert (ex.renders, tp.renders) == (1, 1)
    ex.tabs.selected_index = 1  # on the raw tab the raw sliders drive θ: still only their values redraw
    before = ex.renders
    ex.raw["θ12"].description = "a12"
    assert ex.renders == before
    ex.raw["θ12"].value = 0.25
    assert ex.renders == before + 1


def test_set_params_selects_the_parameters_tab(png, U):
    ex = widgets.theta_explorer(U)
    ex.set_theta([[1.0, 0, 0], [0, 1, 0]])
    ex.set_params(angle=5)
    assert ex.tabs.selected_index == 0 and ex.source == "params"


def test_tps_title_reads_x_then_y_and_given_displacements_start(png, U):
    t = torch.zeros(9, 2)
    t[1] = torch.tensor([0.25, 0.5])
    tp = widgets.tps_explorer(U, displacements=t)
    assert torch.equal(tp.displacements, t) and tp.point.value == 1
    # point 1 sits at (0, -1): it samples (0.25, -0.5)
    assert png.fig._suptitle.get_text() == "TPS: point 1 samples the input at p + Δ = (+0.25, -0.50)"
