"""The KITTI road benchmark (Fritsch et al. 2013), read from a local copy of ``data_road``.

Layout (as the official ``data_road.zip`` unpacks)::

    <data root>/kitti/data_road/training/image_2/um_000000.png        RGB frames
    <data root>/kitti/data_road/training/gt_image_2/um_road_000000.png ground truth

The ground truth paints road magenta (255, 0, 255); everything else (red
background, black outside the valid area) is not road. Abou Chacra & Zelek uses the
289 labelled training frames split 150 / 79 / 60 into train / val / test;
we draw that split with a fixed permutation of the sorted file names.
Nothing in the default course path needs KITTI: :mod:`stnlib.data.roads`
generates a stand-in.
"""

from __future__ import annotations

import torch

from . import fetch as _fetch
from .samples import Samples

SPLIT_SIZES = {"train": 150, "val": 79, "test": 60}
SPLIT_SEED = 0
ROAD_RGB = (255, 0, 255)


def kitti_road(split: str = "train", *, size: int | tuple[int, int] = 256, root=None) -> Samples:
    """KITTI road frames resized to ``size`` and their road masks.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"`` (a fixed partition of the labelled frames).
        size: the output side in pixels, or ``(H, W)``.
        root: data root holding the local copy of KITTI road (default
            :func:`stnlib.data.fetch.data_root`).

    Returns ``Samples`` with images N×3×H×W float in [0, 1] (bilinear,
    antialiased resize), labels N×H×W int64 (1 road, 0 not; nearest resize) and
    ``params["index"]`` (position in the sorted list of labelled frames).
    With fewer than 289 frames (a partial copy) the split keeps the paper's
    proportions.
    """
    if split not in SPLIT_SIZES:
        raise ValueError(f"unknown split {split!r} for kitti-road; expected one of "
                         f"{', '.join(map(repr, SPLIT_SIZES))}")
    import numpy as np
    from PIL import Image
    from torchvision.transforms.v2 import functional as TF

    def read_rgb(path) -> torch.Tensor:
        with Image.open(path) as im:
            return torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1)

    H, W = (size, size) if isinstance(size, int) else tuple(size)
    base = _fetch.data_root(root) / "kitti" / "data_road" / "training"
    gts = sorted((base / "gt_image_2").glob("*_road_*.png"))
    if not gts:
        raise FileNotFoundError(
            f"no KITTI road ground truth in {base / 'gt_image_2'} (files *_road_*.png). "
            "Download data_road.zip from the KITTI road benchmark (registration needed) and "
            f"unpack it into {base.parent.parent}/; the course's default road data is "
            "stnlib.data.load('roads'), which needs no download.")
    pairs = []
    for gt in gts:
        cat, _, num = gt.stem.split("_")
        img = base / "image_2" / f"{cat}_{num}.png"
        if not img.exists():
            raise FileNotFoundError(f"{gt.name} has no frame {img}")
        pairs.append((img, gt))
    total = len(pairs)
    order = torch.randperm(total, generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_train = round(total * SPLIT_SIZES["train"] / 289)
    n_val = round(total * SPLIT_SIZES["val"] / 289)
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
              "test": (n_train + n_val, total)}
    lo, hi = bounds[split]
    index = order[lo:hi].sort().values
    images, masks = [], []
    for i in index.tolist():
        img_path, gt_path = pairs[i]
        img = read_rgb(img_path).float().div_(255)
        gt = read_rgb(gt_path)
        road = ((gt[0] == ROAD_RGB[0]) & (gt[1] == ROAD_RGB[1]) & (gt[2] == ROAD_RGB[2]))
        images.append(TF.resize(img, [H, W], antialias=True).clamp(0, 1))
        masks.append(TF.resize(road[None].to(torch.uint8), [H, W],
                               interpolation=TF.InterpolationMode.NEAREST)[0].long())
    if images:
        x, y = torch.stack(images), torch.stack(masks)
    else:
        x, y = torch.zeros(0, 3, H, W), torch.zeros(0, H, W, dtype=torch.int64)
    return Samples(x, y, {"index": index}, name="kitti-road", split=split,
                   classes=("not road", "road"))
