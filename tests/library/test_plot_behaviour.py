"""stnlib.plot: what each helper draws (image arrays, line data, colours, widths, titles, limits, sizes),
its tensors against torch, and its messages word for word. Tiny images; figures closed after each test."""

import math
import re
import struct
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision.utils  # noqa: E402, F401  (show_images imports it: loaded once, at collection)
from skimage import data  # noqa: E402

from stnlib import grids, plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def pix(x, size, align_corners):
    """Normalized → pixel coordinate, written out: corners at pixel centres or at outer edges."""
    x = np.asarray(x, dtype=np.float64)
    return (x + 1) / 2 * (size - 1) if align_corners else ((x + 1) * size - 1) / 2


def affine(th, out_size, align_corners=False):
    th = torch.as_tensor(th, dtype=torch.float32)
    return F.affine_grid(th[None], (1, 1, *out_size), align_corners=align_corners)


def xy(line):
    return np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])


def ref_theta(angle=0.0, scale_x=1.0, scale_y=1.0, shear=0.0, tx=0.0, ty=0.0):
    a, h = math.radians(angle), math.radians(shear)
    c, s = math.cos(a), math.sin(a)
    A = (np.array([[1.0, 0, tx], [0, 1, ty], [0, 0, 1]]) @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
         @ np.array([[1.0, math.tan(h), 0], [0, 1, 0], [0, 0, 1]]) @ np.diag([scale_x, scale_y, 1.0]))
    return torch.from_numpy(np.linalg.inv(A)[:2])


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------- images


def test_as_image_from_numpy():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14
    t = plot.as_image(rgb)
    assert t.dtype == torch.float32 and t.shape == (1, 3, 2, 3) and t.is_contiguous()
    assert torch.equal(t, torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None])
    grey = np.array([[0.0, 0.5, 2.0], [-1.0, 0.25, 1.0]])  # floats are not scaled; clamped to [0, 1]
    assert plot.as_image(grey).tolist() == [[[[0.0, 0.5, 1.0], [0.0, 0.25, 1.0]]]]
    assert plot.as_image(np.full((2, 2), 255, np.uint8)).tolist() == [[[[1.0, 1.0], [1.0, 1.0]]]]
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[..., 0] = 51
    t = plot.as_image(rgba)  # the alpha channel is dropped
    assert t.shape == (1, 3, 2, 2) and torch.equal(t[0, 0], torch.full((2, 2), 0.2))
    assert t[0, 1:].abs().sum() == 0


def test_as_image_from_tensors():
    x = torch.tensor([[0.25, 1.5], [-0.5, 0.75]], dtype=torch.float64, requires_grad=True)
    t = plot.as_image(x)
    assert t.dtype == torch.float32 and not t.requires_grad and t.shape == (1, 1, 2, 2)
    assert t.tolist() == [[[[0.25, 1.0], [0.0, 0.75]]]]
    chw = torch.rand(3, 4, 5)
    assert torch.equal(plot.as_image(chw), chw[None])
    nchw = torch.rand(1, 1, 4, 5)
    assert torch.equal(plot.as_image(nchw), nchw)
    assert torch.equal(plot.as_image(torch.rand(1, 4, 2, 2) * 0 + 0.5), torch.full((1, 3, 2, 2), 0.5))


def test_as_image_resizes_with_antialiasing():
    torch.manual_seed(0)
    x = torch.rand(1, 1, 12, 12)
    want = F.interpolate(x, size=(4, 4), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)
    assert torch.allclose(plot.as_image(x, size=4), want)
    assert not torch.allclose(plot.as_image(x, size=4), F.interpolate(x, size=(4, 4), mode="bilinear",
                                                                       align_corners=False))


def test_as_image_refuses_word_for_word():
    with pytest.raises(TypeError) as err:
        plot.as_image([[0.0, 1.0]])
    assert str(err.value) == "image must be a torch.Tensor or a NumPy array, got list"
    for bad, shape in [(torch.zeros(2, 3, 4, 4), (2, 3, 4, 4)), (torch.zeros(2, 4, 4), (1, 2, 4, 4)),
                       (torch.zeros(5), (5,)), (np.zeros((4, 4, 2)), (1, 2, 4, 4)),
                       (torch.zeros(1, 1, 1, 4, 4), (1, 1, 1, 4, 4))]:
        with pytest.raises(ValueError) as err:
            plot.as_image(bad)
        assert str(err.value) == ("image must be H×W, C×H×W or 1×C×H×W with C in (1, 3), or H×W×C as a "
                                  f"NumPy array; got shape {shape}")


def test_default_image_is_the_resized_photograph():
    cam = plot.default_image("camera", size=16)
    arr = torch.from_numpy(data.camera().astype(np.float32) / 255)[None, None]
    want = F.interpolate(arr, size=(16, 16), mode="bilinear", align_corners=False, antialias=True)
    assert cam.shape == (1, 1, 16, 16) and torch.allclose(cam, want.clamp(0, 1), atol=1e-6)
    astro = plot.default_image("astronaut", 8)
    assert astro.shape == (1, 3, 8, 8)
    big = plot.default_image()
    assert big.shape == (1, 1, 128, 128)
    with pytest.raises(ValueError) as err:
        plot.default_image("lena")
    assert str(err.value) == "unknown name 'lena'; expected one of 'camera', 'astronaut'"
    with pytest.raises(ValueError) as err:
        plot.default_image(size=0)
    assert str(err.value) == "size must be positive, got (0,)"


