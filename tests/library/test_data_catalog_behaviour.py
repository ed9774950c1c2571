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
    assert not torch.equal(C.load("cbf", "train", seed=4).series, cbf.series)  # another seed, another draw


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


def test_load_and_sweep_defaults_and_the_cache_key(monkeypatch, tmp_path):
    # the default seed is 0, for load, epochs and wang_sweep; amount 0 is a valid sweep (the factor off)
    ref = C.load("mnist-r", "train", n=3, seed=0, cache=False)
    assert torch.equal(C.load("mnist-r", "train", n=3, cache=False).images, ref.images)
    assert torch.equal(next(C.epochs("mnist-r", n=3, cache=False)).images, ref.images)
    sweep = C.load("mnist-rts-wang", "test", n=3, seed=0, cache=False, **C.wang_sweep_spec("scale", 0.2))
    assert torch.equal(C.wang_sweep("scale", 0.2, n=3).images, sweep.images)
    assert C.wang_sweep_spec("rotation", 0) == {"angle": 0.0, "scale": (1.0, 1.0), "shift": 0.0, "inside": False}
    assert C.wang_sweep_spec("scale", 0.0)["scale"] == (1.0, 1.0)
    # a cached set is stored under its documented description, in <root>/cache
    seen = []

    def fake_cached(folder, stem, config, make):
        seen.append((folder, stem, config))
        return "made"

    monkeypatch.setattr(C._cache, "cached", fake_cached)
    for name, stream in (("mnist-rot-wang", "mnist-004-rot"), ("mnist-r", "mnist-r")):
        assert C.load(name, "test", n=4, seed=5, epoch=2, root=tmp_path, cache=True) == "made"
        spec = C.spec_of(name)
        assert seen[-1] == (tmp_path / "cache", f"{name}_test", {
            "name": name, "stream": stream, "split": "test", "n": 4, "seed": 5, "epoch": 2, "spec": repr(spec)})
    # wang_sweep hands its root on to load
    calls = []
    monkeypatch.setattr(C, "load", lambda *a, **k: calls.append((a, k)))
    C.wang_sweep("rotation", 30, n=2, seed=1, root=tmp_path)
    assert calls == [(("mnist-rts-wang", "test"), {"n": 2, "seed": 1, "root": tmp_path,
                                                   **C.wang_sweep_spec("rotation", 30)})]


def test_load_hands_its_arguments_to_the_builder_and_the_held_out_size(monkeypatch, tmp_path):
    import dataclasses

    from stnlib.data.roads import RoadScene
    # the default split is "train"; seed and epoch must be ints >= 0, never a bool or a float
    assert torch.equal(C.load("mnist-r", n=3, seed=1, cache=False).images,
                       C.load("mnist-r", "train", n=3, seed=1, cache=False).images)
    for arg, bad in (("seed", True), ("seed", 1.5), ("epoch", False), ("epoch", 2.0)):
        with pytest.raises(ValueError, match="^" + re.escape(f"{arg} must be an int >= 0, got {bad!r}") + "$"):
            C.load("mnist-r", "test", **{arg: bad})
    # the road entry's spec is a fresh RoadScene (its fields are options), not the word "roads"
    assert C.spec_of("roads") == RoadScene() and C.spec_of("roads", size=64) == RoadScene(size=64)
    with pytest.raises(ValueError, match="^" + re.escape(
            "dataset 'mnist' has no distortion; unexpected options angle, shift") + "$"):
        C.load("mnist", "test", angle=3, shift=1)
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown option(s) 'colour', 'hue' for 'mnist-r'; its Affine has angle, scale, shift, place, canvas, "
            "inside") + "$"):
        C.spec_of("mnist-r", colour=3, hue=1)
    # load calls the entry's builder with (entry, name, split, n, seed, epoch, root, spec), caching only when asked
    calls = []
    e = dataclasses.replace(C.entry("mnist-r"), build=lambda *a: calls.append(a) or "built")
    monkeypatch.setitem(C.CATALOG, "mnist-r", e)
    monkeypatch.setattr(C._cache, "cached", lambda folder, stem, config, make: ("cached", make()))
    assert C.load("mnist-r", "test", n=2, seed=1, epoch=3, root=tmp_path, cache=False, angle=5.0) == "built"
    assert calls == [(e, "mnist-r", "test", 2, 1, 3, tmp_path, C.spec_of("mnist-r", angle=5.0))]
    assert C.load("mnist-r", "train", n=2, root=tmp_path) == "built"  # train is not cached by default
    assert C.load("mnist-r", "test", n=2, root=tmp_path) == ("cached", "built")  # test is
    assert C.load("mnist-r", "train", n=2, root=tmp_path, cache=True) == ("cached", "built")
    # the held-out validation size: the entry's sizes["val"], 1000 when it has no sizes; n from 1
    base = C.entry("mnist-cluttered")
    small = dataclasses.replace(base, sizes={"train": 50, "val": 7, "test": 5})
    perm = torch.randperm(60000, generator=torch.Generator().manual_seed(2 + 104729))
    assert torch.equal(C._source_index(small, "val", None, 2, 60000), perm[:7].sort().values)
    assert torch.equal(C._source_index(small, "train", 3, 2, 60000), perm[7:10].sort().values)
    bare = dataclasses.replace(base, sizes=None)
    assert torch.equal(C._source_index(bare, "val", None, 2, 60000), perm[:1000].sort().values)
    assert torch.equal(C._source_index(bare, "train", 1, 2, 60000), perm[1000:1001])


