"""CIFAR-10 (Krizhevsky 2009) for users with a local copy or internet; never needed by default.

Read by ``torchvision.datasets.CIFAR10`` from ``<data root>/cifar-10-batches-py``
(the official python pickle batches: ``data_batch_1`` … ``data_batch_5``,
``test_batch``, ``batches.meta``). torchvision checks each batch's md5; with
``download=True`` (internet needed) it fetches and verifies the archive.
"""

from __future__ import annotations

import torch

from . import fetch as _fetch
from .samples import Samples

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
SPLITS = ("train", "test")


def cifar10(split: str = "train", *, root=None, download: bool = False,
            check_integrity: bool = True) -> Samples:
    """CIFAR-10 as ``Samples``: images N×3×32×32 float in [0, 1], labels 0-9.

    Args:
        split: ``"train"`` (50 000) or ``"test"`` (10 000).
        root: data root (default :func:`stnlib.data.fetch.data_root`).
        download: let torchvision download it (needs internet).
        check_integrity: verify torchvision's md5 of every batch file (set
            False only for test fixtures, whose bytes differ from the real ones).
    Returns:
        ``Samples`` with ``images`` float32 N×3×32×32 in [0, 1] and ``labels`` int64 N in 0-9.
    Raises:
        FileNotFoundError: with instructions, when the batches are not there.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} for cifar10; expected one of "
                         f"{', '.join(map(repr, SPLITS))}")
    from torchvision import datasets

    root = str(_fetch.data_root(root))

    class _CIFAR10(datasets.CIFAR10):
        if not check_integrity:  # torchvision checks md5s in these two places
            meta = {**datasets.CIFAR10.meta, "md5": None}

            def _check_integrity(self) -> bool:
                return True

    try:
        ds = _CIFAR10(root, train=split == "train", download=download)
    except RuntimeError as e:
        raise FileNotFoundError(
            f"CIFAR-10 not found or corrupt in {root}/cifar-10-batches-py ({e}). Call "
            "stnlib.data.cifar10(download=True) with internet, or extract "
            f"cifar-10-python.tar.gz there by hand.") from e
    images = torch.as_tensor(ds.data).permute(0, 3, 1, 2).float().div_(255)
    return Samples(images, torch.as_tensor(ds.targets, dtype=torch.int64), name="cifar10",
                   split=split, classes=CLASSES)
