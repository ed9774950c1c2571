"""An unsolved exercise shows one line (issue 26): in a student copy, an exercise cell (tagged
``raises-exception``) only defines what the exercise asks for, so running it unsolved raises
nothing; the check cell after it answers an open exercise with its one line
(``stnlib.course.checking.not_written_yet``). A call of the exercise's own function in that cell
would show a full ``NotImplementedError`` traceback instead."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: lessons whose exercise cells still call their own function (not yet moved into the check cell)
STILL_CALLING: set[str] = set()


def _calls_at_top_level(source: str) -> list[str]:
    """The top-level statements of a cell that run something (not a def, class or import)."""
    keep = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    return [ast.get_source_segment(source, s) or type(s).__name__
            for s in ast.parse(source).body if not isinstance(s, keep)]


def test_the_check_finds_a_call_after_the_definition():
    stub = 'def f(x):\n    raise NotImplementedError("Exercise")\n\n\nf(1)'
    assert _calls_at_top_level(stub) == ["f(1)"]
    assert _calls_at_top_level("import torch\n\n\ndef f(x):\n    return x") == []


@pytest.mark.parametrize("lesson", sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")))
def test_exercise_cells_of_student_copies_only_define(lesson):
    import nbformat

    nb = nbformat.read(ROOT / "lessons" / lesson, as_version=4)
    found = {i: _calls_at_top_level(c.source) for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "raises-exception" in c.metadata.get("tags", [])}
    assert found, f"{lesson} has no exercise cell"
    calling = {i: calls for i, calls in found.items() if calls}
    if lesson[:2] in STILL_CALLING:
        assert calling, f"{lesson} is fixed: remove it from STILL_CALLING"
        pytest.xfail("issue 26: this lesson's exercise cells still call their own function")
    assert not calling, (f"{lesson}: exercise cells that run code (an unsolved one shows a traceback; "
                         f"move the call into the check cell, run when the check passed): {calling}")
