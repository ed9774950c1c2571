"""MNIST and Fashion-MNIST as tensors, read by torchvision from the verified files.

The IDX files are fetched and verified by :mod:`stnlib.data.fetch` (lazily, on
first use) and parsed by ``torchvision.datasets.MNIST`` / ``FashionMNIST``
with ``download=False``: the course never parses IDX by hand.
"""

from __future__ import annotations

import functools

import torch

from . import fetch as _fetch
from .samples import Samples

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
SPLITS = ("train", "test")


@functools.lru_cache(maxsize=8)
def _arrays(dataset: str, train: bool, root: str) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision import datasets

    _fetch.fetch(dataset, root)
    cls = datasets.MNIST if dataset == "mnist" else datasets.FashionMNIST
    ds = cls(root, train=train, download=False)
    return ds.data, ds.targets


def raw_digits(split: str = "train", *, dataset: str = "mnist",
               root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The original images as uint8 N×28×28 and labels as int64 N (read-only: do not modify).

    Args:
        split: ``"train"`` (60 000) or ``"test"`` (10 000).
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        root: data root (default ``$STN_DATA`` or the repository's ``data/``); the files are
            fetched and verified there if missing.
    Returns:
        ``(images, labels)``: uint8 N×28×28 in 0-255 and int64 N in 0-9.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} for {dataset}; expected one of "
                         f"{', '.join(map(repr, SPLITS))}")
    return _arrays(dataset, split == "train", str(_fetch.data_root(root)))


def as_float(images_u8: torch.Tensor) -> torch.Tensor:
    """The images as float32 in [0, 1]: uint8 N×H×W → N×1×H×W (N×C×H×W stays N×C×H×W).

    Args:
        images_u8: uint8 images, N×H×W or N×C×H×W, values 0-255.
    """
    x = images_u8.float().div_(255)
    return x.unsqueeze(1) if x.dim() == 3 else x


def mnist(split: str = "train", *, n: int | None = None, seed: int = 0, root=None,
          dataset: str = "mnist") -> Samples:
    """Plain MNIST (or Fashion-MNIST): images N×1×28×28 in [0, 1], labels 0-9.

    Args:
        split: ``"train"`` (60 000) or ``"test"`` (10 000).
        n: keep a random subset of this size, in index order (default: all).
        seed: chooses that subset.
        root: data root (default ``$STN_DATA`` or the repository's ``data/``).
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
    Returns:
        ``Samples`` with ``images`` float32 N×1×28×28, ``labels`` int64 N and
        ``params["index"]``, the source indices.
    """
    images, labels = raw_digits(split, dataset=dataset, root=root)
    index = subset_index(len(labels), n, seed)
    classes = MNIST_CLASSES if dataset == "mnist" else FASHION_CLASSES
    return Samples(as_float(images[index]), labels[index].clone(), {"index": index},
                   name=dataset, split=split, classes=classes)


def fashion_mnist(split: str = "train", *, n: int | None = None, seed: int = 0,
                  root=None) -> Samples:
    """Fashion-MNIST (Xiao et al. 2017) in the layout of :func:`mnist`.

    Args:
        split: ``"train"`` (60 000) or ``"test"`` (10 000).
        n: keep a random subset of this size (default: all).
        seed: chooses that subset.
        root: data root (default ``$STN_DATA`` or the repository's ``data/``).
    Returns:
        ``Samples``: images float32 N×1×28×28 in [0, 1], labels 0-9 (the ten garment classes).
    """
    return mnist(split, n=n, seed=seed, root=root, dataset="fashion-mnist")


def subset_index(total: int, n: int | None, seed: int) -> torch.Tensor:
    """The sorted indices of a random size-``n`` subset of ``range(total)`` (all if ``n`` is None).

    Args:
        total: the size of the whole set.
        n: the subset's size, 1..``total``, or None for all.
        seed: chooses the subset (the same seed, the same subset).
    """
    if n is None or n == total:
        return torch.arange(total)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= total:
        raise ValueError(f"n must be an int in 1..{total} (or None for all), got {n!r}")
    g = torch.Generator().manual_seed(int(seed) + 7919)
    return torch.randperm(total, generator=g)[:n].sort().values
