"""stnlib.data.datasets: MNIST as torchvision reads the verified files (issue 25, mutation run of
2026-12-05): the arrays of each split, the float conversion, the seeded subset rule written out
(randperm of a generator seeded with seed + 7919, the first n, sorted), what ``mnist`` returns field by
field, and every error message exactly. Fashion-MNIST needs a Debian package, so only its names are
tested here."""

import re

import pytest
import torch

from stnlib.data import datasets as D
from stnlib.data import fetch


def test_raw_digits_are_torchvisions_reading_of_the_files():
    from torchvision import datasets

    root = str(fetch.data_root(None))
    images, labels = D.raw_digits("test")
    ref = datasets.MNIST(root, train=False, download=False)
    assert torch.equal(images, ref.data) and torch.equal(labels, ref.targets)
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    train_images, train_labels = D.raw_digits()  # the default split is train
    assert train_images.shape == (60000, 28, 28) and train_labels[:5].tolist() == [5, 0, 4, 1, 9]


def test_raw_digits_names_a_bad_split():
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown split 'val' for mnist; expected one of 'train', 'test'") + "$"):
        D.raw_digits("val")
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown split 'dev' for fashion-mnist; expected one of 'train', 'test'") + "$"):
        D.raw_digits("dev", dataset="fashion-mnist")


def test_as_float():
    u8 = torch.tensor([[[0, 255], [51, 128]]], dtype=torch.uint8)
    x = D.as_float(u8)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    torch.testing.assert_close(x[0, 0], torch.tensor([[0.0, 1.0], [0.2, 128 / 255]]))
    four = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    assert D.as_float(four).shape == (2, 3, 4, 4)


@pytest.mark.parametrize("total, n, seed", [(10, 3, 0), (100, 40, 5), (7, 6, 123)])
def test_subset_index_is_the_documented_draw(total, n, seed):
    g = torch.Generator().manual_seed(seed + 7919)
    expected = torch.randperm(total, generator=g)[:n].sort().values
    assert torch.equal(D.subset_index(total, n, seed), expected)


def test_subset_index_all_and_errors():
    assert torch.equal(D.subset_index(5, None, 3), torch.arange(5))
    assert torch.equal(D.subset_index(5, 5, 3), torch.arange(5))
    assert len(D.subset_index(5, 1, 0)) == 1
    for bad in (0, 6, -1, True, 2.0):
        with pytest.raises(ValueError, match="^" + re.escape(
                f"n must be an int in 1..5 (or None for all), got {bad!r}") + "$"):
            D.subset_index(5, bad, 0)


def test_mnist_field_by_field():
    images, labels = D.raw_digits("test")
    s = D.mnist("test", n=50, seed=4)
    index = D.subset_index(10000, 50, 4)
    assert torch.equal(s.params["index"], index)
    assert torch.equal(s.images, images[index].float()[:, None] / 255)
    assert torch.equal(s.labels, labels[index])
    assert (s.name, s.split, s.classes) == ("mnist", "test", tuple("0123456789"))
    s.labels[0] = 99  # a copy: the cached arrays stay as they are
    assert D.raw_digits("test")[1][index[0]] != 99
    whole = D.mnist("test")
    assert len(whole) == 10000 and torch.equal(whole.params["index"], torch.arange(10000))
    assert D.mnist(n=3).split == "train" and torch.equal(D.mnist(n=3).params["index"], D.subset_index(60000, 3, 0))


def test_the_class_names():
    assert D.MNIST_CLASSES == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    assert D.FASHION_CLASSES[0] == "T-shirt/top" and D.FASHION_CLASSES[-1] == "Ankle boot"
    assert len(D.FASHION_CLASSES) == 10 and D.SPLITS == ("train", "test")


def test_the_dataset_name_and_root_reach_the_reader(monkeypatch, tmp_path):
    seen = []

    def arrays(dataset, train, root):
        seen.append((dataset, train, root))
        return torch.zeros(4, 28, 28, dtype=torch.uint8), torch.tensor([1, 2, 3, 4])

    monkeypatch.setattr(D, "_arrays", arrays)
    D.raw_digits("test", dataset="fashion-mnist", root=tmp_path)
    assert seen == [("fashion-mnist", False, str(fetch.data_root(tmp_path)))]
    s = D.mnist("train", n=2, seed=1, root=tmp_path, dataset="fashion-mnist")
    assert seen[-1] == ("fashion-mnist", True, str(fetch.data_root(tmp_path)))
    assert s.classes == D.FASHION_CLASSES and s.name == "fashion-mnist" and len(s) == 2
    f = D.fashion_mnist("test", n=3, seed=2, root=tmp_path)
    assert seen[-1] == ("fashion-mnist", False, str(fetch.data_root(tmp_path)))
    assert f.name == "fashion-mnist" and f.split == "test" and torch.equal(f.params["index"], D.subset_index(4, 3, 2))
    assert len(D.fashion_mnist(root=tmp_path)) == 4 and seen[-1][1] is True
    assert torch.equal(D.fashion_mnist(n=2, root=tmp_path).params["index"], D.subset_index(4, 2, 0))  # seed 0
