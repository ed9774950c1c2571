"""stn-course lab: JupyterLab on the lessons, with --allow-root exactly when run as root."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stnlib.course import lab
from stnlib.course.cli import main

ROOT = Path(__file__).resolve().parents[2]
JUPYTERLAB = [sys.executable, "-m", "jupyterlab"]


def test_root_gets_allow_root_and_others_do_not():
    assert lab.lab_argv("lessons/", uid=0) == [*JUPYTERLAB, "--allow-root", "lessons/"]
    assert lab.lab_argv("lessons/", uid=1000) == [*JUPYTERLAB, "lessons/"]
    opts = ["--no-browser", "--port", "8899"]
    assert lab.lab_argv("x.ipynb", opts, uid=0) == [*JUPYTERLAB, "--allow-root", "x.ipynb", *opts]
    assert lab.lab_argv("x.ipynb", opts, uid=1000) == [*JUPYTERLAB, "x.ipynb", *opts]
    # given twice would be harmless, but the command stays what the user wrote
    assert lab.lab_argv("l", ["--allow-root"], uid=0) == [*JUPYTERLAB, "l", "--allow-root"]


def test_the_default_path_is_the_repositorys_lessons():
    assert lab.lab_argv(uid=1000) == [*JUPYTERLAB, str(ROOT / "lessons")]
    assert (ROOT / "lessons").is_dir()


@pytest.mark.parametrize("uid", [0, 1000])
def test_the_cli_execs_jupyterlab_with_the_built_command(monkeypatch, capsys, uid):
    calls = []
    monkeypatch.setattr(os, "geteuid", lambda: uid)
    monkeypatch.setattr(os, "execv", lambda exe, argv: calls.append((exe, argv)))
    assert main(["lab", "lessons/", "--no-browser", "--port", "8899"]) == 0
    expected = [*JUPYTERLAB, *(["--allow-root"] if uid == 0 else []), "lessons/", "--no-browser",
                "--port", "8899"]
    assert calls == [(sys.executable, expected)]
    assert capsys.readouterr().out == f"starting: {' '.join(expected)}\n"


@pytest.mark.slow
def test_jupyterlab_accepts_the_root_command(tmp_path):
    """JupyterLab itself parses the command built for root (``--show-config`` exits before
    the server starts): allow_root is on and the lessons are the root folder."""
    argv = lab.lab_argv(str(ROOT / "lessons"), ["--show-config"], uid=0)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert ".allow_root = True" in r.stdout
    assert f".root_dir = '{ROOT / 'lessons'}'" in r.stdout


def test_an_installed_stnlib_opens_the_lessons_of_the_working_folder(tmp_path, monkeypatch):
    from stnlib.course import paths

    monkeypatch.setattr(paths, "repo_root", lambda: None)  # not an editable install
    monkeypatch.chdir(tmp_path)
    assert lab.lab_argv(uid=1000) == [*JUPYTERLAB, "."]  # no lessons/ here: the folder itself
    (tmp_path / "lessons").mkdir()
    assert lab.lab_argv(uid=1000) == [*JUPYTERLAB, str(tmp_path / "lessons")]