def test_to_numpy_image():
    grey = torch.tensor([[[[-1.0, 0.5], [2.0, 0.25]]]])
    assert plot.to_numpy_image(grey).tolist() == [[0.0, 0.5], [1.0, 0.25]]
    assert plot.to_numpy_image(grey[0]).tolist() == [[0.0, 0.5], [1.0, 0.25]]
    rgb = torch.arange(12.0).view(1, 3, 2, 2) / 10
    arr = plot.to_numpy_image(rgb)
    assert arr.shape == (2, 2, 3) and np.allclose(arr, rgb[0].permute(1, 2, 0).clamp(0, 1).numpy())


# --------------------------------------------------------------------------- drawing


def test_draw_image_grey_and_colour():
    fig, (a, b) = plt.subplots(1, 2)
    plot.draw_image(a, torch.tensor([[[0.0, 1.5], [0.5, -1.0]]]), "grey")
    im = a.images[0]
    assert np.array_equal(im.get_array(), [[0.0, 1.0], [0.5, 0.0]])
    assert im.get_cmap().name == "gray" and im.get_clim() == (0, 1) and im.get_interpolation() == "nearest"
    assert a.get_title() == "grey" and a.title.get_fontsize() == 9
    assert list(a.get_xticks()) == [] and list(a.get_yticks()) == []
    assert im.get_extent() == [-0.5, 1.5, 1.5, -0.5]  # pixel centres at integers
    rgb = torch.rand(1, 3, 2, 3)
    plot.draw_image(b, rgb)
    im = b.images[0]
    assert np.allclose(im.get_array(), rgb[0].permute(1, 2, 0).numpy()) and b.get_title() == ""
    assert im.get_cmap().name != "gray" and im.get_clim() == (0, 1)
    fig, ax = plt.subplots()
    plot.draw_image(ax, torch.zeros(1, 2, 2), "")
    assert ax.get_title() == ""


def test_draw_grid_lines_colours_widths_limits_and_marker():
    th = [[0.5, 0.0, 0.1], [0.0, 0.5, -0.2]]
    grid = affine(th, (5, 9))  # 5 rows, 9 columns: step 4 gives rows 0, 4 and columns 0, 4, 8
    fig, ax = plt.subplots()
    plot.draw_grid(ax, grid, (6, 8), align_corners=False, step=4)
    px, py = pix(grid[0, ..., 0], 8, False), pix(grid[0, ..., 1], 6, False)
    lines = ax.lines
    assert len(lines) == 2 + 3 + 1
    for line, r in zip(lines[:2], (0, 4)):
        assert np.allclose(xy(line), np.column_stack([px[r], py[r]]), atol=1e-5)
    for line, c in zip(lines[2:5], (0, 4, 8)):
        assert np.allclose(xy(line), np.column_stack([px[:, c], py[:, c]]), atol=1e-5)
    # the edges red and twice as wide, the inner column 4 yellow
    assert [line.get_color() for line in lines[:5]] == ["red", "red", "red", "yellow", "red"]
    assert [line.get_linewidth() for line in lines[:5]] == pytest.approx([1.4, 1.4, 1.4, 0.7, 1.4])
    assert [line.get_linestyle() for line in lines[:5]] == ["-"] * 5
    marker = lines[-1]
    assert np.allclose(xy(marker), [[px[0, 0], py[0, 0]]], atol=1e-5)
    assert (marker.get_marker(), marker.get_color(), marker.get_markersize(), marker.get_markeredgecolor(),
            marker.get_markeredgewidth(), marker.get_zorder(), marker.get_linestyle()) == (
        "o", "red", 7.0, "black", 1.2, 10, "None")
    assert marker.get_clip_on() is False
    assert ax.get_xlim() == (-0.5, 7.5) and ax.get_ylim() == (5.5, -0.5)


def test_draw_grid_inner_lines_and_options():
    grid = affine(torch.eye(2, 3), (7, 7), align_corners=True)[0]  # a 3-D grid works too
    fig, ax = plt.subplots()
    plot.draw_grid(ax, grid, 7, align_corners=True, step=3, color="blue", frame_color="green", lw=2.0)
    # rows 0, 3, 6 and columns 0, 3, 6; the identity on the same size runs through the pixel centres
    lines = ax.lines
    assert len(lines) == 7
    assert [line.get_color() for line in lines[:6]] == ["green", "blue", "green"] * 2
    assert [line.get_linewidth() for line in lines[:6]] == [4.0, 2.0, 4.0] * 2
    assert np.allclose(xy(lines[1]), [[c, 3.0] for c in range(7)], atol=1e-5)
    assert np.allclose(xy(lines[4]), [[3.0, r] for r in range(7)], atol=1e-5)
    assert lines[-1].get_color() == "green" and np.allclose(xy(lines[-1]), [[0.0, 0.0]])