# The builders, made at test time (C._distorted(...), C._pairs(...), C._series(...)) and run on a small fake
# source, so each is checked against its recipe without the real files: digit i of the fake source is a
# block of ink drawn from a seeded generator, its label i % 10.
def _fake_digits(total):
    g = torch.Generator().manual_seed(total)
    images = torch.zeros(total, 28, 28, dtype=torch.uint8)
    images[:, 9:19, 10:18] = torch.randint(1, 256, (total, 10, 8), generator=g, dtype=torch.uint8)
    return images, torch.arange(total) % 10


@pytest.fixture
def fake_source(monkeypatch):
    calls = []
    images, labels = _fake_digits(40)

    def raw_digits(split="train", *, dataset="mnist", root=None):
        calls.append((split, dataset, root))
        return images, labels

    monkeypatch.setattr(C._mnist, "raw_digits", raw_digits)
    return images, labels, calls


@pytest.mark.parametrize("source, name, split, n, seed, epoch", [
    ("mnist", "mnist", "test", 5, 1, 0), ("mnist", "mnist-r", "train", 6, 2, 1),
    ("mnist", "mnist-rot-wang", "test", None, 0, 2), ("mnist", "mnist-tc", "train", 4, 3, 0),
    ("mnist", "mnist-cluttered", "val", None, 1, 1), ("fashion-mnist", "fashion-mnist-distorted", "test", 3, 4, 0)])
def test_the_distorted_builder_on_a_fake_source(fake_source, tmp_path, source, name, split, n, seed, epoch):
    import dataclasses
    images, labels, calls = fake_source
    e = C.entry(name)
    if "val" in e.splits:
        e = dataclasses.replace(e, sizes={"train": 30, "val": 6, "test": 10})
    s = C._distorted(source)(e, name, split, n, seed, epoch, tmp_path, e.spec)
    assert calls == [("test" if split == "test" else "train", source, tmp_path)]
    index = C._source_index(e, split, n, seed, 40)
    assert len(index) == (n or (6 if split == "val" else 40))
    x = datasets.as_float(images[index])
    g = C._generator(e.stream or name, split, seed, epoch)
    if e.spec is None:
        out, params = x, {}
    elif isinstance(e.spec, D.Clutter):
        out, params = D.clutter(x, e.spec, g)
    else:
        out, params = D.distort(x, e.spec, g)
    assert torch.equal(s.images, out) and torch.equal(s.labels, labels[index])
    assert set(s.params) == {*params, "index"} and torch.equal(s.params["index"], index)
    assert all(torch.equal(s.params[k], v) for k, v in params.items())
    classes = datasets.MNIST_CLASSES if source == "mnist" else datasets.FASHION_CLASSES
    assert (s.name, s.split, s.classes) == (name, split, classes)
    s.labels[0] += 1  # the set owns its labels
    assert torch.equal(labels, torch.arange(40) % 10)


@pytest.mark.parametrize("layout, name, n, dim", [("channels", "mnist-addition", 5, 1),
                                                  ("width", "mnist-two-digits", None, 3)])
def test_the_pair_builder_on_a_fake_source(fake_source, tmp_path, layout, name, n, dim):
    images, labels, calls = fake_source
    e = C.entry(name)
    s = C._pairs(layout)(e, name, "test", n, 2, 1, tmp_path, e.spec)
    assert calls == [("test", "mnist", tmp_path)]
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(2 + 15485863))
    m = n or 39
    ia, ib = perm[:m], perm[1:m + 1]
    g = C._generator(e.stream or name, "test", 2, 1)
    xa, pa = D.distort(datasets.as_float(images[ia]), e.spec, g)
    xb, pb = D.distort(datasets.as_float(images[ib]), e.spec, g)
    assert torch.equal(s.images, torch.cat([xa, xb], dim))
    # each half shows the digit its label names: the fake digits differ, so the halves tell them apart
    assert torch.equal(s.params["digits"], torch.stack([labels[ia], labels[ib]], 1))
    assert torch.equal(s.labels, labels[ia] + labels[ib]) and torch.equal(s.params["index"], torch.stack([ia, ib], 1))
    assert set(s.params) == {*pa, "digits", "index"}
    assert all(torch.equal(s.params[k], torch.stack([pa[k], pb[k]], 1)) for k in pa)
    assert (s.name, s.split, s.classes) == (name, "test", tuple(str(i) for i in range(19)))
    assert C._pairs(layout)(e, name, "train", 39, 0, 0, None, e.spec).images.shape[0] == 39
    assert torch.equal(C._pairs(layout)(e, name, "test", 1, 2, 1, None, e.spec).params["index"], perm[None, :2])
    for bad in (0, 40, True, 2.0):
        with pytest.raises(ValueError, match="^" + re.escape(f"n must be an int in 1..39, got {bad!r}") + "$"):
            C._pairs(layout)(e, name, "test", bad, 0, 0, None, e.spec)


