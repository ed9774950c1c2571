"""make-lessons and store-outputs on tiny in-memory notebooks: exact student copies, exact messages.

Fast (no kernel, no real solutions): every notebook is built here with nbformat.
"""

import argparse
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbtools import code, markdown, notebook, write

from stnlib.course import notebooks
from stnlib.course.notebooks import MarkerError

STUB = 'raise NotImplementedError("Exercise: {}, then delete this line.")'
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


# ---------------------------------------------------------------- strip_solution


def test_strip_solution_exact_text_names_the_last_def_or_class_before_the_block():
    source = "\n".join([
        "import x",
        "### BEGIN SOLUTION",
        "y = 1",
        "### END SOLUTION",
        "class Net:",
        "    async def forward(self, a):",
        "        ### BEGIN SOLUTION",
        "        def inner():",
        "            pass",
        "        return a",
        "        ### END SOLUTION",
        "  ### BEGIN SOLUTION  ",
        "z = 2",
        "### END SOLUTION",
        "tail = 3",
    ])
    assert notebooks.strip_solution(source) == "\n".join([
        "import x",
        STUB.format("write this part"),
        "class Net:",
        "    async def forward(self, a):",
        "        " + STUB.format("complete `forward`"),
        "  " + STUB.format("complete `forward`"),  # `inner` was inside the block: not counted
        "tail = 3",
    ])


def test_strip_solution_names_a_class_and_keeps_text_without_markers():
    assert notebooks.strip_solution("class A:\n### BEGIN SOLUTION\n### END SOLUTION") == (
        "class A:\n" + STUB.format("complete `A`"))
    assert notebooks.strip_solution("a\n\nb\n") == "a\n\nb"


@pytest.mark.parametrize("source, message", [
    ("x\n### BEGIN SOLUTION\n  ### BEGIN SOLUTION\n### END SOLUTION",
     "here, line 3: ### BEGIN SOLUTION inside another solution block"),
    ("x\ny\n### END SOLUTION", "here, line 3: ### END SOLUTION without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### END SOLUTION\n### BEGIN SOLUTION",
     "here: ### BEGIN SOLUTION without ### END SOLUTION"),
])
def test_strip_solution_errors_word_for_word(source, message):
    with pytest.raises(MarkerError, match=f"^{re.escape(message)}$"):
        notebooks.strip_solution(source, where="here")


def test_strip_solution_default_place_is_cell():
    with pytest.raises(MarkerError, match=f"^{re.escape('cell: ### BEGIN SOLUTION without')}"):
        notebooks.strip_solution("### BEGIN SOLUTION")


# ---------------------------------------------------------------- small helpers


def test_comment_header_keeps_leading_comments_across_blank_lines_only():
    assert notebooks._comment_header("# a\n\n# b\nx = 1\n# c") == ["# a", "# b"]
    assert notebooks._comment_header("\n# a\nx") == []
    assert notebooks._comment_header("x = 1\n# a") == []
    assert notebooks._comment_header(" # indented\nx") == []


def test_images_are_the_pngs_of_display_and_result_outputs_only():
    cell = code("x")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "AAA", "text/plain": "f"}),
        nbformat.v4.new_output("stream", text="hi\n"),
        nbformat.v4.new_output("execute_result", data={"image/png": ["BB", "\nCC"]}, execution_count=1),
        nbformat.v4.new_output("display_data", data={"text/plain": "no figure"}),
        nbformat.v4.new_output("display_data", data={"image/png": ""}),
    ]
    # an output_type outside the two is never read, even with a png in it
    cell.outputs.append({"output_type": "update_display_data", "data": {"image/png": "DD"}})
    assert notebooks._images(cell) == ["AAA", "BB\nCC"]
    assert notebooks._images({"cell_type": "code"}) == []


