"""The on-disk cache of fixed sets: its key covers every argument, a hit equals a fresh set, bad files are
never used."""

import logging

import pytest
import torch

from stnlib import data
from stnlib.data import cache, fetch
from stnlib.data.samples import Samples

BASE = {"name": "mnist-rts", "stream": "mnist", "split": "test", "n": 50, "seed": 0, "epoch": 0,
        "spec": "RTS(angle=45)"}


def test_key_is_stable_and_changes_with_every_field(monkeypatch):
    assert cache.key_of(BASE) == cache.key_of(dict(reversed(list(BASE.items()))))
    assert len(cache.key_of(BASE)) == 12 and int(cache.key_of(BASE), 16) >= 0
    keys = {cache.key_of({**BASE, k: (v + 1 if isinstance(v, int) else v + "x")}) for k, v in BASE.items()}
    assert len(keys) == len(BASE) and cache.key_of(BASE) not in keys
    before = cache.key_of(BASE)
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)  # a new storage format invalidates old files
    assert cache.key_of(BASE) != before


def _samples(images, quantized=True):
    return Samples(images, torch.arange(len(images)), {"theta": torch.randn(len(images), 2, 3)}, "toy", "test",
                   ("a", "b"), {"quantized": quantized})


class Maker:
    def __init__(self, s):
        self.s, self.calls = s, 0

    def __call__(self):
        self.calls += 1
        return self.s


def test_a_hit_returns_the_stored_set_without_making_it(tmp_path):
    images = torch.randint(0, 256, (4, 1, 3, 3)).float() / 255  # 8-bit levels: stored as uint8, exactly
    make = Maker(_samples(images))
    first = cache.cached(tmp_path, "toy_test", BASE, make)
    assert first is make.s and make.calls == 1
    (path,) = tmp_path.glob("toy_test_*.pt")
    assert path.name.startswith(f"toy_test_{cache.key_of(BASE)}.")
    assert torch.load(path, weights_only=True)["images"].dtype == torch.uint8
    again = cache.cached(tmp_path, "toy_test", BASE, make)
    assert make.calls == 1
    assert torch.equal(again.images, images) and torch.equal(again.labels, make.s.labels)
    assert torch.equal(again.params["theta"], make.s.params["theta"])
    assert (again.name, again.split, again.classes, again.info) == ("toy", "test", ("a", "b"), {"quantized": True})
    # another configuration is another file, made afresh
    cache.cached(tmp_path, "toy_test", {**BASE, "seed": 1}, make)
    assert make.calls == 2 and len(list(tmp_path.glob("toy_test_*.pt"))) == 2


def test_unquantized_images_are_stored_as_they_are(tmp_path):
    images = torch.rand(3, 1, 2, 2, dtype=torch.float64)
    cache.cached(tmp_path, "toy_test", BASE, Maker(_samples(images, quantized=False)))
    again = cache.cached(tmp_path, "toy_test", BASE, Maker(None))
    assert torch.equal(again.images, images)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage-with-a-matching-name"])
def test_a_bad_file_is_deleted_and_the_set_made_again(tmp_path, caplog, damage):
    images = torch.randint(0, 256, (4, 1, 3, 3)).float() / 255
    cache.cached(tmp_path, "toy_test", BASE, Maker(_samples(images)))
    (path,) = tmp_path.glob("toy_test_*.pt")
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-100] + bytes([raw[-100] ^ 0xFF]) + raw[-99:])
    else:  # a payload torch cannot read, under the name of its own hash
        import hashlib

        junk = b"not a torch file"
        path.unlink()
        path = tmp_path / f"toy_test_{cache.key_of(BASE)}.{hashlib.sha256(junk).hexdigest()[:16]}.pt"
        path.write_bytes(junk)
    fresh = _samples(torch.zeros(4, 1, 3, 3))
    make = Maker(fresh)
    with caplog.at_level(logging.WARNING, logger="stnlib.data"):
        got = cache.cached(tmp_path, "toy_test", BASE, make)
    assert make.calls == 1 and got is fresh
    assert str(path) in caplog.text
    assert ("unreadable" if damage.startswith("garbage") else "fails its checksum") in caplog.text
    assert not path.exists() and len(list(tmp_path.glob("toy_test_*.pt"))) == 1
    assert torch.equal(cache.cached(tmp_path, "toy_test", BASE, Maker(None)).images, fresh.images)


@pytest.fixture
def root(tmp_path):
    real = fetch.data_root()
    fetch.fetch_mnist(real)
    (tmp_path / "MNIST").symlink_to(real / "MNIST", target_is_directory=True)
    return tmp_path


@pytest.mark.parametrize("change", [dict(n=40), dict(seed=1), dict(epoch=1), dict(angle=10.0)])
def test_every_argument_of_load_is_part_of_the_key(root, change):
    """After the base set is cached, a set that differs in one argument must not be served from it."""
    base = dict(n=30, seed=0, epoch=0)
    data.load("mnist-rts", "test", root=root, cache=True, **base)
    args = {**base, **change}
    cached = data.load("mnist-rts", "test", root=root, cache=True, **args)
    fresh = data.load("mnist-rts", "test", root=root, cache=False, **args)
    assert torch.equal(cached.images, fresh.images) and torch.equal(cached.labels, fresh.labels)
    assert torch.equal(cached.params["theta"], fresh.params["theta"])
    assert len(list((root / "cache").glob("*.pt"))) == 2


def test_the_split_and_the_dataset_are_part_of_the_key(root):
    data.load("mnist-rts", "test", n=30, root=root, cache=True)
    for name, split in (("mnist-rts", "train"), ("mnist-r", "test")):
        cached = data.load(name, split, n=30, root=root, cache=True)
        fresh = data.load(name, split, n=30, root=root, cache=False)
        assert torch.equal(cached.images, fresh.images), (name, split)


def test_key_accepts_values_json_cannot_write():
    from pathlib import Path

    assert cache.key_of({**BASE, "root": Path("/data")}) == cache.key_of({**BASE, "root": "/data"})


def test_images_are_stored_as_8_bit_unless_marked_unquantized(tmp_path):
    images = torch.randint(0, 256, (2, 1, 2, 2)).float() / 255
    s = Samples(images, torch.arange(2), {}, "toy", "test", (), {})  # no "quantized" entry: 8-bit levels
    cache.cached(tmp_path, "toy_test", BASE, Maker(s))
    (path,) = tmp_path.glob("toy_test_*.pt")
    assert torch.load(path, weights_only=True)["images"].dtype == torch.uint8
