"""A PNG grid of samples from each dataset and distortion, for a teacher to look at.

``preview()`` (CLI: ``stn-course data preview``) draws one row per dataset:
images in grey (two-channel sets side by side), road scenes with their mask
outlined, time series as small line plots. Samples come from the fixed test
split unless ``split`` says otherwise; nothing is cached by a preview.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .._io import save_figure
from .catalog import CATALOG, load

#: what a preview shows by default: every dataset that needs no optional download
#: (Fashion-MNIST needs Debian's package or torchvision's mirrors, the others local copies)
DEFAULT = tuple(k for k in CATALOG if k not in ("osuleaf", "osuleaf-rotated", "kitti-road",
                                                "cifar10", "cifar10-distorted", "fashion-mnist",
                                                "fashion-mnist-distorted"))


def _tile(x: torch.Tensor) -> torch.Tensor:
    """C×H×W → H×W' (channels side by side) or H×W×3 (RGB)."""
    if x.shape[0] == 3:
        return x.permute(1, 2, 0)
    return torch.cat(list(x), dim=1)


def preview(names=DEFAULT, out: str | Path = "figures/data_preview.png", *, n: int = 10,
            split: str = "test", seed: int = 0, root=None, road_size: int = 128) -> Path:
    """Write a PNG with ``n`` samples of each dataset in ``names``, one row per dataset.

    Args:
        names: dataset names of :func:`stnlib.data.names` (default: those that need no download).
        out: the PNG file to write (its folder is created).
        n: samples per row.
        split: the split to show (a dataset without it shows its last split).
        seed: which samples are drawn.
        root: data root (default :func:`stnlib.data.fetch.data_root`).
        road_size: the side in pixels the road scenes are rendered at (smaller is faster).
    Returns:
        The path of the written PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(names)
    fig, axes = plt.subplots(len(names), n, figsize=(1.3 * n, 1.45 * len(names)), squeeze=False)
    for row, name in zip(axes, names, strict=True):
        e = CATALOG[name]
        sp = split if split in e.splits else e.splits[-1]
        kw = {"size": road_size} if name == "roads" else {}
        s = load(name, sp, n=min(n, 60) if name != "mnist1d" else None, seed=seed, root=root,
                 cache=False, **kw)
        for i, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if i >= len(s):
                ax.set_axis_off()
                continue
            x, y = s.images[i], s.labels[i]
            if x.dim() == 2:  # a time series, C×L
                ax.plot(x[0].numpy(), lw=0.8)
            else:
                ax.imshow(_tile(x).numpy(), cmap="gray", vmin=0, vmax=1)
                if y.dim() == 2:  # a segmentation mask
                    ax.contour(y.numpy(), levels=[0.5], colors="magenta", linewidths=0.6)
            label = "" if y.dim() == 2 else s.classes[int(y)] if s.classes else str(int(y))
            extra = ""
            if "angle" in s.params and s.params["angle"].dim() == 1:
                extra = f" {float(s.params['angle'][i]):+.0f}°"
            ax.set_title(f"{label}{extra}", fontsize=7, pad=2)
        row[0].text(-0.08, 0.5, name, transform=row[0].transAxes, fontsize=7, ha="right",
                    va="center")
    fig.suptitle(f"stnlib.data preview ({split} split, seed {seed})", fontsize=9)
    # a fixed left margin for the names (tight_layout cannot fit long names and warns)
    fig.subplots_adjust(left=0.14, right=0.995, bottom=0.01, top=1 - 0.3 / len(names),
                        hspace=0.45, wspace=0.05)
    return save_figure(fig, out, dpi=90)