def test_example_output_cell_exact():
    cell = notebooks.example_output_cell(["A\nB", "C"], key="cell7")
    assert cell.cell_type == "markdown"
    assert cell.source == ("*Example output* (what the solution draws):\n\n"
                           "![example output](attachment:cell7_1.png)\n\n"
                           "![example output](attachment:cell7_2.png)")
    assert cell.attachments == {"cell7_1.png": {"image/png": "AB"}, "cell7_2.png": {"image/png": "C"}}
    assert cell.metadata == {"tags": ["example-output"]}
    assert cell.id == "example-output-cell7"


NOTE = "Top. The outputs stored in this notebook come from X. The outputs stored in this notebook again."


def test_student_note_rewrites_the_first_claim_only():
    assert notebooks.student_note(NOTE, name="05_n.ipynb", where="w") == (
        "Top. This student copy has no stored outputs (run it to see them); the outputs stored in its "
        "solution, `solutions/05_n.ipynb`, come from X. The outputs stored in this notebook again.")
    assert notebooks.student_note(NOTE, name="05_n.ipynb", where="w", classroom=True) == (
        "Top. This copy has no stored outputs (run it to see them); the outputs of the solution "
        "come from X. The outputs stored in this notebook again.")


def test_student_note_without_the_claim_is_an_error_word_for_word():
    message = "nb, cell 2: tagged 'stored-outputs-note' but has no \"The outputs stored in this notebook …\" " \
              "sentence to rewrite"
    with pytest.raises(MarkerError, match=f"^{re.escape(message)}$"):
        notebooks.student_note("nothing", name="n", where="nb, cell 2")


# ---------------------------------------------------------------- make_lesson


def test_make_lesson_metadata_language_info_and_run_state():
    nb = notebook(code("x = 1"))
    nb.metadata["papermill"] = {"parameters": {}}
    nb.metadata["widgets"] = {"state": {}}
    lesson = notebooks.make_lesson(nb)
    assert dict(lesson.metadata) == {"kernelspec": nb.metadata["kernelspec"],
                                     "language_info": notebooks.LANGUAGE_INFO}
    lesson.metadata["language_info"]["codemirror_mode"]["version"] = 99  # a copy, not the constant
    assert notebooks.LANGUAGE_INFO["codemirror_mode"]["version"] == 3
    # no language_info at all: a Python notebook, written in full; no kernelspec: none written
    bare = nbformat.v4.new_notebook(cells=[code("x")])
    assert dict(notebooks.make_lesson(bare).metadata) == {"language_info": notebooks.LANGUAGE_INFO}
    # another language keeps its own
    other = notebook(code("x"))
    other.metadata["language_info"] = {"name": "R", "version": "4"}
    assert notebooks.make_lesson(other).metadata["language_info"] == {"name": "R", "version": "4"}
    other.metadata["language_info"] = {"version": "4"}  # no name: taken as Python
    assert notebooks.make_lesson(other).metadata["language_info"] == notebooks.LANGUAGE_INFO


def test_make_lesson_cells_tags_metadata_and_outputs():
    ran = code("# NBVAL_CHECK_OUTPUT\nprint(1)\n  # NBVAL_IGNORE_OUTPUT  \nprint(2)", "keep-me",
               editable=False, papermill={"duration": 1}, execution={"t": "1"}, collapsed=True)
    ran.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    ran.execution_count = 4
    md = markdown("# NBVAL_CHECK_OUTPUT stays in markdown")
    md.metadata["slideshow"] = {"slide_type": "slide"}
    md.metadata["other"] = 1
    nb = notebook(
        md,
        code("print('t')", "teacher", "x"),
        ran,
        code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "raises-exception"),
        code("# Task\nx = 1", "solution", "other-tag"),
        markdown("answer", "solution"),
    )
    before = notebooks.render(nb)
    lesson = notebooks.make_lesson(nb, name="05_x.ipynb")
    assert notebooks.render(nb) == before, "the solution is not modified"
    assert [c.source for c in lesson.cells] == [
        "# NBVAL_CHECK_OUTPUT stays in markdown",
        "print(1)\nprint(2)",
        "def f():\n    " + STUB.format("complete `f`"),
        "# Task\n" + STUB.format("write this part"),
        "*Your answer here.*",
    ]
    assert [dict(c.metadata) for c in lesson.cells] == [
        {"slideshow": {"slide_type": "slide"}},
        {"tags": ["keep-me"], "editable": False},
        {"tags": ["raises-exception"]},  # not twice
        {"tags": ["other-tag", "raises-exception"]},
        {},
    ]
    assert lesson.cells[1].outputs == [] and lesson.cells[1].execution_count is None
    assert "outputs" not in lesson.cells[4]


