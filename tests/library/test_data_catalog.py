"""stnlib.data.load: every named dataset, seeds, splits, sweeps, the verified cache, errors."""

import pytest
import torch
from helpers import fashion_mnist

from stnlib import data
from stnlib.data import fetch

SMALL = 60
IMAGE_SETS = {  # name: (C, H, W) of one image
    "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "mnist-r": (1, 28, 28),
    "mnist-rts": (1, 42, 42), "mnist-p": (1, 28, 28), "mnist-e": (1, 28, 28),
    "mnist-tc": (1, 60, 60), "mnist-cluttered": (1, 40, 40),
    "mnist-canvas": (1, 64, 64), "fashion-mnist-distorted": (1, 64, 64), "mnist-rot-wang": (1, 28, 28),
    "mnist-rts-wang": (1, 28, 28), "mnist-addition": (2, 42, 42),
    "mnist-two-digits": (1, 28, 56), "mnist-rot-finnveden": (1, 28, 28), "mnist-trans-finnveden": (1, 42, 42),
}


@pytest.fixture
def root(tmp_path):
    """A fresh data root that shares the verified MNIST / Fashion-MNIST files."""
    real = fetch.data_root()
    fetch.fetch_mnist(real)
    (tmp_path / "MNIST").symlink_to(real / "MNIST", target_is_directory=True)
    (tmp_path / "FashionMNIST").symlink_to(real / "FashionMNIST", target_is_directory=True)
    return tmp_path


@pytest.mark.parametrize("name", IMAGE_SETS)
def test_each_image_set_has_the_documented_layout(name):
    if "fashion" in name:
        fashion_mnist()  # optional: skipped with the line that installs it (a failure under CI)
    s = data.load(name, "test", n=SMALL, cache=False)
    assert s.images.shape == (SMALL, *IMAGE_SETS[name]) and s.images.dtype == torch.float32
    assert 0 <= s.images.min() and s.images.max() <= 1
    assert s.labels.dtype == torch.int64 and s.labels.shape == (SMALL,)
    assert 0 <= s.labels.min() and s.labels.max() < len(s.classes)
    x, y = s[3]
    assert x.shape == IMAGE_SETS[name] and int(y) == int(s.labels[3])


def test_labels_and_class_balance_on_a_full_split():
    s = data.load("mnist-rts", "test", cache=False)
    assert len(s) == 10000 and set(s.labels.tolist()) == set(range(10))
    counts = torch.bincount(s.labels, minlength=10)
    assert counts.min() >= 800 and counts.max() <= 1200
    sub = data.load("mnist-r", "train", n=3000, seed=1)
    counts = torch.bincount(sub.labels, minlength=10)
    assert counts.min() >= 230 and counts.max() <= 380  # a uniform random subset


def test_seed_and_epoch_semantics():
    a = data.load("mnist-rts", "train", n=SMALL, seed=3)
    b = data.load("mnist-rts", "train", n=SMALL, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.params["angle"], b.params["angle"])
    e1 = data.load("mnist-rts", "train", n=SMALL, seed=3, epoch=1)
    assert torch.equal(a.params["index"], e1.params["index"])  # the same digits ...
    assert not torch.equal(a.params["angle"], e1.params["angle"])  # ... freshly distorted
    c = data.load("mnist-rts", "train", n=SMALL, seed=4)
    assert not torch.equal(a.params["index"], c.params["index"])
    it = data.epochs("mnist-r", seed=3, n=SMALL)
    first, second = next(it), next(it)
    assert torch.equal(first.images, data.load("mnist-r", "train", n=SMALL, seed=3).images)
    assert not torch.equal(first.images, second.images)


def test_cluttered_003_splits_are_disjoint_and_paper_sized():
    tr = data.load("mnist-cluttered", "train", cache=False)
    va = data.load("mnist-cluttered", "val", cache=False)
    te = data.load("mnist-cluttered", "test", cache=False)
    assert (len(tr), len(va), len(te)) == (10000, 1000, 1000)
    assert not set(tr.params["index"].tolist()) & set(va.params["index"].tolist())
    assert te.images.shape[1:] == (1, 40, 40)


