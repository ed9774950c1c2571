"""stnlib.data.preview: the figure's arrays, titles and layout, with a fake catalog and a captured figure.

``load`` and ``CATALOG`` are replaced by small fakes (no dataset is built), and ``save_figure`` by a
function that keeps the figure, so each axis's image, line, contour and title can be read back.
"""

from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
import torch

from stnlib.data import preview as P
from stnlib.data.catalog import CATALOG
from stnlib.data.samples import Samples

matplotlib.use("Agg")
G = torch.Generator().manual_seed(0)

DIGITS = Samples(torch.rand(3, 1, 4, 5, generator=G), torch.tensor([2, 0, 1]),
                 {"angle": torch.tensor([10.4, -20.6, 0.2])}, name="digits", classes=("zero", "one", "two"))
PAIRS = Samples(torch.rand(2, 2, 4, 3, generator=G), torch.tensor([7, 3]), name="pairs")
ROADS = Samples(torch.rand(4, 3, 4, 4, generator=G),
                (torch.rand(4, 4, 4, generator=G) > 0.5).long(), name="roads")
SERIES = Samples(torch.randn(5, 1, 12, generator=G), torch.tensor([1, 0, 1, 0, 1]), name="mnist1d",
                 classes=("a", "b"))
THETA = Samples(torch.rand(4, 1, 4, 4, generator=G), torch.tensor([0, 1, 0, 1]),
                {"angle": torch.rand(4, 2, generator=G)}, name="theta")
FAKES = {"digits": (DIGITS, ("train", "test")), "pairs": (PAIRS, ("train", "val")),
         "roads": (ROADS, ("train", "val", "test")), "mnist1d": (SERIES, ("train", "test")),
         "theta": (THETA, ("test",))}


@pytest.fixture
def drawn(monkeypatch):
    calls, saved = [], []

    def load(name, split, **kw):
        calls.append((name, split, kw))
        return FAKES[name][0]

    def save_figure(fig, out, dpi):
        saved.append((fig, out, dpi))
        return "written:" + str(out)

    monkeypatch.setattr(P, "CATALOG", {k: SimpleNamespace(splits=v[1]) for k, v in FAKES.items()})
    monkeypatch.setattr(P, "load", load)
    monkeypatch.setattr(P, "save_figure", save_figure)
    yield calls, saved
    import matplotlib.pyplot as plt

    plt.close("all")


def test_default_names_are_the_sets_without_downloads():
    optional = {"osuleaf", "osuleaf-rotated", "kitti-road", "cifar10", "cifar10-distorted", "fashion-mnist",
                "fashion-mnist-distorted"}
    assert P.DEFAULT == tuple(k for k in CATALOG if k not in optional)
    assert "mnist" in P.DEFAULT and not optional & set(P.DEFAULT)


def test_tile_channels_side_by_side_or_rgb():
    x = torch.arange(2 * 2 * 3.0).reshape(2, 2, 3)
    assert torch.equal(P._tile(x), torch.tensor([[0.0, 1, 2, 6, 7, 8], [3, 4, 5, 9, 10, 11]]))
    assert torch.equal(P._tile(x[:1]), x[0])
    rgb = torch.arange(3 * 2 * 2.0).reshape(3, 2, 2)
    assert torch.equal(P._tile(rgb), rgb.permute(1, 2, 0))
    assert P._tile(rgb)[1, 0].tolist() == [2.0, 6.0, 10.0]


def test_loads_each_set_with_its_split_and_options(drawn, tmp_path):
    calls, saved = drawn
    out = P.preview(["digits", "pairs", "roads", "mnist1d"], tmp_path / "p.png", n=4, split="val",
                    seed=3, root="R", road_size=16)
    assert out == "written:" + str(tmp_path / "p.png")
    assert calls == [
        ("digits", "test", {"n": 4, "seed": 3, "root": "R", "cache": False}),  # no val: its last split
        ("pairs", "val", {"n": 4, "seed": 3, "root": "R", "cache": False}),
        ("roads", "val", {"n": 4, "seed": 3, "root": "R", "cache": False, "size": 16}),
        ("mnist1d", "test", {"n": None, "seed": 3, "root": "R", "cache": False}),
    ]
    assert len(saved) == 1 and saved[0][1] == tmp_path / "p.png" and saved[0][2] == 90
    calls.clear()
    P.preview(["digits"], "x.png", n=100)
    assert calls == [("digits", "test", {"n": 60, "seed": 0, "root": None, "cache": False})]
    calls.clear()
    P.preview(["roads"], "x.png")  # defaults: 10 a row, road scenes at 128 pixels
    assert calls == [("roads", "test", {"n": 10, "seed": 0, "root": None, "cache": False, "size": 128})]
    assert len(saved[-1][0].axes) == 10


