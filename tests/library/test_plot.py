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
