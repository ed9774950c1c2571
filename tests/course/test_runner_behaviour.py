"""The runner's failing-cell report on hand-made executed notebooks (no kernel needed)."""

import nbformat

from stnlib.course.runner import _failing_cell


def _cell(source, *, tags=(), exception=None, start=True, count=None, kind="code"):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    c = make(source)
    if kind == "code":
        c.execution_count = count
    c.metadata["tags"] = list(tags)
    pm = {"status": "completed"}  # papermill marks every cell completed in the end
    if start:
        pm["start_time"] = "2026-01-01T00:00:00"
    if exception is not None:
        pm["exception"] = exception
    c.metadata["papermill"] = pm
    return c


def _write(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    return path


def _bare():
    cell = nbformat.v4.new_markdown_cell("no metadata at all")  # a new cell id each time
    cell.metadata = {}
    return cell


def test_the_cell_that_raised_is_named_by_its_number_in_the_source(tmp_path):
    path = _write(tmp_path, [
        _cell("An Exception was encountered", tags=["papermill-error-cell-tag"], kind="markdown"),  # papermill's banner
        _cell("# Title", kind="markdown"),
        _cell("BUDGET = None", tags=["parameters"], count=1, exception=False),
        _cell('BUDGET = "smoke"', tags=["injected-parameters"], count=2, exception=False),  # papermill's
        _cell("x = 1", count=3, exception=False),
        _cell("\n\n   raise ValueError('boom')  \nmore()", count=4, exception=True),
        _bare(),
        _cell("after()", count=5, exception=True),  # a later failure is not the first
    ])
    # cells: (banner and injected: not in the source) 1 markdown, 2 parameters, 3 x = 1, 4 the raise
    assert _failing_cell(path) == (4, 4, "raise ValueError('boom')")
    path = _write(tmp_path, [_bare(), _cell("x = 1", count=1, exception=False), _bare(),
                             _cell("fail()", count=2, exception=True)])
    assert _failing_cell(path) == (4, 2, "fail()")


def test_a_hung_notebook_names_the_last_cell_that_started(tmp_path):
    path = _write(tmp_path, [
        _cell("a = 1", count=1),
        _cell("train()", count=2),
        _cell("plot()", start=False),
    ])
    assert _failing_cell(path) == (2, 2, "train()")


def test_a_long_first_line_is_cut_and_nothing_found_is_none(tmp_path):
    long = "y = " + "1 + " * 40 + "1"
    assert _failing_cell(_write(tmp_path, [_cell(long, count=7, exception=True)])) == (1, 7, long[:80])
    assert _failing_cell(_write(tmp_path, [_cell("a", start=False), _cell("b", start=False)])) == (None, None, None)
    broken = tmp_path / "half.ipynb"
    broken.write_text('{"cells": [')
    assert _failing_cell(broken) == (None, None, None)
    assert _failing_cell(tmp_path / "missing.ipynb") == (None, None, None)


# ----------------------------------------------------------------- the rest of the runner, with fakes
# (papermill, the kernel, torch's device queries, the data folder and the clock are replaced; what is
# asserted is the runner's own bookkeeping: which notebooks, the environment, the files, the messages)

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from stnlib.course import runner  # noqa: E402
from stnlib.course.runner import NotebookRun  # noqa: E402


def test_failure_text_word_for_word():
    run = NotebookRun("05_a.ipynb", "runs/x/05_a.ipynb", 1.0, False, cell=4, execution_count=3,
                      error="ValueError: boom", source="fit()")
    assert run.failure() == ("05_a.ipynb: cell 4 (In [3] in the executed copy) `fit()`: ValueError: boom"
                             " — see runs/x/05_a.ipynb")
    run = NotebookRun("05_a.ipynb", "o", 1.0, False, cell=0, execution_count=0, error="E: e", source="")
    assert run.failure() == "05_a.ipynb: cell 0 (In [0] in the executed copy): E: e — see o"
    run = NotebookRun("05_a.ipynb", "o", 1.0, False, error="E: e")
    assert run.failure() == "05_a.ipynb: before any cell ran: E: e — see o"
    assert (run.cell, run.execution_count, run.error, run.source) == (None, None, "E: e", None)


def _solutions(tmp_path, *names):
    folder = tmp_path / "solutions"
    folder.mkdir()
    for n in names:
        (folder / n).write_text("{}")
    return folder


def test_find_notebooks_by_lesson_number(tmp_path):
    sol = _solutions(tmp_path, "00_a.ipynb", "05_b.ipynb", "12_c.ipynb", "notes.ipynb", "5_x.ipynb")
    assert runner.find_notebooks(sol) == [sol / "00_a.ipynb", sol / "05_b.ipynb", sol / "12_c.ipynb"]
    assert runner.find_notebooks(str(sol), ["12", "5", 5, "05", " 0"]) == [
        sol / "12_c.ipynb", sol / "05_b.ipynb", sol / "00_a.ipynb"]
    assert runner.find_notebooks(sol, []) == []
    message = f"no notebook for lesson(s) 03, 07 in {sol}; available: 00, 05, 12"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        runner.find_notebooks(sol, ["3", "5", "07"])
    with pytest.raises(ValueError, match="^lesson must be a lesson number"):
        runner.find_notebooks(sol, ["x"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"^{re.escape(f'no notebook for lesson(s) 01 in {empty}; available: none')}$"):
        runner.find_notebooks(empty, ["1"])


def test_find_notebooks_without_the_folder(tmp_path):
    message = (f"solutions folder {tmp_path / 'nope'} does not exist; run stn-course from the repository "
               "root or pass --solutions")
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(message)}$"):
        runner.find_notebooks(tmp_path / "nope")
    (tmp_path / "f").write_text("")
    with pytest.raises(FileNotFoundError):
        runner.find_notebooks(tmp_path / "f")


def test_environ_sets_and_restores(monkeypatch):
    monkeypatch.setenv("STN_T_SET", "old")
    monkeypatch.delenv("STN_T_NEW", raising=False)
    with pytest.raises(KeyError), runner._environ(STN_T_SET="a", STN_T_NEW="b"):
        assert (os.environ["STN_T_SET"], os.environ["STN_T_NEW"]) == ("a", "b")
        raise KeyError
    assert os.environ["STN_T_SET"] == "old" and "STN_T_NEW" not in os.environ
    with runner._environ(STN_T_NEW="c"):
        os.environ.pop("STN_T_NEW")  # gone already: restoring does not fail
    assert "STN_T_NEW" not in os.environ


@pytest.mark.parametrize("before", [None, "", "/x/share"])
def test_this_python_kernel_puts_a_python3_spec_first(monkeypatch, before):
    if before is None:
        monkeypatch.delenv("JUPYTER_PATH", raising=False)
    else:
        monkeypatch.setenv("JUPYTER_PATH", before)
    with runner._this_python_kernel():
        parts = os.environ["JUPYTER_PATH"].split(os.pathsep)
        tmp = Path(parts[0])
        assert tmp.name.startswith("stn-kernel-")
        assert parts[1:] == ([before] if before else [])
        spec = json.loads((tmp / "kernels" / "python3" / "kernel.json").read_text())
        assert spec == {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                                 "--log-level=ERROR"],
                        "display_name": "Python 3 (ipykernel)", "language": "python"}
    assert os.environ.get("JUPYTER_PATH") == before
    assert not tmp.exists()