def test_make_lesson_solution_cell_without_a_comment_gets_the_generic_task():
    lesson = notebooks.make_lesson(notebook(code("x = 1\ny = 2", "solution")))
    assert lesson.cells[0].source == "# Exercise: write the code for this cell.\n" + STUB.format(
        "write this part")


def test_make_lesson_keep_solutions_marks_what_nbgrader_clears():
    nb = notebook(
        code("# Task one\n\n# more\ndef g():\n    return 1\nclass K:\n    pass", "solution"),
        markdown("Because.", "solution"),
        code("def f(a):\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION\nasync def h(): pass"),
        code("print(1)"),
        markdown("The outputs stored in this notebook are X.", "stored-outputs-note"),
    )
    lesson = notebooks.make_lesson(nb, name="05_x.ipynb", keep_solutions=True)
    assert [c.source for c in lesson.cells] == [
        "# Task one\n# more\n### BEGIN SOLUTION\ndef g():\n    return 1\nclass K:\n    pass\n"
        "### END SOLUTION",
        "### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
        nb.cells[2].source,
        "print(1)",
        "This copy has no stored outputs (run it to see them); the outputs of the solution are X.",
    ]
    assert [dict(c.metadata) for c in lesson.cells] == [
        {"tags": ["raises-exception"], "stn_exercise": ["K", "g"]},
        {"stn_exercise": []},  # a markdown answer: no raises-exception tag
        {"tags": ["raises-exception"], "stn_exercise": ["f", "h"]},
        {},
        {},
    ]


def test_make_lesson_keep_solutions_still_checks_the_markers():
    nb = notebook(code("x", "y"), code("### BEGIN SOLUTION\nx = 1"))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_x, cell 1: ### BEGIN SOLUTION without')}"):
        notebooks.make_lesson(nb, name="05_x", keep_solutions=True)


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("text", ["### BEGIN SOLUTION\nx", "x\n### END SOLUTION"])
def test_markers_in_a_plain_markdown_cell_are_an_error(text, keep):
    nb = notebook(code("a"), markdown(text))
    with pytest.raises(MarkerError, match=f"^{re.escape('nb9, cell 1: solution markers only work in code cells')}$"):
        notebooks.make_lesson(nb, name="nb9", keep_solutions=keep)


def test_make_lesson_stored_claim_without_the_tag_is_an_error_word_for_word():
    nb = notebook(markdown("The outputs stored in this notebook are X."))
    message = ("nb, cell 0: \"The outputs stored in this notebook …\" would be false in the student copy: "
               "tag the cell 'stored-outputs-note'")
    with pytest.raises(MarkerError, match=f"^{re.escape(message)}$"):
        notebooks.make_lesson(nb, name="nb")
    # in a code cell the sentence is no claim about the notebook
    assert notebooks.make_lesson(notebook(code("# The outputs stored in this notebook"))).cells[0].source == (
        "# The outputs stored in this notebook")


def test_make_lesson_default_name_in_messages():
    with pytest.raises(MarkerError, match=f"^{re.escape('notebook, cell 0: solution markers')}"):
        notebooks.make_lesson(notebook(markdown("### END SOLUTION")))


