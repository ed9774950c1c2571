"""``stn-course demo``: warp a real photograph with every transform and every kernel.

The figure shows, for one θ of each transform (affine, attention,
projective, thin-plate spline), the sampling grid drawn over the input and
the output of each sampling kernel (nearest, bilinear, bicubic). It is the
quickest visual check that the library works on a new machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from .. import grids, plot, sampler, theta
from .._io import save_figure
from ..kernels import KERNELS


def demo_image(size: int = 128) -> torch.Tensor:
    """scikit-image's bundled astronaut photograph, resized, as 1×3×size×size in [0, 1]."""
    return plot.default_image("astronaut", size=size)


def demo_grids(out_size, *, align_corners: bool) -> dict[str, torch.Tensor]:
    """One example sampling grid per transform, each 1×H'×W'×2."""
    tps_shift = torch.zeros(1, 16, 2)
    tps_shift[0, 5] = torch.tensor([0.25, 0.15])  # pull two inner control points
    tps_shift[0, 10] = torch.tensor([-0.2, -0.2])
    projective = torch.tensor([[[1.0, 0.1, 0.0], [0.05, 1.0, 0.0], [0.3, 0.25, 1.0]]])
    return {
        "affine": grids.affine_grid(
            theta.affine_theta(25.0, 1.3, 10.0, (0.1, 0.0)).unsqueeze(0), out_size,
            align_corners=align_corners),
        "attention": grids.attention_grid(torch.tensor([[0.5, 0.1, -0.45]]), out_size,
                                          align_corners=align_corners),
        "projective": grids.projective_grid(projective, out_size, align_corners=align_corners),
        "tps": grids.tps_grid(tps_shift, grids.regular_control_points(4), out_size,
                              align_corners=align_corners),
    }


def run_demo(out: str | Path = "figures/demo.png", *, size: int = 128,
             sampler_name: str = "reference") -> Path:
    """Draw the demo figure and write it (atomically) to ``out``; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    U = demo_image(size)
    grid_by_name = demo_grids((size, size), align_corners=False)
    fig, axes = plt.subplots(len(grid_by_name), 1 + len(KERNELS),
                             figsize=(3 * (1 + len(KERNELS)), 3 * len(grid_by_name)))
    for row, (name, grid) in zip(axes, grid_by_name.items()):
        plot.draw_image(row[0], U, f"{name}: grid on input")
        plot.draw_grid(row[0], grid, U.shape[-2:], align_corners=False, step=8)
        for ax, kernel in zip(row[1:], KERNELS):
            V = sampler.sample(U, grid, kernel=kernel, padding_mode="zeros",
                               align_corners=False, sampler=sampler_name)
            plot.draw_image(ax, V, f"{name}, {kernel}")
        for ax in row:
            ax.set_axis_off()
    fig.suptitle(f"stnlib demo: every transform × every kernel ({sampler_name} sampler)")
    fig.tight_layout()
    return save_figure(fig, out, dpi=80)


def _cli(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    path = run_demo(args.out, size=args.size, sampler_name=args.sampler)
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("demo", help="warp a real image with every transform and kernel")
    p.add_argument("--out", default="figures/demo.png", help="PNG to write")
    p.add_argument("--size", type=int, default=128, help="image side in pixels")
    p.add_argument("--sampler", choices=sampler.SAMPLERS, default="reference",
                   help="which sampler draws the figure")
    p.set_defaults(func=_cli)