def test_collect_keeps_info_messages_without_trailing_newlines():
    lines = []
    handler = runner._Collect(lines)
    assert handler.level == logging.INFO
    handler.emit(logging.LogRecord("papermill", logging.INFO, "f", 1, "cell %d\n\n", (3,), None))
    assert lines == ["cell 3"]


class _Clock:
    def __init__(self, *values):
        self.values = list(values)

    def __call__(self):
        return self.values.pop(0)


def _fake_papermill(monkeypatch, behaviour):
    calls = []

    def execute_notebook(input_path, output_path, **kwargs):
        calls.append({"input": input_path, "output": output_path, "kwargs": kwargs,
                      "env": {k: os.environ.get(k) for k in
                              ("STN_RESULTS", "STN_BUDGET", "STN_LESSON", "STN_PROGRESS")},
                      "logger": (logging.getLogger("papermill").level,
                                 logging.getLogger("papermill").propagate)})
        logging.getLogger("papermill").info("Executing cell 1\n")
        logging.getLogger("papermill").debug("not collected")
        return behaviour(Path(output_path))

    monkeypatch.setitem(sys.modules, "papermill", types.SimpleNamespace(execute_notebook=execute_notebook))
    return calls


def test_run_notebook_ok(tmp_path, monkeypatch):
    def ok(out):
        out.write_text("executed")
    calls = _fake_papermill(monkeypatch, ok)
    monkeypatch.setattr(runner.time, "perf_counter", _Clock(10.0, 12.5))
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.WARNING)
    logger.propagate = True
    handlers = list(logger.handlers)
    nb = tmp_path / "solutions" / "05_a.ipynb"
    log = ["start"]
    run = runner.run_notebook(nb, tmp_path / "out" / "05_a.ipynb", budget="smoke", seed=3, device="cpu",
                              cell_timeout=77, results=tmp_path / "r.json", log=log)
    assert run == NotebookRun("05_a.ipynb", str(tmp_path / "out" / "05_a.ipynb"), 2.5, True)
    assert (tmp_path / "out" / "05_a.ipynb").read_text() == "executed"
    assert os.listdir(tmp_path / "out") == ["05_a.ipynb"]
    [call] = calls
    assert call["input"] == str(nb)
    assert Path(call["output"]).parent == tmp_path / "out" and call["output"].endswith(".ipynb")
    assert call["output"] != str(tmp_path / "out" / "05_a.ipynb")  # written to a temporary, then renamed
    assert call["kwargs"] == {"kernel_name": "python3", "cwd": str(nb.parent),
                              "parameters": {"BUDGET": "smoke", "SEED": 3, "DEVICE": "cpu"},
                              "execution_timeout": 77, "progress_bar": False, "log_output": True,
                              "start_timeout": 120}
    assert call["env"] == {"STN_RESULTS": str((tmp_path / "r.json").resolve()), "STN_BUDGET": "smoke",
                           "STN_LESSON": "05", "STN_PROGRESS": "log"}
    assert call["logger"] == (logging.INFO, False)
    assert log == ["start", "Executing cell 1"]
    assert (logger.level, logger.propagate, logger.handlers) == (logging.WARNING, True, handlers)
    logger.setLevel(logging.NOTSET)