def test_addition_and_two_digits_labels_are_sums():
    for name in ("mnist-addition", "mnist-two-digits"):
        s = data.load(name, "test", n=500, cache=False)
        assert len(s.classes) == 19
        assert torch.equal(s.labels, s.params["digits"].sum(1))
        assert s.params["angle"].shape == (500, 2)  # one distortion per digit
        assert not torch.equal(s.params["angle"][:, 0], s.params["angle"][:, 1])
    s = data.load("mnist-addition", "test", n=50, cache=False)
    assert s.params["angle"].abs().max() <= 45 and s.params["scale"].min() >= 0.7


def test_sweeps_of_seeds_004():
    for kind, amount, check in [
        ("rotation", 150, lambda p: p["angle"].abs().max() <= 150 and p["angle"].abs().max() > 100),
        ("translation", 0.3, lambda p: p["shift"].abs().max() <= 0.3 * 28 + 1e-4
         and p["angle"].abs().max() == 0),
        ("scale", 0.5, lambda p: p["scale"].min() >= 0.5 and p["scale"].max() <= 1.5),
    ]:
        s = data.wang_sweep(kind, amount, n=200)
        assert check(s.params), kind
    with pytest.raises(ValueError, match="unknown sweep 'shear'"):
        data.wang_sweep_spec("shear", 1)
    with pytest.raises(ValueError, match=r"rotation sweep must be in \[0, 180"):
        data.wang_sweep_spec("rotation", 200)


def test_002_sets_return_the_applied_transform():
    r = data.load("mnist-rot-finnveden", "test", n=500, cache=False)
    assert r.params["angle"].abs().max() <= 90 and r.params["angle"].abs().max() > 85
    t = data.load("mnist-trans-finnveden", "test", n=500, cache=False)
    assert t.params["angle"].abs().max() == 0 and t.params["shift"].abs().max() > 5


def test_test_sets_are_cached_with_a_content_hash_and_verified(root):
    import hashlib

    a = data.load("mnist-rts", "test", n=300, root=root)
    files = list((root / "cache").glob("mnist-rts_test_*.pt"))
    assert len(files) == 1
    digest = files[0].name.split(".")[-2]
    assert hashlib.sha256(files[0].read_bytes()).hexdigest()[:16] == digest
    b = data.load("mnist-rts", "test", n=300, root=root)  # from the cache
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.params["theta"], b.params["theta"])
    # a truncated cache file is detected, deleted and regenerated, never used
    files[0].write_bytes(files[0].read_bytes()[:1000])
    c = data.load("mnist-rts", "test", n=300, root=root)
    assert torch.equal(a.images, c.images)
    files = list((root / "cache").glob("mnist-rts_test_*.pt"))
    assert len(files) == 1 and files[0].name.split(".")[-2] == digest
    # a same-size corruption too
    raw = bytearray(files[0].read_bytes())
    raw[-5000] ^= 0xFF
    files[0].write_bytes(bytes(raw))
    d = data.load("mnist-rts", "test", n=300, root=root)
    assert torch.equal(a.images, d.images)
    # other options make another file; the training split is not cached by default
    data.load("mnist-rts", "test", n=300, root=root, angle=10.0)
    data.load("mnist-rts", "train", n=300, root=root)
    assert len(list((root / "cache").glob("*.pt"))) == 2


def test_unknown_names_splits_and_options_are_clear_errors():
    with pytest.raises(ValueError, match="unknown dataset 'mnist-xyz'; valid names: mnist, "):
        data.load("mnist-xyz")
    with pytest.raises(ValueError, match="unknown split 'val' for 'mnist-rts'"):
        data.load("mnist-rts", "val")
    with pytest.raises(ValueError, match="unknown option.*'rotation'.*angle, scale"):
        data.load("mnist-rts", "test", rotation=30)
    with pytest.raises(ValueError, match="scale must be > 0"):
        data.load("mnist-rts", "test", n=5, scale=(0, 1))
    with pytest.raises(ValueError, match="n must be an int in 1..10000"):
        data.load("mnist-r", "test", n=0)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        data.load("mnist-r", "test", seed=-1)
    with pytest.raises(ValueError, match="has no distortion"):
        data.load("mnist", "test", angle=3)


def test_describe_lists_every_name():
    text = data.describe()
    assert all(name in text for name in data.names())
