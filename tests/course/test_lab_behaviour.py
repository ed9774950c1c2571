"""stn-course lab without starting anything: the command built, the default path, the parser, the exec."""

import argparse
import os
import sys

import pytest

from stnlib.course import lab, paths

JUPYTERLAB = [sys.executable, "-m", "jupyterlab"]


def test_default_path_is_lessons_when_it_is_a_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "default_lessons_dir", lambda: tmp_path / "lessons")
    assert lab.default_path() == "."
    (tmp_path / "lessons").write_text("a file, not a folder")
    assert lab.default_path() == "."
    (tmp_path / "lessons").unlink()
    (tmp_path / "lessons").mkdir()
    assert lab.default_path() == str(tmp_path / "lessons")


def test_lab_argv_uses_the_effective_uid(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert lab.lab_argv("p", ("--x",)) == [*JUPYTERLAB, "--allow-root", "p", "--x"]
    monkeypatch.setattr(os, "geteuid", lambda: 1)
    assert lab.lab_argv("p") == [*JUPYTERLAB, "p"]
    monkeypatch.delattr(os, "geteuid")  # Windows: no root
    assert lab.lab_argv("p") == [*JUPYTERLAB, "p"]


def test_lab_argv_empty_path_means_the_default(monkeypatch):
    monkeypatch.setattr(lab, "default_path", lambda: "DEFAULT")
    assert lab.lab_argv("", uid=5) == [*JUPYTERLAB, "DEFAULT"]
    assert lab.lab_argv(None, ["--a"], uid=0) == [*JUPYTERLAB, "--allow-root", "DEFAULT", "--a"]
    assert lab.lab_argv("x", ["--allow-root=1"], uid=0) == [*JUPYTERLAB, "--allow-root", "x", "--allow-root=1"]
    assert lab.lab_argv("x", uid=-1) == [*JUPYTERLAB, "x"]


def _parser():
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    lab.add_cli(sub)
    return parser, sub


def test_cli_prints_flushes_and_execs(monkeypatch, capsys):
    calls, flushes = [], []
    monkeypatch.setattr(os, "execv", lambda exe, argv: calls.append((exe, argv)))
    monkeypatch.setattr(lab, "default_path", lambda: "LESSONS")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    parser, _ = _parser()
    args = parser.parse_args(["lab"])
    assert (args.path, args.options) == (None, [])
    real_print = print

    def spy(*a, **k):
        flushes.append(k.get("flush"))
        real_print(*a, **k)
    monkeypatch.setattr("builtins.print", spy)
    assert args.func(args) == 0
    assert calls == [(sys.executable, [*JUPYTERLAB, "LESSONS"])]
    assert capsys.readouterr().out == f"starting: {' '.join([*JUPYTERLAB, 'LESSONS'])}\n"
    assert flushes == [True]
    args = parser.parse_args(["lab", "nb.ipynb", "--port", "1", "--no-browser"])
    assert (args.path, args.options) == ("nb.ipynb", ["--port", "1", "--no-browser"])


def test_cli_help_texts():
    _, sub = _parser()
    assert sub._choices_actions[0].help == "open the lessons in JupyterLab (as root too)"
    p = sub.choices["lab"]
    assert p.description == ("Start JupyterLab on PATH (default: lessons/), adding --allow-root when run as "
                             "root. Options after PATH are passed to JupyterLab, e.g. `stn-course lab "
                             "lessons/ --no-browser --port 8899`.")
    opts = {a.dest: (a.help, a.default, a.nargs) for a in p._actions}
    assert opts["path"] == ("folder or notebook to open (default: the repository's lessons/)", None, "?")
    assert opts["options"] == ("options for JupyterLab, after PATH", None, argparse.REMAINDER)


def test_default_lessons_dir_is_the_course_roots(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "course_root", lambda: tmp_path)
    (tmp_path / "lessons").mkdir()
    assert lab.default_path() == str(tmp_path / "lessons")


@pytest.mark.parametrize("uid, extra", [(0, ["--allow-root"]), (7, [])])
def test_options_are_copied_not_aliased(uid, extra):
    options = ("--a",)
    argv = lab.lab_argv("p", options, uid=uid)
    assert argv == [*JUPYTERLAB, *extra, "p", "--a"] and options == ("--a",)


def test_allow_root_given_by_the_user_is_not_added_twice():
    assert lab.lab_argv("l", ["--allow-root"], uid=0) == [*JUPYTERLAB, "l", "--allow-root"]
    assert lab.lab_argv("l", ["--port", "1", "--allow-root"], uid=0) == [*JUPYTERLAB, "l", "--port", "1",
                                                                          "--allow-root"]


def test_cli_passes_path_and_options(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(os, "execv", lambda exe, argv: calls.append(argv))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(lab, "default_path", lambda: "LESSONS")
    parser, _ = _parser()
    args = parser.parse_args(["lab", "nb.ipynb", "--port", "1"])
    assert args.func(args) == 0
    assert calls == [[*JUPYTERLAB, "--allow-root", "nb.ipynb", "--port", "1"]]
    assert capsys.readouterr().out == f"starting: {' '.join(calls[0])}\n"