def _failed_notebook(path):
    import nbformat

    cells = [_cell("x = 1", count=1, exception=False), _cell("\nfit()", count=2, exception=True)]
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, path)


def test_run_notebook_failure_is_reported_not_raised(tmp_path, monkeypatch):
    class CellError(Exception):
        ename, evalue = "ValueError", "boom"

    def fail(out):
        _failed_notebook(out)
        raise CellError("\n\nfirst line\nsecond")
    _fake_papermill(monkeypatch, fail)
    monkeypatch.setattr(runner.time, "perf_counter", _Clock(1.0, 4.0))
    logger = logging.getLogger("papermill")
    level, propagate = logger.level, logger.propagate
    log = []
    out = tmp_path / "05_a.ipynb"
    run = runner.run_notebook(tmp_path / "05_a.ipynb", out, budget="smoke", seed=0, device=None,
                              cell_timeout=1, results=tmp_path / "r.json", log=log)
    assert run == NotebookRun("05_a.ipynb", str(out), 3.0, False, cell=2, execution_count=2,
                              error="ValueError: boom", source="fit()")
    assert log[:2] == ["Executing cell 1", f"FAILED {run.failure()}"]
    assert log[2].startswith("Traceback") and log[2].rstrip().endswith("CellError: \n\nfirst line\nsecond")
    assert len(log) == 3
    # the executed copy up to the error is kept: the failure message points to it
    assert [c.source for c in __import__("nbformat").read(out, as_version=4).cells] == ["x = 1", "\nfit()"]
    assert os.listdir(tmp_path) == ["05_a.ipynb"]
    assert (logger.level, logger.propagate) == (level, propagate)


def test_run_notebook_failure_without_papermill_details(tmp_path, monkeypatch):
    def fail(out):
        raise RuntimeError("\n  \nkernel died\nmore")
    _fake_papermill(monkeypatch, fail)
    log = []
    run = runner.run_notebook(tmp_path / "07_b.ipynb", tmp_path / "o" / "07_b.ipynb", budget="full", seed=0,
                              device=None, cell_timeout=1, results=tmp_path / "r.json", log=log)
    assert (run.ok, run.cell, run.execution_count, run.source) == (False, None, None, None)
    assert run.error == "RuntimeError: kernel died"
    assert log[1] == f"FAILED 07_b.ipynb: before any cell ran: RuntimeError: kernel died — see {run.output}"


def test_run_notebook_lets_keyboard_interrupt_through_and_cleans_up(tmp_path, monkeypatch):
    def stop(out):
        raise KeyboardInterrupt
    _fake_papermill(monkeypatch, stop)
    logger = logging.getLogger("papermill")
    handlers = list(logger.handlers)
    with pytest.raises(KeyboardInterrupt):
        runner.run_notebook(tmp_path / "07_b.ipynb", tmp_path / "07_b.ipynb", budget="full", seed=0,
                            device=None, cell_timeout=1, results=tmp_path / "r.json", log=[])
    assert logger.handlers == handlers and logger.propagate is True


def test_versions(monkeypatch):
    import importlib.metadata as md
    import platform

    def version(pkg):
        if pkg in ("nbval", "ipywidgets"):
            raise md.PackageNotFoundError(pkg)
        return f"v-{pkg}"
    monkeypatch.setattr(md, "version", version)
    pkgs = ["torch", "torchvision", "numpy", "matplotlib", "tqdm", "papermill", "nbclient", "nbformat",
            "ipykernel", "jupyterlab"]
    assert list(runner._versions().items()) == [
        ("python", platform.python_version()), ("stnlib", runner.__version__),
        *[(p, f"v-{p}") for p in pkgs], ("nbval", "not installed"), ("ipywidgets", "not installed")]