def test_draw_grid_defaults_exactly():
    fig, ax = plt.subplots()
    plot.draw_grid(ax, affine(torch.eye(2, 3), (17, 10)), (17, 10), align_corners=False)
    rows_then_cols = [line.get_color() for line in ax.lines[:-1]]
    assert rows_then_cols == ["red", "yellow", "red", "red", "yellow", "red"]
    assert [line.get_linewidth() for line in ax.lines[:-1]] == pytest.approx([1.4, 0.7, 1.4, 1.4, 0.7, 1.4])
    assert np.allclose(xy(ax.lines[1]), [[c, 8.0] for c in range(10)], atol=1e-5)
    assert np.allclose(xy(ax.lines[4]), [[8.0, r] for r in range(17)], atol=1e-5)


def _corner(x, y, W=5, H=5, title=None):
    """draw_grid on a 2×2 grid whose top-left sample is at pixel (x, y) (align_corners=True)."""
    g = torch.tensor([[[x / 2 * 1.0 - 1, y / 2 * 1.0 - 1], [1.0, -1.0]],
                      [[-1.0, 1.0], [1.0, 1.0]]])[None]  # pixel = (v + 1) / 2 · 4 on a 5 px side
    fig, ax = plt.subplots()
    if title:
        ax.set_title(title, fontsize=9)
    plot.draw_grid(ax, g, (H, W), align_corners=True)
    return ax


@pytest.mark.parametrize("x, y, near", [
    (-1.5, 2.0, True), (5.5, 2.0, True), (2.0, -1.5, True), (2.0, 5.5, True),
    (-1.75, 2.0, False), (5.75, 2.0, False), (2.0, -1.75, False), (2.0, 5.75, False),
])
def test_the_marker_is_clipped_only_beyond_a_pixel_off_the_image(x, y, near):
    ax = _corner(x, y)
    marker = ax.lines[-1]
    assert np.allclose(xy(marker), [[x, y]])
    assert marker.get_clip_on() is (not near)


@pytest.mark.parametrize("y, above", [(2.0, 0.0), (-0.5, 0.0), (-1.0, 0.5), (-1.5, 1.0)])
def test_the_title_is_lifted_clear_of_the_marker(y, above):
    ax = _corner(1.0, y, title="input")
    fig = ax.get_figure()
    pixel_pt = ax.get_position().height * fig.get_figheight() * 72 / 5
    pad = above * pixel_pt + 7.0 / 2 + 1.2 + 3
    assert ax.titleOffsetTrans._t == pytest.approx((0.0, pad / 72))
    assert ax.get_title() == "input" and ax.title.get_fontsize() == 9


def test_the_title_keeps_its_place_when_the_marker_is_far_or_there_is_no_title():
    ax = _corner(1.0, -3.0, title="input")
    ref = plt.subplots()[1]
    ref.set_title("input")
    assert ax.titleOffsetTrans._t == ref.titleOffsetTrans._t
    ax = _corner(1.0, 1.0)
    assert ax.get_title() == "" and ax.titleOffsetTrans._t == ref.titleOffsetTrans._t


def test_draw_outline_is_the_border_in_order():
    grid = affine([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]], (3, 4))
    fig, ax = plt.subplots()
    plot.draw_outline(ax, grid[0], (6, 8), align_corners=False, color="cyan", lw=2.5)
    (line,) = ax.lines
    g = grid[0].numpy()
    border = np.concatenate([g[0, :], g[:, -1], g[-1, ::-1], g[::-1, 0]])
    want = np.column_stack([pix(border[:, 0], 8, False), pix(border[:, 1], 6, False)])
    assert np.allclose(xy(line), want, atol=1e-5)
    assert (line.get_color(), line.get_linewidth(), line.get_linestyle()) == ("cyan", 2.5, "-")
    fig, ax = plt.subplots()
    plot.draw_outline(ax, grid, (6, 8), align_corners=True)
    (line,) = ax.lines
    assert (line.get_color(), line.get_linewidth()) == ("yellow", 1.0)
    assert np.allclose(xy(line)[0], [pix(g[0, 0, 0], 8, True), pix(g[0, 0, 1], 6, True)], atol=1e-5)


def test_draw_control_points():
    cps = torch.tensor([[-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]])
    d = torch.tensor([[0.5, 0.0], [0.0, 0.0], [-0.5, -0.5]])
    fig, ax = plt.subplots()
    plot.draw_control_points(ax, cps, d, (6, 10), False, selected=2)
    rings, dots, square = ax.lines
    assert np.allclose(xy(rings), np.column_stack([pix(cps[:, 0], 10, False), pix(cps[:, 1], 6, False)]))
    src = cps + d
    assert np.allclose(xy(dots), np.column_stack([pix(src[:, 0], 10, False), pix(src[:, 1], 6, False)]))
    assert (rings.get_marker(), rings.get_linestyle(), rings.get_markerfacecolor(),
            rings.get_markeredgecolor(), rings.get_markersize()) == ("o", "None", "none", "white", 6)
    assert (dots.get_marker(), dots.get_linestyle(), dots.get_color(), dots.get_markersize()) == (
        "o", "None", "red", 4)
    assert np.allclose(xy(square), [[pix(-0.5, 10, False), pix(0.5, 6, False)]])
    assert (square.get_marker(), square.get_markerfacecolor(), square.get_markeredgecolor(),
            square.get_markersize(), square.get_markeredgewidth()) == ("s", "none", "cyan", 10, 1.5)
    assert ax.get_xlim() == (-0.5, 9.5) and ax.get_ylim() == (5.5, -0.5)
    fig, ax = plt.subplots()
    plot.draw_control_points(ax, cps, d, (6, 10), True)
    assert len(ax.lines) == 2
    assert np.allclose(xy(ax.lines[0]), np.column_stack([pix(cps[:, 0], 10, True), pix(cps[:, 1], 6, True)]))
    fig, ax = plt.subplots()
    plot.draw_control_points(ax, cps, d, (6, 10), False, selected=0)
    assert np.allclose(xy(ax.lines[-1]), [[pix(-0.5, 10, False), pix(-1.0, 6, False)]])