def test_example_outputs_follow_their_cell_with_the_solution_index_as_key():
    fig = code("plot()")
    fig.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG})]
    nb = notebook(code("t", "teacher"), markdown("text"), fig, code("after"))
    nb.cells[1]["outputs"] = [nbformat.v4.new_output("display_data", data={"image/png": "X"})]  # never read
    lesson = notebooks.make_lesson(nb)
    assert [c.source.splitlines()[0] for c in lesson.cells] == [
        "text", "plot()", notebooks.EXAMPLE_OUTPUT, "after"]
    assert lesson.cells[2].id == "example-output-cell2"
    assert lesson.cells[2].attachments == {"cell2_1.png": {"image/png": PNG}}


def test_render_is_nbformat_text_plus_a_newline():
    nb = notebook(code("x"))
    assert notebooks.render(nb) == nbformat.writes(nb) + "\n"


# ---------------------------------------------------------------- make_lessons


def _solution(source="x = 1"):
    return notebook(markdown("# L"), code(source))


def test_make_lessons_writes_reports_and_checks(tmp_path):
    sol, les = tmp_path / "solutions", tmp_path / "lessons"
    write(sol / "05_a.ipynb", _solution())
    write(sol / "06_b.ipynb", _solution("y = 2"))
    write(sol / "notes.ipynb", _solution())  # not NN_name: ignored
    assert notebooks.make_lessons(sol, les, check=True) == [f"{les / '05_a.ipynb'}: missing",
                                                            f"{les / '06_b.ipynb'}: missing"]
    assert not les.exists()
    assert notebooks.make_lessons(str(sol), str(les)) == [f"{les / '05_a.ipynb'}: missing",
                                                          f"{les / '06_b.ipynb'}: missing"]
    expected = notebooks.render(notebooks.make_lesson(nbformat.read(sol / "05_a.ipynb", as_version=4),
                                                      name="05_a.ipynb"))
    assert (les / "05_a.ipynb").read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in les.iterdir()) == ["05_a.ipynb", "06_b.ipynb"]  # no temp file left
    assert notebooks.make_lessons(sol, les) == []
    write(sol / "06_b.ipynb", _solution("y = 3"))
    write(les / "07_gone.ipynb", _solution())
    problems = [f"{les / '06_b.ipynb'}: out of date",
                f"{les / '07_gone.ipynb'}: no solutions/07_gone.ipynb (delete it or restore the source)"]
    assert notebooks.make_lessons(sol, les, check=True) == problems
    assert (les / "06_b.ipynb").read_text(encoding="utf-8") != notebooks.render(
        notebooks.make_lesson(nbformat.read(sol / "06_b.ipynb", as_version=4), name="06_b.ipynb"))
    assert notebooks.make_lessons(sol, les) == problems
    assert notebooks.make_lessons(sol, les, check=True) == problems[1:]  # the stale one is not deleted


def test_make_lessons_writes_atomically(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(notebooks, "write_text", lambda path, text: calls.append((path, text)))
    source = write(tmp_path / "s" / "05_a.ipynb", _solution())
    notebooks.make_lessons(tmp_path / "s", tmp_path / "l")
    assert calls == [(tmp_path / "l" / "05_a.ipynb", notebooks.render(
        notebooks.make_lesson(nbformat.read(source, as_version=4), name="05_a.ipynb")))]


def test_make_lessons_without_solutions_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(f'solutions folder {missing} does not exist')}$"):
        notebooks.make_lessons(missing, tmp_path / "l")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileNotFoundError):
        notebooks.make_lessons(tmp_path / "file", tmp_path / "l")


def test_make_lessons_names_the_notebook_in_marker_errors(tmp_path):
    write(tmp_path / "s" / "05_a.ipynb", notebook(code("x"), markdown("### BEGIN SOLUTION")))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_a.ipynb, cell 1: solution markers')}"):
        notebooks.make_lessons(tmp_path / "s", tmp_path / "l")


# ---------------------------------------------------------------- store_outputs