def _fake_course(tmp_path, monkeypatch, fails=()):
    sol = _solutions(tmp_path, "00_a.ipynb", "05_b.ipynb", "07_c.ipynb")
    calls, snapshots, cleared = [], [], []
    monkeypatch.setattr(runner, "_versions", lambda: {"python": "3.x", "torch": "2.y"})
    monkeypatch.setattr(runner, "default_device", lambda: "fake-device")
    monkeypatch.setattr(runner, "clear_lesson_results", lambda path, lesson: cleared.append((path, lesson)))
    monkeypatch.setattr(runner, "report", lambda path: f"REPORT of {path}\n")

    def run_notebook(nb_path, out_nb, **kwargs):
        calls.append((nb_path, out_nb, kwargs, os.environ["JUPYTER_PATH"].split(os.pathsep)[0]))
        out = out_nb.parent
        snapshots.append(json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else None)
        kwargs["log"].append(f"ran {nb_path.name}")
        if nb_path.name == "05_b.ipynb":
            kwargs["results"].write_text("{}")
        ok = nb_path.name not in fails
        return NotebookRun(nb_path.name, str(out_nb), 1.25, ok, error=None if ok else "E: x")
    monkeypatch.setattr(runner, "run_notebook", run_notebook)
    return sol, calls, snapshots, cleared


def test_run_course_runs_each_notebook_and_writes_the_log_and_status(tmp_path, monkeypatch, capsys):
    sol, calls, snapshots, cleared = _fake_course(tmp_path, monkeypatch, fails=("00_a.ipynb",))
    out = tmp_path / "out"
    runs = runner.run_course(budget="smoke", lessons=["7", "0"], device="cpu", out=str(out),
                             solutions_dir=sol, seed=5, progress=False)
    assert [r.name for r in runs] == ["07_c.ipynb", "00_a.ipynb"]
    results = out / "results.json"
    assert [(c[0], c[1], c[2]["budget"], c[2]["seed"], c[2]["device"], c[2]["cell_timeout"], c[2]["results"])
            for c in calls] == [(sol / "07_c.ipynb", out / "07_c.ipynb", "smoke", 5, "cpu", 600, results),
                                (sol / "00_a.ipynb", out / "00_a.ipynb", "smoke", 5, "cpu", 600, results)]
    assert all(Path(c[3]).name.startswith("stn-kernel-") for c in calls)  # inside _this_python_kernel
    assert cleared == [(results, "07"), (results, "00")]
    info = json.loads((out / "run.json").read_text())
    started = info["started"]
    assert info == {"budget": "smoke", "device": "cpu", "seed": 5, "started": started, "notebooks": [
        {"name": "07_c.ipynb", "output": str(out / "07_c.ipynb"), "seconds": 1.25, "ok": True, "cell": None,
         "execution_count": None, "error": None, "source": None},
        {"name": "00_a.ipynb", "output": str(out / "00_a.ipynb"), "seconds": 1.25, "ok": False, "cell": None,
         "execution_count": None, "error": "E: x", "source": None}]}
    assert snapshots[0] is None and [n["name"] for n in snapshots[1]["notebooks"]] == ["07_c.ipynb"]
    assert (out / "run.log").read_text() == (
        f"stn-course run · budget smoke · device cpu · seed 5 · cell timeout 600 s · started {started}\n"
        "versions: python 3.x, torch 2.y\n\n"
        "=== 07_c.ipynb\nran 07_c.ipynb\nok     07_c.ipynb     1.2 s\n"
        "=== 00_a.ipynb\nran 00_a.ipynb\nFAILED 00_a.ipynb     1.2 s\n")
    assert capsys.readouterr().err == (
        "ok     07_c.ipynb     1.2 s\n"
        "FAILED 00_a.ipynb     1.2 s  (00_a.ipynb: before any cell ran: E: x — see "
        f"{out / '00_a.ipynb'})\n")
    assert not (out / "report.md").exists()  # no lesson recorded anything