# --------------------------------------------------------------------------- warps


def test_plot_warp_draws_the_input_the_grid_and_the_sampled_output():
    torch.manual_seed(1)
    U = torch.rand(1, 1, 6, 8, dtype=torch.float64)
    grid = affine([[0.8, 0.2, 0.1], [-0.2, 0.8, 0.0]], (4, 5), align_corners=True)
    fig = plot.plot_warp(U, grid, align_corners=True, kernel="nearest", padding_mode="border",
                         title="a warp", step=2)
    assert tuple(fig.get_size_inches()) == (6.4, 3.4)
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
    left, right = fig.axes
    V = F.grid_sample(U, grid.double(), mode="nearest", padding_mode="border", align_corners=True)
    assert np.array_equal(left.images[0].get_array(), U[0, 0].float().numpy())
    assert np.allclose(right.images[0].get_array(), V[0, 0].clamp(0, 1).numpy())
    assert left.get_title() == "input U with the sampling grid T_θ(G)"
    assert right.get_title() == "output V (nearest)"
    assert fig._suptitle.get_text() == "a warp" and fig._suptitle.get_fontsize() == 10
    assert len(left.lines) == 3 + 3 + 1  # step 2 on 4×5: rows 0, 2, 3; columns 0, 2, 4
    assert np.allclose(xy(left.lines[0]), np.column_stack([pix(grid[0, 0, :, 0], 8, True),
                                                           pix(grid[0, 0, :, 1], 6, True)]), atol=1e-5)


