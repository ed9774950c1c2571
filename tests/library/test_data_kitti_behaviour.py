"""stnlib.data.kitti on a tiny copy of KITTI road in its real on-disk layout (PNG frames and gt PNGs).

Frames are random RGB PNGs; ground truths paint road magenta (255, 0, 255), the rest red or black,
with near-magenta pixels that are not road. The loaded pixels and masks must equal what was written.
"""

import re

import numpy as np
import pytest
import torch
from PIL import Image

from stnlib.data.kitti import kitti_road

H0, W0 = 6, 8


def frame(seed):
    return np.random.default_rng(seed).integers(0, 256, (H0, W0, 3), dtype=np.uint8)


def ground_truth(seed):
    """(gt RGB, road mask): magenta road, red background, black outside, near-magenta not road."""
    rng = np.random.default_rng(100 + seed)
    road = rng.random((H0, W0)) < 0.5
    gt = np.zeros((H0, W0, 3), np.uint8)
    gt[..., 0] = 255  # red background
    gt[road] = (255, 0, 255)
    gt[0, 0] = (0, 0, 0)
    road[0, 0] = False
    gt[0, 1], road[0, 1] = (254, 0, 255), False
    gt[0, 2], road[0, 2] = (255, 1, 255), False
    gt[0, 3], road[0, 3] = (255, 0, 254), False
    gt[1, 0], road[1, 0] = (255, 0, 255), True
    return gt, road


STEMS = ["um_000000", "um_000001", "umm_000000", "umm_000003", "uu_000000", "uu_000002",
         "um_000002", "umm_000001", "uu_000001", "um_000003"]


def make_kitti(root, stems=STEMS):
    base = root / "kitti" / "data_road" / "training"
    (base / "image_2").mkdir(parents=True)
    (base / "gt_image_2").mkdir(parents=True)
    truth = {}
    for k, stem in enumerate(stems):
        cat, num = stem.split("_")
        img = frame(k)
        gt, road = ground_truth(k)
        Image.fromarray(img).save(base / "image_2" / f"{stem}.png")
        Image.fromarray(gt).save(base / "gt_image_2" / f"{cat}_road_{num}.png")
        # KITTI also ships lane ground truth for um: never read as road
        Image.fromarray(np.zeros_like(gt)).save(base / "gt_image_2" / f"{cat}_lane_{num}.png")
        truth[stem] = (img, road)
    order = sorted(stems, key=lambda s: f"{s.split('_')[0]}_road_{s.split('_')[1]}.png")
    return base, [truth[s] for s in order]


def test_pixels_and_masks_equal_what_was_written(tmp_path):
    _, truth = make_kitti(tmp_path)
    parts = {sp: kitti_road(sp, size=(H0, W0), root=tmp_path) for sp in ("train", "val", "test")}
    # 10 frames: round(10*150/289) = 5 train, round(10*79/289) = 3 val, the other 2 test
    assert [len(parts[sp]) for sp in ("train", "val", "test")] == [5, 3, 2]
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    assert parts["train"].params["index"].tolist() == sorted(perm[:5].tolist())
    assert parts["val"].params["index"].tolist() == sorted(perm[5:8].tolist())
    assert parts["test"].params["index"].tolist() == sorted(perm[8:].tolist())
    for sp, s in parts.items():
        assert s.name == "kitti-road" and s.split == sp and s.classes == ("not road", "road")
        assert s.images.dtype == torch.float32 and s.labels.dtype == torch.int64
        assert s.images.shape == (len(s), 3, H0, W0) and s.labels.shape == (len(s), H0, W0)
        for row, i in enumerate(s.params["index"].tolist()):
            img, road = truth[i]
            expect = torch.from_numpy(img).permute(2, 0, 1).float() / 255
            assert torch.equal(s.images[row], expect)
            assert torch.equal(s.labels[row], torch.from_numpy(road).long())


def test_resize_bilinear_antialiased_images_nearest_masks(tmp_path):
    _, truth = make_kitti(tmp_path)
    s = kitti_road("val", size=(3, 4), root=tmp_path)
    for row, i in enumerate(s.params["index"].tolist()):
        img, road = truth[i]
        x = torch.from_numpy(img).permute(2, 0, 1).float()[None] / 255
        expect = torch.nn.functional.interpolate(x, size=(3, 4), mode="bilinear", antialias=True,
                                                 align_corners=False)[0]
        torch.testing.assert_close(s.images[row], expect, atol=1e-6, rtol=0)
        assert torch.equal(s.labels[row], torch.from_numpy(road[::2, ::2]).long())
    square = kitti_road("test", size=4, root=tmp_path)
    assert square.images.shape == (2, 3, 4, 4) and square.labels.shape == (2, 4, 4)
    assert set(square.labels.unique().tolist()) <= {0, 1}