def test_run_course_defaults_report_and_timeout(tmp_path, monkeypatch, capsys):
    sol, calls, _, _ = _fake_course(tmp_path, monkeypatch)
    monkeypatch.setattr(runner, "course_root", lambda: tmp_path)
    monkeypatch.setattr(runner, "default_solutions_dir", lambda: sol)
    monkeypatch.setenv("STN_BUDGET", "standard")
    runs = runner.run_course(cell_timeout=9, progress=False)
    out = tmp_path / "runs" / "standard"
    assert [r.output for r in runs] == [str(out / n) for n in ("00_a.ipynb", "05_b.ipynb", "07_c.ipynb")]
    assert {c[2]["cell_timeout"] for c in calls} == {9} and {c[2]["device"] for c in calls} == {None}
    assert {c[2]["seed"] for c in calls} == {0}
    assert (out / "report.md").read_text() == f"REPORT of {out / 'results.json'}\n"
    assert (out / "run.log").read_text().startswith(
        "stn-course run · budget standard · device fake-device · seed 0 · cell timeout 9 s · started ")
    assert json.loads((out / "run.json").read_text())["device"] is None
    calls.clear()
    runner.run_course(budget="full", solutions_dir=sol, lessons=["5"], out=tmp_path / "f", progress=False)
    assert [c[2]["cell_timeout"] for c in calls] == [24 * 3600]


def test_run_course_errors(tmp_path, monkeypatch):
    sol, calls, _, _ = _fake_course(tmp_path, monkeypatch)
    with pytest.raises(ValueError, match="budget"):
        runner.run_course(budget="huge", solutions_dir=sol, out=tmp_path / "o")
    with pytest.raises(ValueError):
        runner.run_course(budget="smoke", device="tpu", solutions_dir=sol, out=tmp_path / "o")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(f'no notebooks NN_name.ipynb in {empty}')}$"):
        runner.run_course(budget="smoke", solutions_dir=empty, out=tmp_path / "o")
    assert calls == [] and not (tmp_path / "o").exists()


def _fake_env(monkeypatch, *, cuda=False, spec_exe=None, spec_error=None, versions=None):
    import torch

    monkeypatch.setattr(runner, "_versions", lambda: versions or {"python": "3.x", "torch": "2.y",
                                                                  "nbval": "not installed"})
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"GPU{i}")
    monkeypatch.setattr(runner, "results_path", lambda: Path("/r/results.json"))
    monkeypatch.setattr(runner, "_data_rows", lambda: [("data root", "/d", True)])

    class Manager:
        def get_kernel_spec(self, name):
            assert name == "python3"
            if spec_error:
                raise spec_error
            return types.SimpleNamespace(argv=[spec_exe or sys.executable], resource_dir="/k/python3")
    import jupyter_client.kernelspec
    monkeypatch.setattr(jupyter_client.kernelspec, "KernelSpecManager", Manager)


def test_check_env_rows(monkeypatch):
    _fake_env(monkeypatch)
    monkeypatch.delenv("STN_BUDGET", raising=False)
    rows, ok = runner.check_env()
    assert rows == [
        ("python", "3.x", True), ("torch", "2.y", True), ("nbval", "not installed", True),
        ("stnlib location", str(Path(runner.__file__).resolve().parents[1]), True),
        ("CPU threads", "3", True),
        ("device", "cpu (no CUDA GPU visible)", True),
        ("default budget", "standard (STN_BUDGET=unset)", True),
        ("kernel python3", f"/k/python3 → {sys.executable}", True),
        ("results file", "/r/results.json", True),
        ("data root", "/d", True)]
    assert ok is True


def test_check_env_problems(monkeypatch):
    _fake_env(monkeypatch, cuda=True, spec_exe="/other/python",
              versions={"torch": "not installed", "jupyterlab": "not installed", "numpy": "1"})
    monkeypatch.setenv("STN_BUDGET", "huge")
    rows, ok = runner.check_env()
    table = {r[0]: r[1:] for r in rows}
    assert table["torch"] == ("not installed", False) and table["jupyterlab"] == ("not installed", True)
    assert table["numpy"] == ("1", True)
    assert table["device"] == ("cuda (GPU0)", True)
    assert table["default budget"] == ("environment variable STN_BUDGET='huge' is not a budget; expected "
                                       "one of 'smoke', 'standard', 'full'", False)
    assert table["kernel python3"] == (f"/k/python3 → /other/python (not this Python, {sys.executable}; "
                                       "`stn-course run` still uses this one, JupyterLab may not)", True)
    assert ok is False
    monkeypatch.setenv("STN_BUDGET", "smoke")
    table = {r[0]: r[1:] for r in runner.check_env()[0]}
    assert table["default budget"] == ("smoke (STN_BUDGET=smoke)", True)
    assert table["device"] == ("cuda (GPU0)", True)


@pytest.mark.parametrize("exe", ["python", "python3"])
def test_check_env_a_bare_python_kernel_is_fine(monkeypatch, exe):
    _fake_env(monkeypatch, spec_exe=exe)
    monkeypatch.setenv("STN_BUDGET", "smoke")
    rows, ok = runner.check_env()
    assert ("kernel python3", f"/k/python3 → {exe}", True) in rows and ok