def test_plot_warp_on_given_axes_with_defaults():
    U = torch.rand(1, 1, 4, 4)
    grid = affine([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]], (4, 4))
    fig = plt.figure()
    axes = fig.subplots(1, 2)
    assert plot.plot_warp(U, grid, align_corners=False, axes=axes) is fig
    assert fig._suptitle is None
    V = F.grid_sample(U, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    assert np.allclose(axes[1].images[0].get_array(), V[0, 0].numpy())
    assert axes[1].get_title() == "output V (bilinear)"
    assert len(axes[0].lines) == 2 + 2 + 1  # the default step 8


def test_plot_warp_uses_the_reference_sampler_when_asked(monkeypatch):
    seen = []
    import stnlib.sampler as sampler_lib

    monkeypatch.setattr(plot, "sample", lambda U, g, **kw: seen.append(kw) or sampler_lib.sample(U, g, **kw))
    plot.plot_warp(torch.rand(1, 1, 4, 4), affine(torch.eye(2, 3), (4, 4)), align_corners=False,
                   sampler="reference")
    assert seen == [{"align_corners": False, "kernel": "bilinear", "padding_mode": "zeros",
                     "sampler": "reference"}]


def test_theta_figure_from_params_and_from_theta():
    torch.manual_seed(2)
    U = torch.rand(1, 1, 6, 8)
    fig = plot.theta_figure(U, angle=90.0, tx=0.5)
    th = plot.explorer_theta(**{**plot.EXPLORER_DEFAULTS, "angle": 90.0, "tx": 0.5})
    assert torch.allclose(th.double(), ref_theta(angle=90.0, scale_x=1.25, scale_y=1.25, tx=0.5), atol=1e-6)
    rows = th.tolist()
    assert fig._suptitle.get_text() == "θ = " + "  ".join(
        "[" + ", ".join(f"{v:.2f}" for v in r) + "]" for r in rows)
    V = F.grid_sample(U, affine(th, (6, 8)), align_corners=False)
    assert np.allclose(fig.axes[1].images[0].get_array(), V[0, 0].clamp(0, 1).numpy(), atol=1e-6)
    fig = plot.theta_figure(U, [[[1, 0, 0.25], [0, -1, 0]]], out_size=(3, 4), align_corners=True,
                            kernel="bicubic", padding_mode="reflection", step=1)
    assert fig._suptitle.get_text() == "θ = [1.00, 0.00, 0.25]  [0.00, -1.00, 0.00]"
    grid = affine([[1, 0, 0.25], [0, -1, 0]], (3, 4), align_corners=True)
    V = F.grid_sample(U, grid, mode="bicubic", padding_mode="reflection", align_corners=True)
    assert np.allclose(fig.axes[1].images[0].get_array(), V[0, 0].clamp(0, 1).numpy(), atol=1e-5)
    assert fig.axes[1].get_title() == "output V (bicubic)"
    assert len(fig.axes[0].lines) == 3 + 4 + 1
    fig = plot.theta_figure(U)  # the explorer's start values
    th = ref_theta(angle=30.0, scale_x=1.25, scale_y=1.25, tx=0.1)
    assert fig._suptitle.get_text() == "θ = " + "  ".join(
        "[" + ", ".join(f"{v:.2f}" for v in r) + "]" for r in th.tolist())


def test_theta_figure_defaults_and_errors():
    fig = plot.theta_figure()
    assert fig.axes[0].images[0].get_array().shape == (128, 128)
    with pytest.raises(TypeError) as err:
        plot.theta_figure(torch.rand(1, 1, 4, 4), zoom=2, angle=3, a=0)
    assert str(err.value) == ("unknown explorer parameter(s) ['a', 'zoom']; "
                              "known: angle, scale_x, scale_y, shear, tx, ty")
    with pytest.raises(ValueError) as err:
        plot.theta_figure(torch.rand(1, 1, 4, 4), out_size=(4, 0))
    assert str(err.value) == "out_size must be positive, got (4, 0)"


def test_tps_figure():
    torch.manual_seed(3)
    U = torch.rand(1, 1, 6, 8)
    d = torch.zeros(4, 2, dtype=torch.float64)
    d[3] = torch.tensor([-0.25, 0.5])
    fig = plot.tps_figure(U, d.flatten(), n=2, out_size=(5, 5), align_corners=True, kernel="bicubic",
                          padding_mode="border", step=2)
    cps = grids.regular_control_points(2)
    grid = grids.tps_grid(d.float()[None], cps, (5, 5), align_corners=True)
    V = F.grid_sample(U, grid, mode="bicubic", padding_mode="border", align_corners=True)
    left, right = fig.axes
    assert np.allclose(right.images[0].get_array(), V[0, 0].clamp(0, 1).numpy(), atol=1e-5)
    assert fig._suptitle.get_text() == "thin-plate spline, 4 control points"
    assert right.get_title() == "output V (bicubic)"
    assert len(left.lines) == 3 + 3 + 1 + 2  # grid rows, columns, marker; then rings and dots
    rings, dots = left.lines[-2:]
    assert np.allclose(xy(rings), np.column_stack([pix(cps[:, 0], 8, True), pix(cps[:, 1], 6, True)]))
    src = cps + d.float()
    assert np.allclose(xy(dots), np.column_stack([pix(src[:, 0], 8, True), pix(src[:, 1], 6, True)]))
    fig = plot.tps_figure(U)  # n = 3 and the centre point pulled right and down
    dots = fig.axes[0].lines[-1]
    src = grids.regular_control_points(3) + plot.tps_defaults(3)
    assert np.allclose(xy(dots), np.column_stack([pix(src[:, 0], 8, False), pix(src[:, 1], 6, False)]))
    grid = grids.tps_grid(plot.tps_defaults(3)[None], grids.regular_control_points(3), (6, 8),
                          align_corners=False)
    V = F.grid_sample(U, grid, align_corners=False)
    assert np.allclose(fig.axes[1].images[0].get_array(), V[0, 0].clamp(0, 1).numpy(), atol=1e-6)
    assert fig._suptitle.get_text() == "thin-plate spline, 9 control points"
    assert fig.axes[1].get_title() == "output V (bilinear)"
    with pytest.raises(ValueError) as err:
        plot.tps_figure(U, torch.zeros(4, 2))
    assert str(err.value) == "displacements must be K×2 with K = n² = 9, got (4, 2)"
    with pytest.raises(ValueError) as err:
        plot.tps_figure(U, out_size=0)
    assert str(err.value) == "out_size must be positive, got (0, 0)"


def test_tps_figure_default_image():
    fig = plot.tps_figure(n=2)
    assert fig.axes[0].images[0].get_array().shape == (128, 128)


def test_tps_defaults():
    want = torch.zeros(9, 2)
    want[4] = torch.tensor([0.3, 0.2])
    assert torch.equal(plot.tps_defaults(3), want)
    d = plot.tps_defaults(2)
    assert d.shape == (4, 2) and d.dtype == torch.float32
    assert np.allclose(d.numpy(), [[0.0, 0.0], [0.0, 0.0], [0.3, 0.2], [0.0, 0.0]])
    assert plot.tps_defaults(4)[8].tolist() == pytest.approx([0.3, 0.2])


def test_new_figure_and_figure_png():
    fig = plot.new_figure((2.0, 1.5))
    assert tuple(fig.get_size_inches()) == (2.0, 1.5)
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
    assert png_size(plot.figure_png(fig, dpi=40)) == (80, 60)
    assert png_size(plot.figure_png(fig)) == (160, 120)


# --------------------------------------------------------------------------- θ


def test_format_theta():
    th = torch.tensor([[0.8660254, -0.5, 0.0], [12.3456, 1.0, -0.0004]])
    assert plot.format_theta(th) == "[  0.866   -0.500    0.000 ]\n[ 12.346    1.000   -0.000 ]"
    assert plot.format_theta(th.flatten()[None]) == plot.format_theta(th)


@pytest.mark.parametrize("params", [dict(), dict(angle=30.0), dict(scale_x=2.0, scale_y=0.5),
                                    dict(shear=20.0), dict(tx=0.3, ty=-0.4),
                                    dict(angle=-70.0, scale_x=1.5, scale_y=0.8, shear=-10.0, tx=0.2, ty=0.1)])
def test_explorer_theta_and_its_inverse(params):
    th = plot.explorer_theta(**params)
    assert th.dtype == torch.float32 and th.shape == (2, 3)
    assert torch.allclose(th.double(), ref_theta(**params), atol=1e-6)
    full = {"angle": 0.0, "scale_x": 1.0, "scale_y": 1.0, "shear": 0.0, "tx": 0.0, "ty": 0.0, **params}
    back = plot.explorer_values(th)
    assert set(back) == set(full) and all(type(v) is float for v in back.values())
    assert back == pytest.approx(full, abs=1e-4)


def test_explorer_values_of_a_mirror_or_a_singular_theta_is_none():
    assert plot.explorer_values([[-1.0, 0, 0], [0, 1, 0]]) is None
    assert plot.explorer_values([[1.0, 2.0, 0], [0.5, 1.0, 0]]) is None  # det 0
    assert plot.explorer_values([[1e-5, 0, 0], [0, 1e-5, 0]]) is None  # det 1e-10
    assert plot.explorer_values([[1e-4, 0, 0], [0, 1e-4, 0]]) == pytest.approx(
        {"angle": 0.0, "scale_x": 1e4, "scale_y": 1e4, "shear": 0.0, "tx": 0.0, "ty": 0.0}, rel=1e-5)


def test_check_affine():
    th = plot.check_affine([[[1, 0, 0], [0, 1, 0]]])
    assert th.dtype == torch.float32 and th.shape == (2, 3) and th.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert plot.check_affine(torch.ones(2, 3, dtype=torch.float64)).dtype == torch.float32
    for bad in (torch.eye(3), torch.zeros(2, 2, 3), torch.zeros(6)):
        with pytest.raises(ValueError) as err:
            plot.check_affine(bad)
        assert str(err.value) == f"θ must be a 2×3 affine matrix, got shape {tuple(bad.shape)}"
    with pytest.raises(ValueError) as err:
        plot.check_affine([[1.0, float("nan"), 0], [0, 1, float("inf")]])
    assert str(err.value) == "θ must be finite, but 2 of its 6 entries are NaN or inf"


# --------------------------------------------------------------------------- rows of images


def test_show_images_rows_are_make_grid_rows():
    a = torch.full((3, 1, 2, 3), 0.25)
    b = torch.tensor([[[[0.0, 2.0, 0.5], [0.5, -1.0, 0.0]]]])  # one image: clamped, then two blank slots
    fig = plot.show_images([a, b], ["quarters", "one"], size=0.5, pad=1)
    assert tuple(fig.get_size_inches()) == pytest.approx((0.5 * 3, 1.25 * 0.5 * 2))
    top, bottom = fig.axes
    assert (top.get_title(), bottom.get_title()) == ("quarters", "one")
    assert not top.axison and not bottom.axison
    want = np.ones((2 + 2 * 1, 3 * (3 + 1) + 1, 3))
    for k in range(3):
        want[1:3, 1 + 4 * k:4 + 4 * k] = 0.25
    assert np.allclose(top.images[0].get_array(), want)
    want = np.ones((4, 13, 3))
    want[1:3, 1:4] = np.array([[0.0, 1.0, 0.5], [0.5, 0.0, 0.0]])[..., None]
    assert np.allclose(bottom.images[0].get_array(), want)


def test_show_images_one_tensor_default_size_and_given_axes():
    x = torch.rand(2, 3, 4, 4)
    fig = plot.show_images(x)
    (ax,) = fig.axes
    assert tuple(fig.get_size_inches()) == pytest.approx((0.9 * 2, 1.25 * 0.9))
    want = np.ones((8, 14, 3))
    want[2:6, 2:6] = x[0].permute(1, 2, 0).numpy()
    want[2:6, 8:12] = x[1].permute(1, 2, 0).numpy()
    assert np.allclose(ax.images[0].get_array(), want) and ax.get_title() == ""
    f2, axes = plt.subplots(2, 1)
    assert plot.show_images([x, x[:1]], ax=axes) is f2
    assert axes[1].images[0].get_array().shape == (8, 14, 3)
    f3, one = plt.subplots()
    assert plot.show_images(x, ["t"], ax=one) is f3 and one.get_title() == "t"


def test_show_images_refuses_word_for_word():
    with pytest.raises(ValueError) as err:
        plot.show_images([])
    assert str(err.value) == "rows must hold at least one N×C×H×W tensor"
    with pytest.raises(ValueError) as err:
        plot.show_images([torch.rand(1, 1, 2, 2), torch.rand(2, 2)])
    assert str(err.value) == "rows[1] must be a 4-D tensor N×C×H×W, got shape (2, 2)"
    with pytest.raises(ValueError) as err:
        plot.show_images([torch.rand(1, 1, 2, 2)], ["a", "b"])
    assert str(err.value) == "titles has 2 entries for 1 rows"


# --------------------------------------------------------------------------- transformer windows


class FakeTransformer:
    def __init__(self, K, align_corners=False, per_channel=False):
        self.n_transformers, self.align_corners, self.per_channel = K, align_corners, per_channel
        self.calls = []

    def generator(self, th, out_size, *, align_corners):
        self.calls.append(align_corners)
        return F.affine_grid(th, (th.shape[0], 1, *out_size), align_corners=align_corners)


class FakeModel:
    """K fixed windows: transformer k shifts by k/4 and zooms by 1/2; V_k = its sample, times 2."""

    def __init__(self, K, out=(3, 4), align_corners=False):
        self.transformer = FakeTransformer(K, align_corners)
        self.K, self.out = K, out

    def thetas(self, N):
        return torch.stack([torch.tensor([[0.5, 0.0, k / 4], [0.0, 0.5, -k / 8]]) for k in range(self.K)]
                           )[None].expand(N, -1, -1, -1)

    def transformed(self, x):
        th = self.thetas(len(x))
        Vs = [F.grid_sample(x, F.affine_grid(th[:, k], (len(x), x.shape[1], *self.out),
                                             align_corners=self.transformer.align_corners),
                            align_corners=self.transformer.align_corners) * 2 for k in range(self.K)]
        return torch.cat(Vs, 1), (th if self.K > 1 else th[:, 0])


def test_plot_transformer_windows_draws_windows_outputs_and_labels():
    torch.manual_seed(4)
    images = torch.rand(2, 3, 6, 8)
    two, one = FakeModel(2), FakeModel(1, out=(2, 2), align_corners=True)
    fig = plot.plot_transformer_windows({"two": two, "one": one}, images, size=0.5, margin=2.0)
    assert len(fig.axes) == (3 + 2) * 2
    assert tuple(fig.get_size_inches()) == pytest.approx((0.5 * 8 / 6 * 2, 0.5 * 1.15 * 5))
    axes = np.array(fig.axes).reshape(5, 2)
    V, _ = two.transformed(images)
    for j in range(2):
        ax = axes[0, j]
        assert np.allclose(ax.images[0].get_array(), images[j].permute(1, 2, 0).numpy())
        assert [line.get_color() for line in ax.lines] == ["yellow", "cyan"]
        for k, line in enumerate(ax.lines):
            g = F.affine_grid(two.thetas(1)[:, k], (1, 1, 3, 4), align_corners=False)[0].numpy()
            border = np.concatenate([g[0, :], g[:, -1], g[-1, ::-1], g[::-1, 0]])
            assert np.allclose(xy(line), np.column_stack([pix(border[:, 0], 8, False),
                                                          pix(border[:, 1], 6, False)]), atol=1e-5)
        assert ax.get_xlim() == (-2.0, 9.0) and ax.get_ylim() == (7.0, -2.0)
        for k in range(2):
            shown = axes[1 + k, j].images[0].get_array()
            assert np.allclose(shown, V[j, 3 * k:3 * k + 3].clamp(0, 1).permute(1, 2, 0).numpy())
    V1, th1 = one.transformed(images)
    assert th1.shape == (2, 2, 3)
    assert np.allclose(axes[4, 1].images[0].get_array(), V1[1].clamp(0, 1).permute(1, 2, 0).numpy())
    assert [line.get_color() for line in axes[3, 0].lines] == ["yellow"]
    assert one.transformer.calls == [True, True] and two.transformer.calls == [False] * 4
    assert axes[0, 0].get_title(loc="left") == "two" and axes[3, 0].get_title(loc="left") == "one"
    assert axes[0, 0]._left_title.get_fontsize() == 10
    assert axes[0, 1].get_title(loc="left") == "" and axes[1, 0].get_title(loc="left") == ""
    assert [axes[r, 0].get_ylabel() for r in range(5)] == ["", "ST 1", "ST 2", "", "ST 1"]
    assert axes[1, 0].yaxis.label.get_fontsize() == 10 and axes[1, 1].get_ylabel() == ""
    assert all(list(ax.get_xticks()) == [] and list(ax.get_yticks()) == [] for ax in axes.flat)


def test_plot_transformer_windows_lays_out_tightly(monkeypatch):
    seen = []
    monkeypatch.setattr(matplotlib.figure.Figure, "tight_layout", lambda self, **kw: seen.append(kw))
    plot.plot_transformer_windows({"m": FakeModel(1)}, torch.rand(1, 1, 4, 4))
    assert seen == [{"pad": 0.2}]


def test_plot_transformer_windows_colours_repeat_after_six_and_the_defaults():
    images = torch.rand(1, 1, 4, 4)
    model = FakeModel(7, out=(2, 2))
    fig = plot.plot_transformer_windows({"seven": model}, images)
    assert [line.get_color() for line in fig.axes[0].lines] == [
        "yellow", "cyan", "magenta", "lime", "orange", "white", "yellow"]
    assert plot.WINDOW_COLORS == ("yellow", "cyan", "magenta", "lime", "orange", "white")
    assert fig.axes[0].get_xlim() == (-8.0, 11.0) and fig.axes[0].get_ylim() == (11.0, -8.0)
    assert tuple(fig.get_size_inches()) == pytest.approx((0.8, 0.8 * 1.15 * 8))
    assert len(fig.axes) == 8 and fig.axes[7].get_ylabel() == "ST 7"


def test_plot_transformer_windows_refuses_word_for_word():
    x = torch.rand(1, 1, 4, 4)
    with pytest.raises(ValueError) as err:
        plot.plot_transformer_windows({"m": FakeModel(1)}, torch.rand(4, 4))
    assert str(err.value) == "images must be a 4-D tensor N×C×H×W, got shape (4, 4)"
    with pytest.raises(ValueError) as err:
        plot.plot_transformer_windows({}, x)
    assert str(err.value) == "models must map at least one title to a model"
    no_transformer = SimpleNamespace(transformed=lambda x: None)
    no_method = SimpleNamespace(transformer=FakeTransformer(1))
    for name, model, kind in [("a", no_transformer, "SimpleNamespace"), ("b", no_method, "SimpleNamespace"),
                              ("cnn", torch.nn.Conv2d(1, 1, 3), "Conv2d")]:
        with pytest.raises(TypeError) as err:
            plot.plot_transformer_windows({"ok": FakeModel(1), name: model}, x)
        assert str(err.value) == (f"models[{name!r}] must have transformed(x) -> (V, θ) and a transformer, "
                                  f"got {kind}")
    pc = FakeModel(1)
    pc.transformer.per_channel = True
    with pytest.raises(ValueError) as err:
        plot.plot_transformer_windows({"pc": pc}, x)
    assert str(err.value) == ("models['pc'] has one θ per channel (per_channel=True): its windows are per "
                              "channel, not per transformer; draw them with draw_outline")


# --------------------------------------------------------------------------- θ statistics


def test_plot_theta_history():
    history = [{"step": s, "scale_mean": 1 - 0.25 * s, "det_mean": 2.0 * s} for s in range(3)]
    ax = plot.plot_theta_history(history)
    (line,) = ax.lines
    assert list(line.get_xdata()) == [0, 1, 2] and list(line.get_ydata()) == [1.0, 0.75, 0.5]
    assert line.get_label() == "scale_mean" and ax.get_xlabel() == "training step"
    assert tuple(ax.figure.get_size_inches()) == (4.0, 2.6)
    fig, given = plt.subplots()
    assert plot.plot_theta_history(history, ["scale_mean", "det_mean"], ax=given, label="ST") is given
    assert [line.get_label() for line in given.lines] == ["ST: scale_mean", "ST: det_mean"]
    assert list(given.lines[1].get_ydata()) == [0.0, 2.0, 4.0]
    ax = plot.plot_theta_history(history, ["scale_mean", "det_mean"])
    assert [line.get_label() for line in ax.lines] == ["scale_mean", "det_mean"]
    ax = plot.plot_theta_history(history, ("det_mean",), label="one")
    assert [line.get_label() for line in ax.lines] == ["one"]
    gappy = [{"step": 0, "scale_mean": 1.0}, {"step": 1}]
    with pytest.raises(KeyError, match=re.escape("the θ history has no 'scale_mean'; it has step, scale_mean")):
        plot.plot_theta_history(gappy)


def test_grid_and_outline_name_a_bad_in_size():
    grid = affine(torch.eye(2, 3), (2, 2))
    for draw in (plot.draw_grid, plot.draw_outline):
        with pytest.raises(ValueError) as err:
            draw(plt.subplots()[1], grid, (0, 4), align_corners=False)
        assert str(err.value) == "in_size must be positive, got (0, 4)"


def test_the_default_step_is_eight_and_the_panels_sit_side_by_side():
    U = torch.rand(1, 1, 10, 10)
    grid = affine(torch.eye(2, 3), (10, 10))
    for fig in (plot.plot_warp(U, grid, align_corners=False), plot.theta_figure(U),
                plot.tps_figure(U)):
        left, right = fig.axes
        assert len([line for line in left.lines if len(line.get_xdata()) == 10]) == 3 + 3  # rows/cols 0, 8, 9
        assert left.get_position().x1 <= right.get_position().x0
        assert left.get_position().y0 == pytest.approx(right.get_position().y0)


def test_the_selected_square_with_align_corners():
    cps = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])
    d = torch.tensor([[0.5, 0.25], [0.0, 0.0]])
    fig, ax = plt.subplots()
    plot.draw_control_points(ax, cps, d, (5, 9), True, selected=0)
    assert np.allclose(xy(ax.lines[-1]), [[pix(-0.5, 9, True), pix(-0.75, 5, True)]])


def test_show_images_rows_longer_than_eight():
    x = torch.rand(9, 1, 2, 2)
    img = plot.show_images(x, pad=0).axes[0].images[0].get_array()
    assert img.shape == (2, 18, 3)  # one row of nine, not make_grid's default eight a row
    assert np.allclose(img[:, 16:18, 0], x[8, 0].numpy())


def test_plot_theta_history_uses_the_logged_steps():
    ax = plot.plot_theta_history([{"step": 10, "scale_mean": 1.0}, {"step": 30, "scale_mean": 0.5}])
    assert list(ax.lines[0].get_xdata()) == [10, 30]