def _fake_series(total, split):
    g = torch.Generator().manual_seed(total)
    return C.Samples(torch.rand(total, 1, 32, generator=g), torch.arange(total) % 3, {}, "base", split, ("a", "b", "c"))


@pytest.mark.parametrize("seeded, spec_name, n", [(False, "gunpoint-warped", 5), (False, "gunpoint", None),
                                                  (True, "cbf", 4)])
def test_the_series_builder_on_a_fake_loader(tmp_path, seeded, spec_name, n):
    calls = []

    def loader(split, root, *seed):
        calls.append((split, root, *seed))
        return _fake_series(12, split)

    spec = C.entry(spec_name).spec
    s = C._series(loader, seeded=seeded)(C.entry(spec_name), "my-series", "train", n, 3, 2, tmp_path, spec)
    assert calls == [("train", tmp_path, 3) if seeded else ("train", tmp_path)]
    base = _fake_series(12, "train")
    index = datasets.subset_index(12, n, 3)
    want, params = base.series[index], {}
    if spec is not None:
        want, params = D.timewarp(want, spec, C._generator("my-series", "train", 3, 2))
    assert torch.equal(s.series, want) and torch.equal(s.labels, base.labels[index])
    assert set(s.params) == set(params) and all(torch.equal(s.params[k], v) for k, v in params.items())
    assert (s.name, s.split, s.classes) == ("my-series", "train", ("a", "b", "c"))
    if not seeded:  # a loader is called without a seed unless the builder is told otherwise
        again = C._series(loader)(C.entry(spec_name), "my-series", "train", n, 3, 2, tmp_path, spec)
        assert calls[-1] == ("train", tmp_path) and torch.equal(again.series, s.series)


def test_the_road_kitti_and_cifar_builders(monkeypatch, tmp_path):
    from stnlib.data import cifar, kitti, roads
    seen = []
    monkeypatch.setattr(roads, "road_scenes", lambda n, **k: seen.append((n, k)) or "scenes")
    spec = C.spec_of("roads", size=32)
    assert C.load("roads", "val", n=2, seed=1, epoch=3, cache=False, size=32) == "scenes"
    (n, k), = seen
    assert n == 2 and set(k) == {"spec", "generator", "split"} and k["spec"] == spec and k["split"] == "val"
    assert torch.equal(k["generator"].get_state(), C._generator("roads", "val", 1, 3).get_state())

    monkeypatch.setattr(kitti, "kitti_road", lambda split, root=None: seen.append((split, root)) or _fake_series(9, split))
    whole = C.load("kitti-road", "test", root=tmp_path)
    assert seen[-1] == ("test", tmp_path) and torch.equal(whole.images, _fake_series(9, "test").images)
    part = C.load("kitti-road", "train", n=4, seed=2, root=tmp_path)
    assert torch.equal(part.images, _fake_series(9, "train").images[datasets.subset_index(9, 4, 2)])

    images, labels = _fake_digits(12)
    base = C.Samples(datasets.as_float(images[:, None]), labels, {}, "cifar10", "x", tuple("abcdefghij"))
    monkeypatch.setattr(cifar, "cifar10", lambda split, root=None: seen.append((split, root)) or base)
    plain = C.load("cifar10", "test", n=5, seed=1, root=tmp_path)
    assert seen[-1] == ("test", tmp_path)
    index = datasets.subset_index(12, 5, 1)
    assert torch.equal(plain.images, base.images[index]) and torch.equal(plain.labels, labels[index])
    d = C.load("cifar10-distorted", "train", n=4, seed=2, epoch=1, root=tmp_path, cache=False)
    assert seen[-1] == ("train", tmp_path)
    index = datasets.subset_index(12, 4, 2)
    out, params = D.distort(base.images[index], C.entry("cifar10-distorted").spec,
                            C._generator("cifar10-distorted", "train", 2, 1))
    assert torch.equal(d.images, out) and torch.equal(d.labels, labels[index])
    assert set(d.params) == {*params, "index"} and torch.equal(d.params["index"], index)
    assert all(torch.equal(d.params[k], v) for k, v in params.items())
    assert (d.name, d.split, d.classes) == ("cifar10-distorted", "train", tuple("abcdefghij"))