def test_the_figure_shows_each_sample(drawn):
    calls, saved = drawn
    P.preview(["digits", "pairs", "roads", "mnist1d", "theta"], "p.png", n=4, split="test", seed=5)
    fig = saved[0][0]
    axes = np.array(fig.axes).reshape(5, 4)
    # digits: grey images, class names and the signed rounded angle
    for i in range(3):
        ax = axes[0, i]
        im = ax.images[0]
        assert np.array_equal(im.get_array(), DIGITS.images[i, 0].numpy())
        assert im.get_cmap().name == "gray" and im.get_clim() == (0, 1)
        assert ax.get_xticks().tolist() == [] and ax.get_yticks().tolist() == []
        assert ax.get_title() == ["two +10°", "zero -21°", "one +0°"][i]
        assert ax.title.get_fontsize() == 7
        assert ax.axison
    assert not axes[0, 3].axison and len(axes[0, 3].images) == 0  # fewer samples than columns
    # pairs: both channels side by side, the label's number as title (no class names)
    for i in range(2):
        assert np.array_equal(axes[1, i].images[0].get_array(), torch.cat(list(PAIRS.images[i]), 1).numpy())
        assert axes[1, i].get_title() == ["7", "3"][i]
    assert not axes[1, 2].axison and not axes[1, 3].axison
    # roads: RGB with the mask's outline at 0.5 in magenta, no title
    for i in range(4):
        ax = axes[2, i]
        assert np.array_equal(ax.images[0].get_array(), ROADS.images[i].permute(1, 2, 0).numpy())
        (cs,) = ax.collections
        assert cs.levels.tolist() == [0.5]
        assert np.array_equal(cs.get_edgecolor()[0], matplotlib.colors.to_rgba("magenta"))
        assert cs.get_linewidth()[0] == 0.6
        assert ax.get_title() == ""
    # time series: the first channel as a line, class names as titles
    for i in range(4):
        ax = axes[3, i]
        (line,) = ax.lines
        assert np.array_equal(line.get_ydata(), SERIES.images[i, 0].numpy())
        assert line.get_linewidth() == 0.8 and len(ax.images) == 0
        assert ax.get_title() == ["b", "a", "b", "a"][i]
    # an angle parameter that is not one number per sample is not written in the title
    assert [axes[4, i].get_title() for i in range(4)] == ["0", "1", "0", "1"]
    # each row's name left of its first axis
    for r, name in enumerate(["digits", "pairs", "roads", "mnist1d", "theta"]):
        (t,) = axes[r, 0].texts
        assert t.get_text() == name and t.get_position() == (-0.08, 0.5)
        assert t.get_transform() == axes[r, 0].transAxes
        assert (t.get_fontsize(), t.get_ha(), t.get_va()) == (7, "right", "center")
        assert all(len(a.texts) == 0 for a in axes[r, 1:])
    assert fig._suptitle.get_text() == "stnlib.data preview (test split, seed 5)"
    assert fig._suptitle.get_fontsize() == 9


def test_figure_size_and_layout(drawn):
    _, saved = drawn
    P.preview(["digits", "pairs"], "p.png", n=3)
    fig = saved[0][0]
    assert fig.get_size_inches() == pytest.approx([1.3 * 3, 1.45 * 2])
    sp = fig.subplotpars
    assert (sp.left, sp.right, sp.bottom, sp.top) == pytest.approx((0.14, 0.995, 0.01, 1 - 0.3 / 2))
    assert (sp.hspace, sp.wspace) == pytest.approx((0.45, 0.05))
    P.preview(("digits",), "q.png", n=1)  # one row, one column: still a grid of axes
    fig = saved[1][0]
    assert len(fig.axes) == 1 and fig.subplotpars.top == pytest.approx(0.7)
    assert fig.axes[0].get_title() == "two +10°"


def test_real_write(tmp_path, monkeypatch):
    """With the real save_figure: a PNG file of the figure's size at 90 dpi."""
    from PIL import Image

    monkeypatch.setattr(P, "CATALOG", {"digits": SimpleNamespace(splits=("test",))})
    monkeypatch.setattr(P, "load", lambda name, split, **kw: DIGITS)
    out = P.preview(["digits"], tmp_path / "d" / "p.png", n=2)
    assert out == tmp_path / "d" / "p.png"
    with Image.open(out) as im:
        assert im.size == (round(1.3 * 2 * 90), round(1.45 * 90))


def test_defaults_out_split_and_the_last_split_rule(drawn, monkeypatch):
    calls, saved = drawn
    monkeypatch.setitem(P.CATALOG, "digits", SimpleNamespace(splits=("test", "val", "train")))
    monkeypatch.setitem(P.CATALOG, "pairs", SimpleNamespace(splits=("train", "val", "extra")))
    P.preview(["digits", "pairs"])
    assert [c[:2] for c in calls] == [("digits", "test"), ("pairs", "extra")]  # no test split: its last
    fig, out, dpi = saved[0]
    assert out == "figures/data_preview.png" and dpi == 90
    assert fig._suptitle.get_text() == "stnlib.data preview (test split, seed 0)"
    # each title 2 points above its axis
    assert fig.axes[0].titleOffsetTrans._t == pytest.approx((0.0, 2 / 72))