def _executed(solution):
    run = nbformat.v4.new_notebook(cells=[code("# Parameters\nBUDGET = 'smoke'", "injected-parameters")])
    for i, cell in enumerate(solution.cells):
        ran = nbformat.from_dict(json.loads(json.dumps(cell)))
        if ran.cell_type == "code":
            ran.execution_count = 10 + i
            ran.outputs = [nbformat.v4.new_output("stream", text=f"out {i}\n"),
                           nbformat.v4.new_output("execute_result", data={"text/plain": str(i)},
                                                  execution_count=10 + i)]
            ran.metadata["papermill"] = {"duration": 1.5}
            ran.metadata["execution"] = {"iopub.status.busy": "t"}
        run.cells.append(ran)
    run.cells.append(code("raise", "papermill-error-cell-tag"))
    return run


def test_store_outputs_copies_outputs_and_renumbers():
    sol = notebook(markdown("# L"), code("a = 1", "keep", other=5), code("b = 2"))
    sol.cells[2].outputs = [nbformat.v4.new_output("stream", text="old\n")]
    out = notebooks.store_outputs(_executed(sol), sol, name="05_a.ipynb")
    assert out.cells[0] == sol.cells[0]
    assert [c.execution_count for c in out.cells[1:]] == [1, 2]
    assert [[o.get("text") for o in c.outputs] for c in out.cells[1:]] == [["out 1\n", None], ["out 2\n", None]]
    assert [[o.get("execution_count") for o in c.outputs] for c in out.cells[1:]] == [[None, 1], [None, 2]]
    assert [dict(c.metadata) for c in out.cells[1:]] == [{"tags": ["keep"], "other": 5}, {}]
    assert sol.cells[2].outputs[0].text == "old\n", "the solution itself is not modified"
    assert out.metadata == sol.metadata


def test_store_outputs_errors_word_for_word():
    sol = notebook(markdown("# L"), code("a = 1"))
    run = _executed(sol)
    run.cells.append(code("extra"))
    with pytest.raises(ValueError, match=f"^{re.escape('n: the run has 3 cells, the solution 2; run the notebook again')}$"):
        notebooks.store_outputs(run, sol, name="n")
    run = _executed(sol)
    run.cells[2].source = "a = 2"
    with pytest.raises(ValueError, match=f"^{re.escape('n, cell 1: the source changed since the run; run the notebook again')}$"):
        notebooks.store_outputs(run, sol, name="n")
    run = _executed(sol)
    run.cells[1].source = "# changed markdown"
    with pytest.raises(ValueError, match="^n, cell 0: the source changed"):
        notebooks.store_outputs(run, sol, name="n")
    run = _executed(sol)
    run.cells[2].execution_count = None
    with pytest.raises(ValueError, match=f"^{re.escape('n, cell 1 did not run (a failed run?)')}$"):
        notebooks.store_outputs(run, sol, name="n")
    with pytest.raises(ValueError, match="^notebook: the run has"):
        notebooks.store_outputs(nbformat.v4.new_notebook(), sol)


# ---------------------------------------------------------------- store_run_outputs and the CLIs


def _run_dir(tmp_path, names, *, budget="standard", ok=True):
    run, sol = tmp_path / "run", tmp_path / "solutions"
    info = {"budget": budget, "notebooks": []}
    for n in names:
        nb = notebook(code(f"x = '{n}'"))
        write(sol / n, nb)
        write(run / n, _executed(nb))
        info["notebooks"].append({"name": n, "ok": ok})
    (run / "run.json").write_text(json.dumps(info))
    return run, sol


