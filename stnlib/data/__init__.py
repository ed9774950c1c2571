"""stnlib.data: genuine datasets, offline and verified, and every distortion the papers use.

One entry point::

    from stnlib import data
    train = data.load("mnist-rts", "train", seed=0, epoch=e)   # fresh distortions each epoch
    test = data.load("mnist-rts", "test")                      # fixed, cached, verified
    train.images, train.labels, train.params["angle"]

``data.names()`` lists the datasets and ``print(data.describe())`` says what
each is. Modules, one concept each:

* :mod:`~stnlib.data.fetch`        acquisition with sha256 checksums (MNIST, Fashion-MNIST)
* :mod:`~stnlib.data.datasets`     MNIST / Fashion-MNIST tensors via torchvision
* :mod:`~stnlib.data.distortions`  R, RTS, P, E, TC, clutter, time warp (batched, seeded)
* :mod:`~stnlib.data.catalog`      the named datasets, the paper choices, :func:`load`
* :mod:`~stnlib.data.cache`        fixed test sets on disk under a content hash
* :mod:`~stnlib.data.timeseries`   MNIST-1D, GunPoint, CBF, UCR sets (MIMIC-III note)
* :mod:`~stnlib.data.roads`        synthetic road scenes standing in for KITTI road
* :mod:`~stnlib.data.kitti`, :mod:`~stnlib.data.cifar`  real loaders for local copies
* :mod:`~stnlib.data.preview`      PNG grids of samples (``stn-course data preview``)
"""

from __future__ import annotations

from . import fetch
from .catalog import (
    CATALOG,
    describe,
    epochs,
    load,
    names,
    spec_of,
    wang_sweep,
    wang_sweep_spec,
)
from .cifar import cifar10
from .datasets import fashion_mnist, mnist, raw_digits
from .distortions import Affine, Clutter, Elastic, Projective, TimeWarp, distort
from .fetch import CHECKSUMS, FetchError, data_root, fetch_fashion_mnist, fetch_mnist
from .kitti import kitti_road
from .roads import RoadScene, road_scenes
from .samples import Samples
from .timeseries import MIMIC_NOTE, cbf, gunpoint, mnist1d, ucr


def mnist_r(split="train", **kw) -> Samples:
    """The Jaderberg et al. R set (``Samples``): ``load("mnist-r", split, **kw)``."""
    return load("mnist-r", split, **kw)


def mnist_rts(split="train", **kw) -> Samples:
    """The Jaderberg et al. RTS set (``Samples``): ``load("mnist-rts", split, **kw)``."""
    return load("mnist-rts", split, **kw)


def mnist_p(split="train", **kw) -> Samples:
    """The Jaderberg et al. P set (``Samples``): ``load("mnist-p", split, **kw)``."""
    return load("mnist-p", split, **kw)


def mnist_e(split="train", **kw) -> Samples:
    """The Jaderberg et al. E set (``Samples``): ``load("mnist-e", split, **kw)``."""
    return load("mnist-e", split, **kw)


def mnist_tc(split="train", **kw) -> Samples:
    """The Jaderberg et al. TC set (``Samples``): ``load("mnist-tc", split, **kw)``."""
    return load("mnist-tc", split, **kw)


def mnist_cluttered(split="train", **kw) -> Samples:
    """The Possatti & de Freitas cluttered MNIST (40×40, 10k/1k/1k).

    ``load("mnist-cluttered", split, **kw)``.
    """
    return load("mnist-cluttered", split, **kw)


def mnist_addition(split="train", **kw) -> Samples:
    """The MNIST addition set (2×42×42, 19 classes): ``load("mnist-addition", split, **kw)``."""
    return load("mnist-addition", split, **kw)


def mnist_two_digits(split="train", **kw) -> Samples:
    """The Wang (2018) two digits in 28×56: ``load("mnist-two-digits", split, **kw)``."""
    return load("mnist-two-digits", split, **kw)


__all__ = [
    "load", "names", "describe", "epochs", "spec_of", "wang_sweep_spec", "wang_sweep", "CATALOG",
    "Samples", "fetch", "fetch_mnist", "fetch_fashion_mnist", "FetchError", "CHECKSUMS",
    "data_root", "mnist", "fashion_mnist", "raw_digits", "mnist_r", "mnist_rts", "mnist_p",
    "mnist_e", "mnist_tc", "mnist_cluttered", "mnist_addition", "mnist_two_digits",
    "Affine", "Projective", "Elastic", "Clutter", "TimeWarp", "distort", "mnist1d", "cbf",
    "gunpoint", "ucr", "MIMIC_NOTE", "road_scenes", "RoadScene", "kitti_road", "cifar10",
]