def test_default_size_and_root(tmp_path, monkeypatch):
    make_kitti(tmp_path, ["um_000000"])
    monkeypatch.setenv("STN_DATA", str(tmp_path))
    s = kitti_road()
    # one frame: round(150/289) = 1 train, round(79/289) = 0 val, 0 test
    assert s.images.shape == (1, 3, 256, 256) and s.labels.shape == (1, 256, 256)
    assert s.split == "train" and s.params["index"].tolist() == [0]
    assert s.images.min() >= 0 and s.images.max() <= 1
    for sp in ("val", "test"):
        e = kitti_road(sp, size=(5, 7))
        assert e.images.shape == (0, 3, 5, 7) and e.images.dtype == torch.float32
        assert e.labels.shape == (0, 5, 7) and e.labels.dtype == torch.int64
        assert e.params["index"].tolist() == [] and e.split == sp


def test_errors_name_the_missing_files(tmp_path):
    with pytest.raises(ValueError, match=re.escape(
            "unknown split 'dev' for kitti-road; expected one of 'train', 'val', 'test'")):
        kitti_road("dev", root=tmp_path)
    base = tmp_path / "kitti" / "data_road" / "training"
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"no KITTI road ground truth in {base / 'gt_image_2'} (files *_road_*.png). "
            "Download data_road.zip from the KITTI road benchmark (registration needed) and "
            f"unpack it into {tmp_path / 'kitti'}/; the course's default road data is "
            "stnlib.data.load('roads'), which needs no download.")):
        kitti_road("train", root=tmp_path)
    make_kitti(tmp_path, ["um_000000", "uu_000004"])
    (base / "image_2" / "uu_000004.png").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"uu_road_000004.png has no frame {base / 'image_2' / 'uu_000004.png'}")):
        kitti_road("test", root=tmp_path)


def test_split_sizes_keep_the_papers_proportions(tmp_path):
    """86 frames: round(86*150/289) = 45 train, round(86*79/289) = 24 val, 17 test (the paper: 150/79/60)."""
    base = tmp_path / "kitti" / "data_road" / "training"
    (base / "image_2").mkdir(parents=True)
    (base / "gt_image_2").mkdir(parents=True)
    px = np.zeros((2, 2, 3), np.uint8)
    for k in range(86):
        Image.fromarray(px).save(base / "image_2" / f"uu_{k:06d}.png")
        Image.fromarray(px).save(base / "gt_image_2" / f"uu_road_{k:06d}.png")
    parts = [kitti_road(sp, size=2, root=tmp_path).params["index"] for sp in ("train", "val", "test")]
    assert [len(p) for p in parts] == [45, 24, 17]
    assert sorted(torch.cat(parts).tolist()) == list(range(86))


def test_any_png_mode_is_read_as_rgb_and_white_stays_at_one(tmp_path):
    """A grey frame counts as RGB with equal channels; a white frame resized stays at most 1 (the
    antialiased resize's float sums can exceed 1 by an ulp: clamped)."""
    base = tmp_path / "kitti" / "data_road" / "training"
    (base / "image_2").mkdir(parents=True)
    (base / "gt_image_2").mkdir(parents=True)
    grey = np.arange(7 * 11, dtype=np.uint8).reshape(7, 11) * 3
    Image.fromarray(grey, mode="L").save(base / "image_2" / "um_000000.png")
    Image.fromarray(np.full((7, 11, 3), 255, np.uint8)).save(base / "image_2" / "um_000001.png")
    gt = np.zeros((7, 11, 3), np.uint8)
    gt[3:] = (255, 0, 255)
    for k in range(2):
        Image.fromarray(gt).save(base / "gt_image_2" / f"um_road_{k:06d}.png")
    s = kitti_road("train", size=(7, 11), root=tmp_path)  # 2 frames: 1 train (round(0.52*2)=1)
    (i,) = s.params["index"].tolist()
    assert i == 0  # randperm(2) seeded 0 is [0, 1]: the grey frame trains, the white one tests
    assert torch.equal(s.images[0], torch.from_numpy(grey).float().div(255).expand(3, 7, 11))
    small = torch.cat([kitti_road(sp, size=(3, 4), root=tmp_path).images for sp in ("train", "val", "test")])
    white = small[1]
    assert white.max().item() <= 1.0  # unclamped, 1 + 2**-22 here
    torch.testing.assert_close(white, torch.ones(3, 3, 4), atol=1e-6, rtol=0)
    both = kitti_road("train", size=(7, 11), root=tmp_path)
    assert torch.equal(both.labels[0], torch.from_numpy(np.arange(7)[:, None] >= 3).expand(7, 11).long())