def test_check_env_without_the_kernel(monkeypatch):
    _fake_env(monkeypatch, spec_error=KeyError("no python3"))
    monkeypatch.setenv("STN_BUDGET", "smoke")
    rows, ok = runner.check_env()
    assert ("kernel python3", "missing ('no python3'); run: python -m ipykernel install --sys-prefix",
            False) in rows
    assert ok is False


def test_data_rows(monkeypatch, tmp_path):
    from stnlib.data import fetch

    monkeypatch.setattr(fetch, "CHECKSUMS", {"mnist": {"a": 1, "b": 2}, "kmnist": {"c": 3}})
    monkeypatch.setattr(fetch, "data_root", lambda: tmp_path)
    monkeypatch.setattr(fetch, "raw_folder", lambda d: tmp_path / d)
    seen = []

    def verify(path, dataset, name):
        seen.append((path, dataset, name))
        return not (dataset == "mnist" and name == "b")
    monkeypatch.setattr(fetch, "verify_file", verify)
    assert runner._data_rows() == [
        ("data root", str(tmp_path), True),
        ("data: mnist", "missing or corrupt (1 of 2 files); fetched on first use, or now with "
                        "`stn-course data fetch mnist`", True),
        ("data: kmnist", "present, checksums verified", True)]
    assert seen == [(tmp_path / "mnist" / "a", "mnist", "a"), (tmp_path / "mnist" / "b", "mnist", "b"),
                    (tmp_path / "kmnist" / "c", "kmnist", "c")]

    def broken(d):
        raise OSError("denied")
    monkeypatch.setattr(fetch, "raw_folder", broken)
    assert runner._data_rows() == [("data", "could not inspect the data folder: denied", False)]


def test_data_rows_without_stnlib_data(monkeypatch):
    monkeypatch.setitem(sys.modules, "stnlib.data.fetch", None)
    [row] = runner._data_rows()
    assert row[0] == "data" and row[2] is True
    assert row[1].startswith("stnlib.data is not available (") and "stnlib.data.fetch" in row[1]


def _parser():
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    runner.add_cli(sub)
    return parser


def test_cli_run_arguments_and_summary(tmp_path, monkeypatch, capsys):
    calls = []
    out = tmp_path / "o"
    out.mkdir()

    def fake(**kwargs):
        calls.append(kwargs)
        return [NotebookRun("00_a.ipynb", str(out / "00_a.ipynb"), 1.4, True),
                NotebookRun("05_b.ipynb", str(out / "05_b.ipynb"), 2.2, True)]
    monkeypatch.setattr(runner, "run_course", fake)
    args = _parser().parse_args(["run"])
    assert args.func(args) == 0
    assert calls[-1] == {"budget": None, "lessons": None, "device": None, "out": None, "solutions_dir": None,
                         "seed": 0, "cell_timeout": None}
    assert capsys.readouterr().out == (f"\n2 notebook(s) in 4 s; executed notebooks, run.log and results "
                                       f"in {out}\n")
    (out / "report.md").write_text("t")
    args = _parser().parse_args(["run", "--budget", "smoke", "--lessons", "5, ,07,", "--device", "cpu",
                                 "--out", "O", "--seed", "3", "--cell-timeout", "60", "--solutions", "S"])
    assert args.func(args) == 0
    assert calls[-1] == {"budget": "smoke", "lessons": ["5", "07"], "device": "cpu", "out": "O",
                         "solutions_dir": "S", "seed": 3, "cell_timeout": 60}
    assert capsys.readouterr().out == (
        f"\n2 notebook(s) in 4 s; executed notebooks, run.log and results in {out}\n"
        f"replication table: {out / 'report.md'} (stn-course report {out})\n")
    with pytest.raises(SystemExit):
        _parser().parse_args(["run", "--budget", "huge"])


def test_cli_run_failures_and_errors(tmp_path, monkeypatch, capsys):
    runs = [NotebookRun("00_a.ipynb", str(tmp_path / "00_a.ipynb"), 1.0, False, error="E: a"),
            NotebookRun("05_b.ipynb", str(tmp_path / "05_b.ipynb"), 1.0, True),
            NotebookRun("07_c.ipynb", str(tmp_path / "07_c.ipynb"), 1.0, False, cell=2, error="E: c")]
    monkeypatch.setattr(runner, "run_course", lambda **k: runs)
    args = _parser().parse_args(["run", "--lessons", ""])
    assert args.func(args) == 1
    captured = capsys.readouterr()
    assert captured.err == f"\n2 notebook(s) failed:\n  {runs[0].failure()}\n  {runs[2].failure()}\n"
    assert captured.out == f"\n3 notebook(s) in 3 s; executed notebooks, run.log and results in {tmp_path}\n"
    for err in (ValueError("bad"), FileNotFoundError("gone")):
        def boom(err=err, **k):
            raise err
        monkeypatch.setattr(runner, "run_course", boom)
        assert args.func(args) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", f"stn-course run: error: {err}\n")


