"""stnlib.plot: the figure helpers draw what they say, and refuse bad input clearly."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from stnlib import grids, plot, sampler, theta  # noqa: E402


@pytest.fixture
def small():
    return plot.default_image("camera", size=32)


def test_static_figures_draw_without_a_kernel(small):
    fig = plot.theta_figure(small)
    assert len(fig.axes) == 2 and "θ =" in fig._suptitle.get_text()
    assert plot.figure_png(fig)[:4] == b"\x89PNG"
    fig = plot.tps_figure(small)
    assert len(fig.axes) == 2
    fig = plot.plot_warp(small, grids.affine_grid(torch.eye(2, 3)[None], (16, 16), align_corners=True),
                         align_corners=True, kernel="bicubic")
    assert fig.axes[1].get_title() == "output V (bicubic)"


def test_bad_arguments_say_what_is_wrong(small):
    with pytest.raises(ValueError, match="2×3"):
        plot.theta_figure(small, torch.eye(3))
    with pytest.raises(ValueError, match="image must be"):
        plot.as_image(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"rows\[1\] must be"):
        plot.show_images([torch.rand(2, 1, 4, 4), torch.rand(4, 4)])
    with pytest.raises(ValueError, match="titles has 1 entries for 2 rows"):
        plot.show_images([torch.rand(2, 1, 4, 4)] * 2, ["only one"])


def _lines(ax):
    return [np.column_stack(line.get_data()) for line in ax.lines]


@pytest.mark.parametrize("align_corners", [False, True])
def test_draw_grid_passes_through_every_edge_pixel_it_samples(align_corners):
    # a zoom-in grid: its outline must run through the pixel positions of the first and last
    # rows and columns (the drawing once left out the last row and column)
    th = theta.affine_theta(scale=2.0)[None]
    grid = grids.affine_grid(th, (9, 9), align_corners=align_corners)
    fig, ax = plt.subplots()
    plot.draw_grid(ax, grid, (20, 20), align_corners=align_corners, step=4)
    px = sampler.unnormalize(grid[0, ..., 0], 20, align_corners=align_corners)
    py = sampler.unnormalize(grid[0, ..., 1], 20, align_corners=align_corners)
    drawn = np.concatenate(_lines(ax))
    for r, c in [(0, 0), (0, 8), (8, 0), (8, 8), (4, 8), (8, 4)]:
        point = np.array([px[r, c].item(), py[r, c].item()])
        assert np.abs(drawn - point).sum(1).min() < 1e-5, (r, c)
    plt.close(fig)


def test_draw_outline_is_the_closed_border_of_the_grid():
    grid = grids.affine_grid(torch.eye(2, 3)[None], (4, 6), align_corners=False)
    fig, ax = plt.subplots()
    plot.draw_outline(ax, grid, (4, 6), align_corners=False)
    (line,) = _lines(ax)
    assert len(line) == 2 * (4 + 6)
    # identity grid on the same size: the outline runs through the corner pixel centres
    assert {tuple(p) for p in line.round(6)} >= {(0.0, 0.0), (5.0, 0.0), (5.0, 3.0), (0.0, 3.0)}
    plt.close(fig)


def test_show_images_draws_one_row_per_tensor_with_make_grid():
    a, b = torch.zeros(3, 1, 5, 5), torch.ones(2, 1, 5, 5)
    fig = plot.show_images([a, b], ["zeros", "ones"])
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["zeros", "ones"]
    img = axes[1].images[0].get_array()
    # make_grid with nrow=3: two images of ones, the third slot padding (pad_value 1)
    assert img.shape[:2] == (5 + 2 * 2, 3 * 5 + 4 * 2)
    top = axes[0].images[0].get_array()
    assert top[2:7, 2:7].max() == 0  # the first image of zeros, inside the padding
    plt.close(fig)


def test_plot_theta_history_draws_the_logged_statistic():
    history = [{"step": s, "scale_mean": 1 - 0.1 * s} for s in range(4)]
    ax = plot.plot_theta_history(history, ["scale_mean"], label="ST-CNN")
    (line,) = ax.lines
    assert list(line.get_xdata()) == [0, 1, 2, 3]
    assert line.get_ydata()[-1] == pytest.approx(0.7) and line.get_label() == "ST-CNN"
    with pytest.raises(KeyError, match="no 'det_mean'"):
        plot.plot_theta_history(history, ["det_mean"])
    plt.close("all")


def test_plot_transformer_windows_draws_every_window_and_output():
    from stnlib.models.addition import two_digit_model
    from stnlib.transformer import SpatialTransformer

    torch.manual_seed(0)
    images = torch.rand(3, 1, 28, 56)
    models = {"left-right": two_digit_model("left-right").eval(), "identity": two_digit_model("identity").eval()}
    fig = plot.plot_transformer_windows(models, images)
    # per model 1 + K = 3 rows (the inputs, ST 1's outputs, ST 2's), one column per image
    assert len(fig.axes) == 2 * 3 * 3
    axes = np.array(fig.axes).reshape(6, 3)
    assert [axes[r, 0].get_title(loc="left") for r in (0, 3)] == ["left-right", "identity"]
    assert [axes[r, 0].get_ylabel() for r in (1, 2, 4, 5)] == ["ST 1", "ST 2"] * 2
    assert all(len(ax.images) == 1 for ax in axes.flat)
    # every input shows both windows: the outline of each transformer's grid, in its colour
    assert [line.get_color() for line in axes[0, 1].lines] == ["yellow", "cyan"]
    # left-right: window 1 on the left half of the 56 px wide input, window 2 on the right half
    x1, x2 = (line.get_xdata() for line in axes[0, 0].lines)
    assert x1.max() < 30 and x2.min() > 26
    # the output rows show what each transformer outputs (28×28 windows), clamped to [0, 1]
    with torch.no_grad():
        V, _ = models["left-right"].transformed(images)
    shown = axes[2, 1].images[0].get_array()
    assert shown.shape == (28, 28)
    np.testing.assert_allclose(shown, V[1, 1].clamp(0, 1).numpy(), atol=1e-6)
    plt.close(fig)
    # one transformer (K = 1): 2 rows per model
    st = SpatialTransformer(1, align_corners=False, out_size=(14, 14))
    model = torch.nn.Module()
    model.transformer, model.transformed = st, st
    fig = plot.plot_transformer_windows({"one": model}, torch.rand(2, 1, 28, 28))
    assert len(fig.axes) == 4 and fig.axes[0].lines[0].get_color() == "yellow"
    plt.close(fig)


def test_plot_transformer_windows_refuses_what_it_cannot_draw():
    from stnlib.transformer import SpatialTransformer

    with pytest.raises(ValueError, match="images must be a 4-D tensor"):
        plot.plot_transformer_windows({}, torch.rand(28, 28))
    with pytest.raises(ValueError, match="at least one title"):
        plot.plot_transformer_windows({}, torch.rand(1, 1, 28, 28))
    with pytest.raises(TypeError, match=r"models\['cnn'\] must have transformed"):
        plot.plot_transformer_windows({"cnn": torch.nn.Conv2d(1, 1, 3)}, torch.rand(1, 1, 28, 28))
    per_channel = torch.nn.Module()
    per_channel.transformer = SpatialTransformer(2, align_corners=False, per_channel=True)
    per_channel.transformed = per_channel.transformer
    with pytest.raises(ValueError, match="one θ per channel"):
        plot.plot_transformer_windows({"pc": per_channel}, torch.rand(1, 2, 28, 28))


def test_draw_grid_marker_far_off_the_image_is_clipped_and_layout_holds():
    # a θ that sends the grid thousands of pixels away (a transformer that blew up) must not stretch
    # the figure: the top-left marker is clipped once it is off the image, kept when on it
    import warnings

    import matplotlib.pyplot as plt

    from stnlib.grids import affine_grid
    from stnlib.theta import affine_theta

    fig, (near_ax, far_ax) = plt.subplots(1, 2, figsize=(4, 2))
    plot.draw_grid(near_ax, affine_grid(affine_theta(scale=0.9)[None], (20, 20), align_corners=False),
                   (20, 20), align_corners=False)
    far = affine_theta(translation=(300.0, -200.0))[None]
    plot.draw_grid(far_ax, affine_grid(far, (20, 20), align_corners=False), (20, 20), align_corners=False)
    assert near_ax.lines[-1].get_clip_on() is False
    assert far_ax.lines[-1].get_clip_on() is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.tight_layout()
    plt.close(fig)


@pytest.mark.parametrize("shift", [0.0, 0.07])  # the identity, and the corner a pixel above the frame
def test_the_corner_marker_stays_clear_of_the_panel_title(shift):
    """Lesson 02's explorer drew the red top-left marker over the title "input U with …" (issue 26)."""
    th = theta.affine_theta(translation=(0.0, shift))[None]
    grid = grids.affine_grid(th, (28, 28), align_corners=False)
    fig = plt.figure(figsize=(6.4, 3.4))
    ax = fig.subplots(1, 2)[0]
    plot.draw_image(ax, torch.rand(1, 28, 28), "input U with the sampling grid T_θ(G)")
    plot.draw_grid(ax, grid, (28, 28), align_corners=False)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    marker, title = ax.lines[-1].get_window_extent(renderer), ax.title.get_window_extent(renderer)
    assert marker.y1 < title.y0, (marker, title)  # display coordinates: y grows upwards
    assert title.y0 - marker.y1 < 20  # and the title is not sent far away
    plt.close(fig)