def test_store_run_outputs_selects_lessons_by_number(tmp_path, monkeypatch):
    run, sol = _run_dir(tmp_path, ["01_a.ipynb", "05_b.ipynb", "12_c.ipynb"])
    merged = []
    monkeypatch.setattr("stnlib.course.results.merge_results", lambda *a: merged.append(a))
    written = notebooks.store_run_outputs(run, sol, ["5", "12"], results_into=tmp_path / "r.json")
    assert written == [sol / "05_b.ipynb", sol / "12_c.ipynb"]
    assert merged == [(run / "results.json", tmp_path / "r.json", ["05", "12"])]
    stored = nbformat.read(sol / "05_b.ipynb", as_version=4)
    assert stored.cells[0].execution_count == 1 and stored.cells[0].outputs[0].text == "out 0\n"
    assert nbformat.read(sol / "01_a.ipynb", as_version=4).cells[0].outputs == []
    assert (sol / "05_b.ipynb").read_text(encoding="utf-8") == notebooks.render(stored)
    assert sorted(p.name for p in sol.iterdir()) == ["01_a.ipynb", "05_b.ipynb", "12_c.ipynb"]
    merged.clear()
    assert notebooks.store_run_outputs(str(run), str(sol)) == [sol / n for n in
                                                               ["01_a.ipynb", "05_b.ipynb", "12_c.ipynb"]]
    assert merged == []  # no results_into: nothing merged
    assert notebooks.store_run_outputs(run, sol, ["7"], results_into=tmp_path / "r.json") == []
    assert merged == []  # nothing stored: nothing merged
    assert notebooks.store_run_outputs(run, sol, ["01"]) == [sol / "01_a.ipynb"]


def test_store_run_outputs_errors_word_for_word(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(str(tmp_path / 'run.json'))} does not exist; "
                       + re.escape("pass the folder of a `stn-course run` (e.g. runs/standard)") + "$"):
        notebooks.store_run_outputs(tmp_path, tmp_path)
    run, sol = _run_dir(tmp_path, ["05_b.ipynb"], budget="smoke")
    message = f"{run} is a 'smoke' run; stored outputs come from a 'standard' run (pass --budget to override)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        notebooks.store_run_outputs(run, sol)
    assert notebooks.store_run_outputs(run, sol, budget="smoke") == [sol / "05_b.ipynb"]
    (run / "run.json").write_text(json.dumps({"notebooks": []}))
    with pytest.raises(ValueError, match=f"^{re.escape(f'{run} is a None run')}"):
        notebooks.store_run_outputs(run, sol)


def test_store_run_outputs_refuses_a_failed_notebook(tmp_path):
    run, sol = _run_dir(tmp_path, ["05_b.ipynb"], ok=False)
    with pytest.raises(ValueError, match=f"^{re.escape(f'05_b.ipynb failed in {run}; fix it and run again')}$"):
        notebooks.store_run_outputs(run, sol)
    assert notebooks.store_run_outputs(run, sol, ["6"]) == []


def _parser():
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    notebooks.add_cli(sub)
    return parser


def test_store_outputs_cli_defaults_and_options(tmp_path, monkeypatch, capsys):
    calls = []

    def fake(run, solutions, lessons, *, budget, results_into):
        calls.append((run, solutions, lessons, budget, results_into))
        return [solutions / "05_b.ipynb"]

    monkeypatch.setattr(notebooks, "store_run_outputs", fake)
    monkeypatch.setattr(notebooks, "course_root", lambda: tmp_path)
    args = _parser().parse_args(["store-outputs"])
    assert args.func(args) == 0
    assert calls[-1] == ("runs/standard", tmp_path / "solutions", None, "standard",
                         tmp_path / "results" / "standard.json")
    out = capsys.readouterr().out
    assert out == (f"stored the outputs of {Path('runs/standard') / '05_b.ipynb'} in "
                   f"{tmp_path / 'solutions' / '05_b.ipynb'}\n"
                   f"their results replace those lessons' entries in {tmp_path / 'results' / 'standard.json'}\n")
    args = _parser().parse_args(["store-outputs", "r", "--lessons", "5,06", "--budget", "smoke",
                                 "--solutions", "S", "--results", "R.json"])
    assert args.func(args) == 0
    assert calls[-1] == ("r", Path("S"), ["5", "06"], "smoke", Path("R.json"))
    capsys.readouterr()
    args = _parser().parse_args(["store-outputs", "--no-results", "--results", "R.json"])
    assert args.func(args) == 0
    assert calls[-1][4] is None
    assert capsys.readouterr().out == (f"stored the outputs of {Path('runs/standard') / '05_b.ipynb'} in "
                                       f"{tmp_path / 'solutions' / '05_b.ipynb'}\n")