def test_cli_report(tmp_path, monkeypatch, capsys):
    committed = tmp_path / "committed" / "standard.json"
    monkeypatch.setattr(runner, "committed_results_path", lambda: committed)
    resolved = []

    def resolve(path):
        resolved.append(path)
        if path == "missing":
            raise FileNotFoundError("no results file at missing")
        return Path(path or tmp_path / "interactive" / "results.json")
    monkeypatch.setattr(runner, "resolve_results_file", resolve)
    monkeypatch.setattr(runner, "report", lambda file: f"| table of {file.name} |\n")
    args = _parser().parse_args(["report"])
    assert args.func(args) == 0
    assert resolved[-1] is None  # nothing committed: the default results file
    written = tmp_path / "interactive" / "report.md"
    assert written.read_text() == "| table of results.json |\n"
    assert capsys.readouterr().out == f"| table of results.json |\n\n(written to {written})\n"
    committed.parent.mkdir()
    committed.write_text("{}")
    assert args.func(args) == 0 and resolved[-1] == committed
    assert (committed.parent / "report.md").read_text() == "| table of standard.json |\n"
    capsys.readouterr()
    run_file = tmp_path / "run" / "results.json"
    args = _parser().parse_args(["report", str(run_file), "--no-write"])
    assert args.func(args) == 0 and resolved[-1] == str(run_file)
    assert capsys.readouterr().out == "| table of results.json |\n"
    assert not (tmp_path / "run").exists()
    args = _parser().parse_args(["report", "missing"])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "stn-course report: error: no results file at missing\n")
    monkeypatch.setattr(runner, "report", lambda file: (_ for _ in ()).throw(ValueError("bad schema")))
    args = _parser().parse_args(["report", "x.json"])
    assert args.func(args) == 2
    assert capsys.readouterr().err == "stn-course report: error: bad schema\n"


def test_cli_check_env_table(monkeypatch, capsys):
    rows = [("python", "3.11", True), ("kernel python3", "missing", False)]
    monkeypatch.setattr(runner, "check_env", lambda: (rows, False))
    args = _parser().parse_args(["check-env"])
    assert args.func(args) == 1
    assert capsys.readouterr().out == ("  python          3.11\n✗ kernel python3  missing\n\n"
                                       "something is missing: see the lines marked ✗\n")
    monkeypatch.setattr(runner, "check_env", lambda: (rows[:1], True))
    assert args.func(args) == 0
    assert capsys.readouterr().out == "  python  3.11\n\nall good\n"


def test_cli_help_texts():
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert {a.dest: a.help for a in sub._choices_actions} == {
        "run": "execute the solution notebooks at a budget (the main job)",
        "report": "print (and write) the replication table of a run",
        "check-env": "versions, device, Jupyter kernel and data"}
    run = sub.choices["run"]
    assert run.description == ("Execute the solutions/ notebooks with papermill and write the executed "
                               "notebooks, run.log, results.json and report.md.")
    opts = {a.dest: (a.help, a.default, a.metavar, a.choices) for a in run._actions}
    assert opts["budget"] == ("smoke | standard | full (default: $STN_BUDGET, else full with a GPU, "
                              "standard without)", None, None, ("smoke", "standard", "full"))
    assert opts["lessons"] == ("comma-separated lesson numbers (default: all)", None, "00,03", None)
    assert opts["device"] == ("cpu, cuda, cuda:1... (default: automatic)", None, None, None)
    assert opts["out"] == ("output folder (default: runs/<budget>)", None, None, None)
    assert opts["seed"] == ("SEED passed to every notebook", 0, None, None)
    assert opts["cell_timeout"] == ("per-cell time limit (default: the budget's)", None, "SECONDS", None)
    assert opts["solutions"] == ("folder of the notebooks to run (default: solutions/ of the repository)",
                                 None, None, None)
    report = {a.dest: (a.help, a.default) for a in sub.choices["report"]._actions}
    assert report["path"] == ("run folder or results.json (default: the committed results/standard.json, "
                              "else runs/interactive)", None)
    assert report["no_write"] == ("print only, do not write report.md", False)
    assert _parser().parse_args(["run", "--seed", "4", "--cell-timeout", "5"]).seed == 4


def test_collect_strips_only_newlines():
    lines = []
    for message in ("cell X \t\n", "cell X\n\n"):
        runner._Collect(lines).emit(logging.LogRecord("papermill", logging.INFO, "f", 1, message, (), None))
    assert lines == ["cell X \t", "cell X"]


