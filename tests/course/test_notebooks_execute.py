"""The course's notebooks: smoke runs with papermill, lessons in sync, hygiene.

nbval itself runs on ``lessons/`` and ``solutions/`` (``--nbval-lax``, see
``pyproject.toml``): every lesson cell but the exercises must run, and the
solution cells marked ``# NBVAL_CHECK_OUTPUT`` must print what is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from stnlib.course import notebooks, runner

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob(notebooks.NOTEBOOK_GLOB))
LESSONS = sorted((ROOT / "lessons").glob(notebooks.NOTEBOOK_GLOB))
SMOKE_LIMIT_S = 120  # each notebook well under 2 minutes at smoke on 2 cores
MAX_OUTPUT_BYTES = 2_000_000


def _ids(paths):
    return [p.name for p in paths]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert SOLUTIONS, "solutions/ holds no NN_name.ipynb"
    assert [p.name for p in LESSONS] == [p.name for p in SOLUTIONS]


def test_lessons_are_generated_from_solutions():
    problems = notebooks.make_lessons(ROOT / "solutions", ROOT / "lessons", check=True)
    assert not problems, ("lessons/ is not what solutions/ generates; run "
                          "`stn-course make-lessons`:\n" + "\n".join(problems))


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_runs_at_smoke_with_papermill(path, tmp_path):
    [run] = runner.run_course(budget="smoke", lessons=[path.name[:2]], device="cpu",
                              out=tmp_path, solutions_dir=path.parent, progress=False)
    assert run.ok, run.failure() + "\n" + (tmp_path / "run.log").read_text()[-3000:]
    assert run.seconds < SMOKE_LIMIT_S, f"{path.name} took {run.seconds:.0f} s at smoke"
    executed = nbformat.read(tmp_path / path.name, as_version=4)
    for i, cell in enumerate(_code_cells(executed)):
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.output_type == "stream" else ""
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{path.name}, code cell {i}: prints to stderr (warnings?): {text[:500]}")
    results_file = tmp_path / "results.json"  # absent when a lesson compares nothing with a paper
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    assert all(r["budget"] == "smoke" for r in results)


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert path.stat().st_size < MAX_OUTPUT_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    code = _code_cells(nb)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    for name in ("BUDGET", "SEED", "DEVICE"):
        assert f"{name} = " in params[0].source, f"the parameters cell must set {name}"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: cells not executed once, top to bottom, in a fresh kernel: {counts}")
    for i, cell in enumerate(code):
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name}, code cell {i}: stored error"
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{path.name}, code cell {i}: stored stderr output: {out.text[:300]}")
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert "Warning" not in text, f"{path.name}, code cell {i}: a warning is stored"
    assert "standard" in nb.cells[0].source, "say which budget the stored outputs come from"
    assert "budget standard" in "".join(o.get("text", "") for o in code[1].outputs), (
        "stored outputs must come from a standard run")


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    exercises = 0
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        assert "teacher" not in tags and "solution" not in tags
        assert notebooks.BEGIN not in cell.source and notebooks.END not in cell.source
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name}, cell {i}: lessons have no stored outputs")
        if "raises-exception" in tags:
            exercises += 1
            assert "raise NotImplementedError(" in cell.source, (
                f"{path.name}, cell {i}: an exercise cell must raise NotImplementedError")
    assert exercises >= 1, f"{path.name} has no exercise"