def test_store_outputs_cli_nothing_written_and_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(notebooks, "course_root", lambda: tmp_path)
    monkeypatch.setattr(notebooks, "store_run_outputs", lambda *a, **k: [])
    args = _parser().parse_args(["store-outputs"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == ""
    for err in (ValueError("bad budget"), FileNotFoundError("no run.json")):
        def boom(*a, err=err, **k):
            raise err
        monkeypatch.setattr(notebooks, "store_run_outputs", boom)
        assert args.func(args) == 2
        captured = capsys.readouterr()
        assert captured.err == f"stn-course store-outputs: error: {err}\n" and captured.out == ""
    monkeypatch.setattr(notebooks, "store_run_outputs", lambda *a, **k: (_ for _ in ()).throw(KeyError("x")))
    with pytest.raises(KeyError):
        args.func(args)


def test_make_lessons_cli_messages_and_exit_codes(tmp_path, monkeypatch, capsys):
    calls = []
    result = []

    def fake(solutions, lessons, *, check):
        calls.append((solutions, lessons, check))
        return list(result)

    monkeypatch.setattr(notebooks, "make_lessons", fake)
    monkeypatch.setattr(notebooks, "course_root", lambda: tmp_path)
    run = _parser().parse_args
    args = run(["make-lessons"])
    assert args.func(args) == 0
    assert calls[-1] == (tmp_path / "solutions", tmp_path / "lessons", False)
    assert capsys.readouterr().out == "lessons/ already up to date\n"
    result[:] = ["L/05_a.ipynb: missing", "L/07.ipynb: no solutions/07.ipynb (delete it or restore the source)"]
    args = run(["make-lessons", "--solutions", "S", "--lessons", "L"])
    assert args.func(args) == 0
    assert calls[-1] == (Path("S"), Path("L"), False)
    assert capsys.readouterr().out == ("wrote L/05_a.ipynb\n"
                                       "warning: L/07.ipynb: no solutions/07.ipynb (delete it or restore the source)\n")
    args = run(["make-lessons", "--check", "--solutions", "S"])
    assert args.func(args) == 1
    assert calls[-1] == (Path("S"), tmp_path / "lessons", True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("lessons/ is not what solutions/ generates:\n  L/05_a.ipynb: missing\n"
                            "  L/07.ipynb: no solutions/07.ipynb (delete it or restore the source)\n"
                            "run `stn-course make-lessons` and commit the result\n")
    result.clear()
    assert args.func(args) == 0
    assert capsys.readouterr().out == "lessons/ is up to date with S\n"


@pytest.mark.parametrize("err", [MarkerError("m"), FileNotFoundError("f")])
def test_make_lessons_cli_errors(monkeypatch, capsys, err, tmp_path):
    def boom(*a, **k):
        raise err
    monkeypatch.setattr(notebooks, "make_lessons", boom)
    monkeypatch.setattr(notebooks, "course_root", lambda: tmp_path)
    args = _parser().parse_args(["make-lessons", "--check"])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert captured.err == f"stn-course make-lessons: error: {err}\n" and captured.out == ""


def test_make_lessons_cli_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(notebooks, "course_root", lambda: tmp_path)
    write(tmp_path / "solutions" / "05_a.ipynb", _solution())
    args = _parser().parse_args(["make-lessons"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'lessons' / '05_a.ipynb'}\n"
    assert (tmp_path / "lessons" / "05_a.ipynb").is_file()


def test_cli_help_texts():
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    assert helps == {"make-lessons": "generate lessons/ (student notebooks) from solutions/",
                     "store-outputs": "copy the outputs of a standard run into solutions/ (for teachers)"}
    store = {a.dest: (a.help, a.metavar, a.default) for a in sub.choices["store-outputs"]._actions}
    assert store["lessons"] == ("only these lessons", "00,03", None)
    assert store["run"] == ("folder of a `stn-course run` (default: runs/standard)", None, "runs/standard")
    assert store["budget"][0] == "the budget the run must have used (default: standard)"
    assert store["solutions"][0] == "target folder (default: solutions/)"
    assert store["results"][0] == "committed results to update (default: results/standard.json)"
    assert store["no_results"][0] == "store the outputs only, leave the committed results alone"
    make = {a.dest: (a.help, a.default) for a in sub.choices["make-lessons"]._actions}
    assert make["check"] == ("write nothing; exit 1 if lessons/ is not what solutions/ generates", False)
    assert make["solutions"] == ("source folder (default: solutions/)", None)
    assert make["lessons"] == ("target folder (default: lessons/)", None)


def test_make_lesson_names_the_cell_of_a_note_without_the_claim():
    nb = notebook(code("x"), markdown("# hi", "stored-outputs-note"))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_x, cell 1: tagged')}"):
        notebooks.make_lesson(nb, name="05_x")


def test_keep_solutions_lists_no_names_for_a_markdown_answer_even_if_it_reads_like_code():
    nb = notebook(markdown("class Room is big.\ndef ault", "solution"))
    lesson = notebooks.make_lesson(nb, keep_solutions=True)
    assert lesson.cells[0].metadata["stn_exercise"] == []


def test_store_outputs_drops_run_metadata_of_the_solution_and_leaves_the_run_alone():
    sol = notebook(code("a = 1", papermill={"duration": 2.0}, execution={"t": "1"}, kept="yes"))
    run = _executed(sol)
    out = notebooks.store_outputs(run, sol)
    assert dict(out.cells[0].metadata) == {"kept": "yes"}
    assert out.cells[0].outputs[1].execution_count == 1
    assert run.cells[1].outputs[1].execution_count == 10, "the run's outputs are copied, not shared"


def test_store_run_outputs_names_the_notebook_whose_source_changed(tmp_path):
    run, sol = _run_dir(tmp_path, ["05_b.ipynb"])
    write(sol / "05_b.ipynb", notebook(code("changed")))
    with pytest.raises(ValueError, match=f"^{re.escape('05_b.ipynb, cell 0: the source changed')}"):
        notebooks.store_run_outputs(run, sol)


@pytest.fixture
def ascii_locale(monkeypatch):
    """A platform whose default text encoding is not UTF-8 (Windows' cp1252, an old C locale): a text
    file opened without an explicit encoding then uses ASCII here, and every non-ASCII character fails."""
    import io

    real = io.text_encoding
    monkeypatch.setattr(io, "text_encoding", lambda encoding, stacklevel=2: real(encoding) if encoding else "ascii")


def test_make_lessons_compares_utf8_text_whatever_the_locale(tmp_path, ascii_locale):
    write(tmp_path / "s" / "05_a.ipynb", notebook(markdown("# Lesson — θ"), code("x = 'é'")))
    assert notebooks.make_lessons(tmp_path / "s", tmp_path / "l") == [f"{tmp_path / 'l' / '05_a.ipynb'}: missing"]
    assert notebooks.make_lessons(tmp_path / "s", tmp_path / "l", check=True) == []


def test_store_run_outputs_reads_run_json_as_utf8_whatever_the_locale(tmp_path, ascii_locale):
    run, sol = _run_dir(tmp_path, ["05_b.ipynb"])
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    info["device"] = "cuda (Gé Force)"
    (run / "run.json").write_bytes(json.dumps(info, ensure_ascii=False).encode("utf-8"))
    assert notebooks.store_run_outputs(run, sol) == [sol / "05_b.ipynb"]