def test_a_hung_notebook_is_the_last_of_several_started_and_a_blank_cell_has_no_first_line(tmp_path):
    path = _write(tmp_path, [_cell("a", count=1), _cell("b", count=2), _cell("c", count=3),
                             _cell("d", start=False)])
    assert _failing_cell(path) == (3, 3, "c")
    path = _write(tmp_path, [_cell("a", count=1), _cell("  \n", count=2, exception=True)])
    assert _failing_cell(path) == (2, 2, "")


def test_run_notebook_failure_with_an_empty_message_and_its_traceback_in_the_log(tmp_path, monkeypatch):
    import traceback

    raised = []

    def fail(out):
        err = RuntimeError()
        raised.append(err)
        raise err
    _fake_papermill(monkeypatch, fail)
    log = []
    run = runner.run_notebook(tmp_path / "07_b.ipynb", tmp_path / "07_b.ipynb", budget="full", seed=0,
                              device=None, cell_timeout=1, results=tmp_path / "r.json", log=log)
    assert run.error == "RuntimeError: "
    assert log[2] == "".join(traceback.format_exception(raised[0]))


class _Bar:
    """A stand-in for tqdm (a real bar in a forked mutation-testing child can hang on tqdm's locks)."""

    made: list = []

    def __init__(self, iterable, **kwargs):
        self.iterable, self.kwargs, self.postfix = list(iterable), kwargs, []
        _Bar.made.append(self)

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix_str(self, text):
        self.postfix.append(text)

    @staticmethod
    def write(line, file=None):
        file.write(line + "\n")


def test_run_course_progress_bar_only_when_asked(tmp_path, monkeypatch, capsys):
    import tqdm

    sol, calls, _, _ = _fake_course(tmp_path, monkeypatch)
    out = tmp_path / "out"
    out.mkdir()  # an existing run folder is reused
    monkeypatch.setattr(tqdm, "tqdm", _Bar)
    monkeypatch.setattr(_Bar, "made", [])
    runner.run_course(budget="smoke", solutions_dir=sol, out=out, progress=False)
    runner.run_course(budget="standard", solutions_dir=sol, out=out, lessons=["7", "5"])
    quiet, shown = _Bar.made
    names = [sol / n for n in ("00_a.ipynb", "05_b.ipynb", "07_c.ipynb")]
    assert (quiet.iterable, quiet.kwargs) == (names, {"desc": "stn-course run [smoke]", "unit": "notebook",
                                                      "disable": True, "file": sys.stderr})
    assert quiet.postfix == ["00_a.ipynb", "05_b.ipynb", "07_c.ipynb"]
    assert (shown.iterable, shown.kwargs) == ([names[2], names[1]], {
        "desc": "stn-course run [standard]", "unit": "notebook", "disable": False, "file": sys.stderr})
    assert shown.postfix == ["07_c.ipynb", "05_b.ipynb"]
    assert capsys.readouterr().err == "".join(f"ok     {n}     1.2 s\n" for n in (
        "00_a.ipynb", "05_b.ipynb", "07_c.ipynb", "07_c.ipynb", "05_b.ipynb"))


def test_run_json_text_and_start_time(tmp_path, monkeypatch):
    sol, _, _, _ = _fake_course(tmp_path, monkeypatch)
    out = tmp_path / "out"
    runner.run_course(budget="smoke", solutions_dir=sol, out=out, lessons=["5"], progress=False)
    text = (out / "run.json").read_text()
    info = json.loads(text)
    assert text == json.dumps(info, indent=1) + "\n"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", info["started"])


def test_check_env_required_packages(monkeypatch):
    names = ["torch", "torchvision", "numpy", "matplotlib", "tqdm", "papermill", "nbclient", "nbformat",
             "ipykernel", "jupyterlab", "nbval", "ipywidgets"]
    _fake_env(monkeypatch, versions=dict.fromkeys(names, "not installed"))
    monkeypatch.setenv("STN_BUDGET", "smoke")
    rows, ok = runner.check_env()
    assert [(name, good) for name, _, good in rows[:len(names)]] == [
        (n, n not in {"torch", "torchvision", "numpy", "matplotlib", "tqdm", "papermill", "nbformat",
                      "ipykernel"}) for n in names]
    assert ok is False


def test_cli_run_one_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "run_course", lambda **k: [NotebookRun("00_a.ipynb", str(tmp_path / "00_a.ipynb"),
                                                                       0.4, True)])
    args = _parser().parse_args(["run"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == (f"\n1 notebook(s) in 0 s; executed notebooks, run.log and results "
                                       f"in {tmp_path}\n")
