"""stnlib.data.catalog's builders against their documented recipes, rebuilt here from the public pieces
(issue 25, mutation run of 2026-12-05): a distorted set is the seeded subset of the source digits
distorted by the entry's spec with the generator of (stream, split, seed, epoch); a pair set permutes the
digits with seed + 15485863, pairs consecutive ones and distorts each half in turn, side by side or in
two channels; a series set is the seeded subset of its loader's split, time-warped with its generator;
the sweeps' specs; and every error message exactly."""

import re

import pytest
import torch

from stnlib.data import catalog as C
from stnlib.data import datasets
from stnlib.data import distortions as D
from stnlib.data import timeseries as T


@pytest.mark.parametrize("name, seed, epoch", [("mnist-rts", 2, 0), ("mnist-r", 0, 3), ("mnist-tc", 5, 1),
                                               ("mnist-rot-wang", 1, 0)])
def test_a_distorted_set_is_its_recipe(name, seed, epoch):
    s = C.load(name, "test", n=7, seed=seed, epoch=epoch, cache=False)
    images, labels = datasets.raw_digits("test")
    e = C.entry(name)
    index = datasets.subset_index(10000, 7, seed)
    x = datasets.as_float(images[index])
    g = C._generator(e.stream or name, "test", seed, epoch)
    out, params = (D.clutter(x, e.spec, g) if isinstance(e.spec, D.Clutter) else D.distort(x, e.spec, g))
    assert torch.equal(s.images, out) and torch.equal(s.labels, labels[index])
    assert torch.equal(s.params["index"], index)
    assert set(s.params) == {*params, "index"} and all(torch.equal(s.params[k], v) for k, v in params.items())
    assert (s.name, s.split, s.classes) == (name, "test", datasets.MNIST_CLASSES)


def test_the_plain_set_and_the_generator():
    s = C.load("mnist", "train", n=4, seed=9, cache=False)
    images, labels = datasets.raw_digits("train")
    index = datasets.subset_index(60000, 4, 9)
    assert torch.equal(s.images, datasets.as_float(images[index])) and set(s.params) == {"index"}
    g = C._generator("x", "test", 1, 2)
    import hashlib
    digest = hashlib.sha256(b"x|test|1|2").digest()
    assert torch.equal(torch.rand(3, generator=g),
                       torch.rand(3, generator=torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)))


def test_a_set_with_a_validation_split_holds_it_out_of_training():
    e = C.entry("mnist-cluttered")
    perm = torch.randperm(60000, generator=torch.Generator().manual_seed(4 + 104729))
    val = C._source_index(e, "val", 5, 4, 60000)
    train = C._source_index(e, "train", 6, 4, 60000)
    assert torch.equal(val, perm[:1000][:5].sort().values) and torch.equal(train, perm[1000:][:6].sort().values)
    assert len(C._source_index(e, "val", None, 4, 60000)) == 1000
    assert len(C._source_index(e, "train", None, 4, 60000)) == 59000
    with pytest.raises(ValueError, match="^" + re.escape("n must be an int in 1..1000 for split 'val', got 1001") + "$"):
        C._source_index(e, "val", 1001, 4, 60000)
    for bad in (0, True, 2.0):
        with pytest.raises(ValueError, match="^" + re.escape(f"n must be an int in 1..59000 for split 'train', got {bad!r}")):
            C._source_index(e, "train", bad, 4, 60000)
    s = C.load("mnist-cluttered", "val", n=3, seed=4, cache=False)
    assert torch.equal(s.params["index"], C._source_index(e, "val", 3, 4, 60000))


@pytest.mark.parametrize("name, dim", [("mnist-addition", 1), ("mnist-two-digits", 3)])
def test_a_pair_set_is_its_recipe(name, dim):
    s = C.load(name, "test", n=6, seed=3, epoch=1, cache=False)
    images, labels = datasets.raw_digits("test")
    e = C.entry(name)
    perm = torch.randperm(10000, generator=torch.Generator().manual_seed(3 + 15485863))
    ia, ib = perm[:6], perm[1:7]
    g = C._generator(e.stream or name, "test", 3, 1)
    xa, pa = D.distort(datasets.as_float(images[ia]), e.spec, g)
    xb, pb = D.distort(datasets.as_float(images[ib]), e.spec, g)
    assert torch.equal(s.images, torch.cat([xa, xb], dim))
    assert torch.equal(s.params["digits"], torch.stack([labels[ia], labels[ib]], 1))
    assert torch.equal(s.labels, labels[ia] + labels[ib]) and torch.equal(s.params["index"], torch.stack([ia, ib], 1))
    for k in pa:
        assert torch.equal(s.params[k], torch.stack([pa[k], pb[k]], 1))
    assert (s.name, s.split, s.classes) == (name, "test", tuple(str(i) for i in range(19)))


