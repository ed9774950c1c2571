"""stn-course demo with the drawing and sampling recorded: which grids, which kernels, which titles."""

import argparse

import matplotlib
import pytest
import torch

from stnlib import grids, theta
from stnlib.course import demo
from stnlib.kernels import KERNELS

matplotlib.use("Agg")


def test_demo_image_is_the_astronaut(monkeypatch):
    calls = []
    monkeypatch.setattr(demo.plot, "default_image", lambda name, size: calls.append((name, size)) or "img")
    assert demo.demo_image(40) == "img" and demo.demo_image() == "img"
    assert calls == [("astronaut", 40), ("astronaut", 128)]


@pytest.mark.parametrize("align", [False, True])
def test_demo_grids_are_the_documented_transforms(align):
    out = (6, 5)
    got = demo.demo_grids(out, align_corners=align)
    assert list(got) == ["affine", "attention", "projective", "tps"]
    shift = torch.zeros(1, 16, 2)
    shift[0, 5, 0], shift[0, 5, 1], shift[0, 10, 0], shift[0, 10, 1] = 0.25, 0.15, -0.2, -0.2
    expected = {
        "affine": grids.affine_grid(theta.affine_theta(25.0, 1.3, 10.0, (0.1, 0.0))[None], out,
                                    align_corners=align),
        "attention": grids.attention_grid(torch.tensor([[0.5, 0.1, -0.45]]), out, align_corners=align),
        "projective": grids.projective_grid(torch.tensor([[[1.0, 0.1, 0.0], [0.05, 1.0, 0.0],
                                                           [0.3, 0.25, 1.0]]]), out, align_corners=align),
        "tps": grids.tps_grid(shift, grids.regular_control_points(4), out, align_corners=align),
    }
    for name, grid in got.items():
        assert grid.shape == (1, 6, 5, 2)
        torch.testing.assert_close(grid, expected[name], rtol=0, atol=0)
    other = demo.demo_grids(out, align_corners=not align)
    assert not torch.equal(other["affine"], got["affine"])


def test_run_demo_draws_every_transform_with_every_kernel(monkeypatch, tmp_path):
    U = torch.rand(1, 3, 8, 8)
    log = []
    monkeypatch.setattr(demo, "demo_image", lambda size: log.append(("image", size)) or U)
    monkeypatch.setattr(demo, "demo_grids",
                        lambda out_size, *, align_corners: log.append(("grids", out_size, align_corners))
                        or {"a": "GA", "b": "GB"})
    axes_seen = []
    monkeypatch.setattr(demo.plot, "draw_image", lambda ax, img, title: (axes_seen.append(ax),
                                                                          log.append(("draw", img, title))))
    monkeypatch.setattr(demo.plot, "draw_grid", lambda ax, grid, shape, *, align_corners, step: log.append(
        ("grid", ax is axes_seen[-1], grid, tuple(shape), align_corners, step)))

    def sample(img, grid, *, kernel, padding_mode, align_corners, sampler):
        log.append(("sample", img is U, grid, kernel, padding_mode, align_corners, sampler))
        return f"V-{grid}-{kernel}"
    monkeypatch.setattr(demo.sampler, "sample", sample)
    saved = []

    def save(fig, out, *, dpi):
        saved.append((fig, out, dpi))
        return tmp_path / "x.png"
    monkeypatch.setattr(demo, "save_figure", save)
    assert demo.run_demo(tmp_path / "o.png", size=8, sampler_name="native") == tmp_path / "x.png"
    kernels = list(KERNELS)
    expected = [("image", 8), ("grids", (8, 8), False)]
    for name in ("a", "b"):
        expected += [("draw", U, f"{name}: grid on input"), ("grid", True, f"G{name.upper()}", (8, 8), False, 8)]
        for k in kernels:
            expected += [("sample", True, f"G{name.upper()}", k, "zeros", False, "native"),
                         ("draw", f"V-G{name.upper()}-{k}", f"{name}, {k}")]
    assert log == expected
    [(fig, out, dpi)] = saved
    assert (out, dpi) == (tmp_path / "o.png", 80)
    axes = fig.axes
    assert len(axes) == 2 * (1 + len(kernels))
    assert axes_seen == [axes[r * (1 + len(kernels)) + c] for r in range(2) for c in range(1 + len(kernels))]
    assert all(not ax.axison for ax in axes)
    assert fig._suptitle.get_text() == "stnlib demo: every transform × every kernel (native sampler)"
    assert tuple(fig.get_size_inches()) == (3 * (1 + len(kernels)), 3 * 2)
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_run_demo_defaults(monkeypatch, tmp_path):
    import matplotlib.pyplot as plt

    calls = []
    monkeypatch.setattr(demo, "demo_image", lambda size: calls.append(size) or torch.rand(1, 3, size, size))
    monkeypatch.setattr(demo, "demo_grids", lambda out_size, *, align_corners: {})
    fig = plt.figure()
    monkeypatch.setattr(plt, "subplots", lambda *a, **k: calls.append((a, k)) or (fig, []))
    saved = []
    monkeypatch.setattr(demo, "save_figure", lambda f, out, *, dpi: saved.append((f, out, dpi)))
    demo.run_demo()
    assert calls == [128, ((0, 1 + len(KERNELS)), {"figsize": (3 * (1 + len(KERNELS)), 0)})]
    assert saved == [(fig, "figures/demo.png", 80)]
    assert fig._suptitle.get_text() == "stnlib demo: every transform × every kernel (reference sampler)"
    plt.close(fig)


def _parser():
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    demo.add_cli(sub)
    return parser, sub


def test_cli(monkeypatch, capsys, tmp_path):
    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda out, *, size, sampler_name: calls.append((out, size, sampler_name))
                        or tmp_path / "d.png")
    clock = iter([10.0, 12.34])
    monkeypatch.setattr(demo, "time", type("T", (), {"perf_counter": staticmethod(lambda: next(clock))}))
    parser, sub = _parser()
    args = parser.parse_args(["demo"])
    assert args.func(args) == 0
    assert calls == [("figures/demo.png", 128, "reference")]
    assert capsys.readouterr().out == f"wrote {tmp_path / 'd.png'} in 2.3 s\n"
    clock = iter([0.0, 0.05])
    args = parser.parse_args(["demo", "--out", "x.png", "--size", "64", "--sampler", "native"])
    args.func(args)
    assert calls[-1] == ("x.png", 64, "native")
    assert capsys.readouterr().out == f"wrote {tmp_path / 'd.png'} in 0.1 s\n"
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--sampler", "fast"])
    assert sub._choices_actions[0].help == "warp a real image with every transform and kernel"
    opts = {a.dest: (a.help, a.default, a.type, a.choices) for a in sub.choices["demo"]._actions}
    assert opts["out"] == ("PNG to write", "figures/demo.png", None, None)
    assert opts["size"] == ("image side in pixels", 128, int, None)
    assert opts["sampler"] == ("which sampler draws the figure", "reference", None, ("native", "reference"))
