"""The course's notebooks: smoke runs with papermill, lessons in sync, hygiene.

Every solution runs once, here, through ``stn-course run`` (papermill) at the
``smoke`` budget: it must finish without an error, a warning or stderr output,
 and the cells marked ``# NBVAL_CHECK_OUTPUT`` must
print exactly what the solution stores (what ``nbval`` would compare; checking
it here saves a second execution of every solution). nbval itself runs the
student copies in ``lessons/`` (``--nbval-lax``, see ``pyproject.toml``):
every cell but the exercises must run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from helpers import STALE_STORED_OUTPUTS

from stnlib.course import notebooks, runner

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob(notebooks.NOTEBOOK_GLOB))
LESSONS = sorted((ROOT / "lessons").glob(notebooks.NOTEBOOK_GLOB))
MAX_OUTPUT_BYTES = 2_000_000


def _ids(paths):
    return [p.name for p in paths]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


CHECK_OUTPUT = "# NBVAL_CHECK_OUTPUT"


def _shown(cell) -> list[tuple[str, str]]:
    """What a cell shows as text: (kind, text) per output, as nbval compares them."""
    shown = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            if shown and shown[-1][0] == out.name:  # one stream may arrive in several pieces
                shown[-1] = (out.name, shown[-1][1] + out.text)
            else:
                shown.append((out.name, out.text))
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            if not {"image/png", "application/vnd.jupyter.widget-view+json"} & set(out.data):
                shown.append((out.output_type, out.data["text/plain"]))
        elif out.output_type == "error":
            shown.append(("error", f"{out.ename}: {out.evalue}"))
    return shown


def checked_output_differences(stored, executed) -> list[str]:
    """The cells marked ``# NBVAL_CHECK_OUTPUT`` whose executed text differs from the stored text."""
    problems = []
    ran = [c for c in _code_cells(executed)  # papermill adds a cell with the injected parameters
           if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    for i, (a, b) in enumerate(zip(_code_cells(stored), ran, strict=True)):
        if CHECK_OUTPUT in a.source and _shown(a) != _shown(b):
            problems.append(f"code cell {i} ({a.source.splitlines()[1][:60] if a.source.count(chr(10)) else ''}): "
                            f"stored {_shown(a)!r}, now {_shown(b)!r}")
    return problems


def test_checked_output_comparison_finds_a_changed_cell():
    def nb(text):
        cell = nbformat.v4.new_code_cell(f"{CHECK_OUTPUT}\nprint(1)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        plain = nbformat.v4.new_code_cell("print(2)")
        plain.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return nbformat.v4.new_notebook(cells=[cell, plain])

    assert checked_output_differences(nb("1\n"), nb("1\n")) == []
    [problem] = checked_output_differences(nb("1\n"), nb("2\n"))
    assert problem.startswith("code cell 0")


#: a number in scientific notation (3.2e-07, 0.0e+00)
SCIENTIFIC = re.compile(r"[-+]?\d+(?:\.\d+)?e[-+]?\d+", re.IGNORECASE)


def round_off_in_checked_outputs(nb) -> list[str]:
    """Numbers below 1e-4 in scientific notation that a ``# NBVAL_CHECK_OUTPUT`` cell prints and
    its source does not spell out: round-off residues, which differ from machine to machine and
    with the thread count, so a compared output must not show them ("below 1e-6" instead)."""
    found = []
    for i, cell in enumerate(_code_cells(nb)):
        if CHECK_OUTPUT not in cell.source:
            continue
        text = "".join(t for _, t in _shown(cell))
        for number in SCIENTIFIC.findall(text):
            if abs(float(number)) < 1e-4 and number not in cell.source:
                found.append(f"code cell {i} prints {number}")
    return found


def test_the_round_off_rule_fires_on_a_residue_and_not_on_a_literal():
    def nb(source, text):
        cell = nbformat.v4.new_code_cell(f"{CHECK_OUTPUT}\n{source}")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        unchecked = nbformat.v4.new_code_cell(source)
        unchecked.outputs = [nbformat.v4.new_output("stream", name="stdout", text="gap 1.0e-09\n")]
        return nbformat.v4.new_notebook(cells=[cell, unchecked])

    assert round_off_in_checked_outputs(nb("print(f'{gap:.1e}')", "gap 3.2e-07\n")) == [
        "code cell 0 prints 3.2e-07"]
    assert round_off_in_checked_outputs(nb("print(f'{gap:.1e}')", "gap 0.0e+00\n")) == [
        "code cell 0 prints 0.0e+00"]
    assert round_off_in_checked_outputs(nb("print('below 1e-5')", "below 1e-5\n")) == []  # a literal
    assert round_off_in_checked_outputs(nb("print(f'{x:.1e}')", "x 2.5e+03\n")) == []  # large: no residue


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_checked_outputs_carry_no_round_off(path):
    """What nbval compares must read the same on any machine (issue: 3.2e-07 here, 3.4e-07 there)."""
    assert round_off_in_checked_outputs(nbformat.read(path, as_version=4)) == []


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
    executed = nbformat.read(tmp_path / path.name, as_version=4)
    for i, cell in enumerate(_code_cells(executed)):
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.output_type == "stream" else ""
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{path.name}, code cell {i}: prints to stderr (warnings?): {text[:500]}")
    problems = checked_output_differences(nbformat.read(path, as_version=4), executed)
    if path.name[:2] in STALE_STORED_OUTPUTS:  # its stored outputs predate its source (see helpers)
        problems = []
    assert not problems, f"{path.name}: cells marked {CHECK_OUTPUT} print something else now:\n" + \
        "\n".join(problems)
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