def test_pair_sets_sizes_and_errors():
    assert len(C.load("mnist-addition", "test", cache=False, angle=0.0, scale=(1.0, 1.0))) == 9999
    for bad in (0, 10000, True):
        with pytest.raises(ValueError, match="^" + re.escape(f"n must be an int in 1..9999, got {bad!r}") + "$"):
            C.load("mnist-addition", "test", n=bad, cache=False)


def test_a_series_set_is_its_recipe():
    s = C.load("gunpoint-warped", "train", n=10, seed=1, epoch=2)
    base = T.gunpoint("train")
    index = datasets.subset_index(len(base), 10, 1)
    warped, params = D.timewarp(base.series[index], C.entry("gunpoint-warped").spec,
                                C._generator("gunpoint-warped", "train", 1, 2))
    assert torch.equal(s.series, warped) and torch.equal(s.labels, base.labels[index])
    assert s.name == "gunpoint-warped" and all(torch.equal(s.params[k], v) for k, v in params.items())
    plain = C.load("gunpoint", "test", n=5, seed=2)
    assert torch.equal(plain.series, T.gunpoint("test").series[datasets.subset_index(150, 5, 2)])
    assert plain.name == "gunpoint" and "scale" not in plain.params
    cbf = C.load("cbf", "train", seed=3)
    assert torch.equal(cbf.series, T.cbf("train", seed=3).series) and cbf.name == "cbf"


def test_the_sweeps():
    assert C.wang_sweep_spec("rotation", 120) == {"angle": 120.0, "scale": (1.0, 1.0), "shift": 0.0, "inside": False}
    assert C.wang_sweep_spec("translation", 0.25) == {"angle": 0.0, "scale": (1.0, 1.0), "shift": 7.0, "inside": False}
    assert C.wang_sweep_spec("scale", 0.5) == {"angle": 0.0, "scale": (0.5, 1.5), "shift": 0.0, "inside": False}
    assert C.wang_sweep_spec("rotation", 180) and C.wang_sweep_spec("scale", 0.99) and C.wang_sweep_spec("translation", 1)
    for kind, bad, limit in (("rotation", 181, 180.0), ("translation", -0.1, 1.0), ("scale", 1.0, 0.99),
                             ("rotation", "9", 180.0)):
        with pytest.raises(ValueError, match="^" + re.escape(
                f"amount for a {kind} sweep must be in [0, {limit}], got {bad!r}") + "$"):
            C.wang_sweep_spec(kind, bad)
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown sweep 'shear'; expected one of 'rotation', 'translation', 'scale'") + "$"):
        C.wang_sweep_spec("shear", 1)
    s = C.wang_sweep("rotation", 90, n=5, seed=2)
    ref = C.load("mnist-rts-wang", "test", n=5, seed=2, cache=False, angle=90.0, scale=(1.0, 1.0), shift=0.0,
                 inside=False)
    assert torch.equal(s.images, ref.images) and s.params["angle"].abs().max() <= 90


def test_epochs_are_fresh_draws_of_the_same_digits():
    it = C.epochs("mnist-r", seed=1, start=2, n=4)
    first, second = next(it), next(it)
    assert torch.equal(first.images, C.load("mnist-r", "train", n=4, seed=1, epoch=2).images)
    assert torch.equal(second.images, C.load("mnist-r", "train", n=4, seed=1, epoch=3).images)
    assert torch.equal(first.params["index"], second.params["index"])


def test_describe_and_load_errors():
    lines = C.describe().splitlines()
    assert len(lines) == len(C.CATALOG)
    e = C.entry("mnist-rts")
    assert lines[list(C.CATALOG).index("mnist-rts")] == f"{'mnist-rts':24s} {'train/test':16s} {e.about}"
    with pytest.raises(ValueError, match="^" + re.escape("unknown split 'val' for 'mnist-r'; expected one of 'train', 'test'")):
        C.load("mnist-r", "val")
    for arg in ("seed", "epoch"):
        with pytest.raises(ValueError, match="^" + re.escape(f"{arg} must be an int >= 0, got -1") + "$"):
            C.load("mnist-r", "test", **{arg: -1})
    with pytest.raises(ValueError, match="^" + re.escape("dataset 'mnist' has no distortion; unexpected options angle")):
        C.load("mnist", "test", angle=3)
    with pytest.raises(ValueError, match="^" + re.escape("unknown option(s) 'colour' for 'mnist-r'; its Affine has ")):
        C.load("mnist-r", "test", colour=3)
