"""stnlib._io: temp file then rename, the usual file mode, nothing left behind on failure."""

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from PIL import Image

from stnlib import _io

matplotlib.use("Agg")


@pytest.fixture
def umask():
    """Set the process umask for a test; restored afterwards."""
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


def test_atomic_path_writes_through_a_temporary_file_next_to_the_target(tmp_path, umask):
    target = tmp_path / "a" / "b" / "out.txt"  # missing folders are created
    with _io.atomic_path(str(target)) as tmp:
        assert tmp.parent == target.parent
        assert re.fullmatch(r"\.out\.txt\.[0-9a-f]{16}\.tmp", tmp.name)
        assert tmp.exists() and not target.exists()
        tmp.write_text("done")
        assert not target.exists()  # only renamed at the end
    assert target.read_text() == "done"
    assert os.listdir(target.parent) == ["out.txt"]
    assert target.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def test_atomic_path_suffix_mode_from_umask_and_replacing(tmp_path, umask):
    umask(0o027)
    target = tmp_path / "n.ipynb"
    target.write_text("old")
    with _io.atomic_path(target, suffix=".ipynb") as tmp:
        assert re.fullmatch(r"\.n\.ipynb\.[0-9a-f]{16}\.ipynb", tmp.name)
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["n.ipynb"]


def test_atomic_path_failure_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(KeyError, match="boom"):
        with _io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.txt"]
    new = tmp_path / "new.txt"
    with pytest.raises(RuntimeError, match=re.escape("writer failed")):
        with _io.atomic_path(new):
            raise RuntimeError("writer failed")
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_a_taken_temporary_name_is_skipped_and_left_alone(tmp_path, monkeypatch):
    names = iter(["0" * 16, "0" * 16, "1" * 16])
    monkeypatch.setattr(_io.secrets, "token_hex", lambda n: next(names))
    taken = tmp_path / f".out.txt.{'0' * 16}.tmp"
    taken.write_text("someone else's")
    with _io.atomic_path(tmp_path / "out.txt") as tmp:
        assert tmp.name == f".out.txt.{'1' * 16}.tmp"
        tmp.write_text("mine")
    assert taken.read_text() == "someone else's"
    assert (tmp_path / "out.txt").read_text() == "mine"


def test_the_process_umask_is_never_changed(tmp_path, monkeypatch, umask):
    umask(0o077)

    def no_umask(mask):
        raise AssertionError("os.umask changes the mask of every thread")

    monkeypatch.setattr(os, "umask", no_umask)
    _io.write_text(tmp_path / "x.txt", "x")
    monkeypatch.undo()
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o600  # 0666 less 077


def test_save_figure_png_at_the_dpi_and_closed(tmp_path):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 1))
    out = _io.save_figure(fig, str(tmp_path / "f" / "fig.png"))
    assert out == tmp_path / "f" / "fig.png"
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (180, 90)  # 2 x 1 inches at 90 dpi
    assert not plt.fignum_exists(fig.number)
    fig = plt.figure(figsize=(2, 1))
    _io.save_figure(fig, tmp_path / "g.png", dpi=50)
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (100, 50)
    assert sorted(os.listdir(tmp_path)) == ["f", "g.png"]
    first = plt.figure(figsize=(1, 1))
    current = plt.figure(figsize=(1, 1))  # another figure is the current one: it stays open
    _io.save_figure(first, tmp_path / "h.png")
    assert not plt.fignum_exists(first.number) and plt.fignum_exists(current.number)
    plt.close(current)


def test_write_text_utf8(tmp_path):
    out = _io.write_text(str(tmp_path / "t" / "x.md"), "θ → ü\n")
    assert out == tmp_path / "t" / "x.md"
    assert out.read_bytes() == "θ → ü\n".encode()
    assert os.listdir(tmp_path / "t") == ["x.md"]


def test_write_text_is_utf8_whatever_the_locale(tmp_path):
    """Under an ASCII locale (LC_ALL=C, no UTF-8 mode) the file is still UTF-8, not the locale's."""
    _io.write_text(tmp_path / "here.txt", "\u03b8")
    root = Path(_io.__file__).resolve().parents[1]
    env = dict(os.environ, LC_ALL="C", PYTHONCOERCECLOCALE="0", PYTHONUTF8="0", PYTHONPATH=str(root))
    code = "import sys; from stnlib._io import write_text; write_text(sys.argv[1], '\\u03b8 \\u2192 \\u00fc')"
    r = subprocess.run([sys.executable, "-X", "utf8=0", "-c", code, str(tmp_path / "c.txt")], cwd=root,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.txt").read_bytes() == "\u03b8 \u2192 \u00fc".encode("utf-8")
