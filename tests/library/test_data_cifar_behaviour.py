"""stnlib.data.cifar on tiny CIFAR-10 python pickle batches in the official on-disk format.

``cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``: each batch a latin-1 pickle
with ``data`` (N×3072 uint8, the red plane, then green, then blue, each 32×32 row-major) and
``labels``. The loaded pixels and labels must equal what was written.
"""

import hashlib
import pickle
import re

import numpy as np
import pytest
import torch

from stnlib.data.cifar import CLASSES, cifar10

BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def make_cifar(root, per_batch=2):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written = {}
    for k, name in enumerate([*BATCHES, "test_batch"]):
        rng = np.random.default_rng(k)
        data = rng.integers(0, 256, (per_batch + (k == 5), 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, len(data))]
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name.encode(), "data": data, "labels": labels}, f)
        written[name] = (data, labels)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(CLASSES), "num_vis": 3072}, f)
    return folder, written


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def expected(written, names):
    data = np.concatenate([written[n][0] for n in names])
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).astype(np.float32) / 255)
    labels = torch.tensor([lab for n in names for lab in written[n][1]], dtype=torch.int64)
    return images, labels


def test_train_and_test_pixels_and_labels_equal_what_was_written(tmp_path):
    _, written = make_cifar(tmp_path)
    train = cifar10("train", root=tmp_path, check_integrity=False)
    test = cifar10("test", root=str(tmp_path), check_integrity=False)
    for s, names, sp in ((train, BATCHES, "train"), (test, ["test_batch"], "test")):
        images, labels = expected(written, names)
        assert s.images.dtype == torch.float32 and s.labels.dtype == torch.int64
        assert s.images.shape == images.shape
        assert torch.equal(s.images, images)
        assert torch.equal(s.labels, labels)
        assert s.name == "cifar10" and s.split == sp and s.classes == CLASSES
    assert len(train) == 10 and len(test) == 3
    # pixel (row 0, column 1) of image 0: byte 1 (red), 1025 (green), 2049 (blue)
    d = written["data_batch_1"][0][0]
    assert (train.images[0, :, 0, 1] * 255).round().tolist() == [d[1], d[1025], d[2049]]


def test_default_root_and_split(tmp_path, monkeypatch):
    _, written = make_cifar(tmp_path, per_batch=1)
    monkeypatch.setenv("STN_DATA", str(tmp_path))
    s = cifar10(check_integrity=False)
    assert s.split == "train" and torch.equal(s.labels, expected(written, BATCHES)[1])


def test_md5s_are_checked_by_default(tmp_path, monkeypatch):
    from torchvision import datasets

    folder, written = make_cifar(tmp_path)
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[n, md5(folder / n)] for n in BATCHES])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta,
                                                   "md5": md5(folder / "batches.meta")})
    s = cifar10("test", root=tmp_path)  # every md5 right: loads
    assert torch.equal(s.labels, expected(written, ["test_batch"])[1])
    meta = (folder / "batches.meta").read_bytes()
    (folder / "batches.meta").write_bytes(meta + b"\0")  # the metadata file corrupted
    with pytest.raises(FileNotFoundError, match="Dataset metadata file not found or corrupted"):
        cifar10("test", root=tmp_path)
    assert len(cifar10("test", root=tmp_path, check_integrity=False)) == 3
    (folder / "batches.meta").write_bytes(meta)
    raw = bytearray((folder / "data_batch_3").read_bytes())
    raw[-20] ^= 1
    (folder / "data_batch_3").write_bytes(bytes(raw))  # one bit of a batch flipped
    with pytest.raises(FileNotFoundError) as e:
        cifar10("test", root=tmp_path)
    assert str(e.value) == (
        f"CIFAR-10 not found or corrupt in {tmp_path}/cifar-10-batches-py (Dataset not found or "
        "corrupted. You can use download=True to download it). Call "
        "stnlib.data.cifar10(download=True) with internet, or extract "
        "cifar-10-python.tar.gz there by hand.")
    assert isinstance(e.value.__cause__, RuntimeError)
    assert len(cifar10("test", root=tmp_path, check_integrity=False)) == 3


def test_missing_batches_and_download(tmp_path, monkeypatch):
    from torchvision import datasets

    with pytest.raises(FileNotFoundError, match=re.escape(
            f"CIFAR-10 not found or corrupt in {tmp_path}/cifar-10-batches-py (")):
        cifar10("train", root=tmp_path)
    calls = []

    def download(self):  # what torchvision's download does: the batches appear under root
        calls.append(self.root)
        make_cifar(tmp_path)

    monkeypatch.setattr(datasets.CIFAR10, "download", download)
    s = cifar10("train", root=tmp_path, download=True, check_integrity=False)
    assert calls == [str(tmp_path)] and len(s) == 10
    cifar10("train", root=tmp_path, check_integrity=False)
    assert len(calls) == 1  # download=False never downloads


def test_unknown_split(tmp_path):
    with pytest.raises(ValueError, match=re.escape(
            "unknown split 'val' for cifar10; expected one of 'train', 'test'")):
        cifar10("val", root=tmp_path)


def test_empty_batches_still_give_int64_labels(tmp_path):
    make_cifar(tmp_path, per_batch=0)  # five empty training batches (the test batch has one image)
    s = cifar10("train", root=tmp_path, check_integrity=False)
    assert s.images.shape == (0, 3, 32, 32) and s.images.dtype == torch.float32
    assert s.labels.shape == (0,) and s.labels.dtype == torch.int64
