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


def test_the_cell_that_raised_is_named_by_its_number_in_the_source(tmp_path):
    bare = nbformat.v4.new_markdown_cell("no metadata at all")
    bare.metadata = {}
    path = _write(tmp_path, [
        _cell("An Exception was encountered", tags=["papermill-error-cell-tag"], kind="markdown"),  # papermill's banner
        _cell("# Title", kind="markdown"),
        _cell("BUDGET = None", tags=["parameters"], count=1, exception=False),
        _cell('BUDGET = "smoke"', tags=["injected-parameters"], count=2, exception=False),  # papermill's
        _cell("x = 1", count=3, exception=False),
        _cell("\n\n   raise ValueError('boom')  \nmore()", count=4, exception=True),
        bare,
        _cell("after()", count=5, exception=True),  # a later failure is not the first
    ])
    # cells: (banner and injected: not in the source) 1 markdown, 2 parameters, 3 x = 1, 4 the raise
    assert _failing_cell(path) == (4, 4, "raise ValueError('boom')")
    path = _write(tmp_path, [bare, _cell("x = 1", count=1, exception=False), bare,
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
