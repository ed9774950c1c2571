"""The nbgrader release on tiny in-memory notebooks: cell roles, grade ids, points, check cells, files.

No nbgrader is run: what is asserted is the metadata and sources this module writes.
"""

import argparse
import re

import nbformat
import pytest
from nbtools import code, markdown, notebook, write

from stnlib.course import classroom, notebooks
from stnlib.course.notebooks import MarkerError

STUB_REQUIRE = classroom.REQUIRE


def meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    out = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        out["points"] = points
    return out


def test_meta_exact():
    assert classroom._meta("a") == meta("a")
    assert classroom._meta("b", solution=True, grade=True, locked=True, points=2) == {
        "grade": True, "grade_id": "b", "locked": True, "schema_version": 3, "solution": True, "points": 2}
    assert classroom._meta("c", points=0) == {**meta("c"), "points": 0}


def test_points_from_tags():
    assert classroom._points([], "w") == 1 and isinstance(classroom._points([], "w"), int)
    assert classroom._points(["x", "points-3"], "w") == 3 and isinstance(classroom._points(["points-3"], "w"), int)
    assert classroom._points(["points-2.0"], "w") == 2 and isinstance(classroom._points(["points-2.0"], "w"), int)
    assert classroom._points(["points-1.5"], "w") == 1.5
    assert classroom._points(["points-3x", "apoints-4", "points-"], "w") == 1


@pytest.mark.parametrize("tags, message", [
    (["points-1", "points-2"], "nb, cell 4: more than one points-N tag"),
    (["points-1", "points-1"], "nb, cell 4: more than one points-N tag"),
    (["points-0"], "nb, cell 4: points must be positive, got tag points-0"),
    (["points-0.0"], "nb, cell 4: points must be positive, got tag points-0"),
])
def test_points_errors_word_for_word(tags, message):
    with pytest.raises(MarkerError, match=f"^{re.escape(message)}$"):
        classroom._points(tags, "nb, cell 4")


def test_check_calls():
    assert classroom.check_calls("ok = L.check_rotation(rot)\ncheck_x  (1)\nprecheck_y(2)\ncheck_z") == [
        "check_rotation", "check_x"]
    assert classroom.check_calls("print(1)") == []


def test_graded_source_assignment_keeps_the_name():
    source = "ok1 = L.check_a(f)\nok = L.check_b(f)\nprint(ok)"
    assert classroom.graded_source(source, "f, g", where="w") == (
        f"{source}\n{STUB_REQUIRE}\nrequire_done(ok, 'f, g')")


def test_graded_source_bare_call_becomes_passed():
    assert classroom.graded_source("x = 1\nL.check_a(f,\n  2)\n# done", "f", where="w") == (
        f"x = 1\npassed = L.check_a(f,\n  2)\n# done\n{STUB_REQUIRE}\nrequire_done(passed, 'f')")
    assert classroom.graded_source("x = 1; check_a(f)", "f", where="w") == (
        f"x = 1; passed = check_a(f)\n{STUB_REQUIRE}\nrequire_done(passed, 'f')")


BAD_END = "w: a check cell must end its check with `ok = check_...(...)` or `check_...(...)`"


@pytest.mark.parametrize("source", [
    "a, b = check_a(f)", "a = b = check_a(f)", "self.x = check_a(f)", "ok: bool = check_a(f)",
    "if True:\n    check_a(f)", "print(1)",
])
def test_graded_source_rejects_other_forms_word_for_word(source):
    with pytest.raises(MarkerError, match=f"^{re.escape(BAD_END)}$"):
        classroom.graded_source(source, "f", where="w")


def test_graded_source_syntax_error_message():
    try:
        compile("ok = check_a(", "<unknown>", "exec")
    except SyntaxError as err:
        expected = f"w: the check cell does not parse ({err})"
    with pytest.raises(MarkerError, match=f"^{re.escape(expected)}$") as info:
        classroom.graded_source("ok = check_a(", "f", where="w")
    assert isinstance(info.value.__cause__, SyntaxError)


def solution_notebook():
    return notebook(
        markdown("# Lesson 05"),                                                      # 0 cell-1
        code("BUDGET = None", "parameters"),                                          # 1 cell-2
        code("ok = L.check_f(f)"),                                                    # 2 no exercise before: cell-3
        code("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),  # 3 exercise-f
        code("print('between')"),                                                     # 4 cell-4
        code("ok = L.check_f(f)", "points-2"),                                        # 5 check-f
        code("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),  # 6 exercise-f-2
        code("L.check_f(f)"),                                                         # 7 check-f-2
        code("# Task\ny = 1", "solution"),                                            # 8 exercise-3
        code("ok = L.check_y(y)"),                                                    # 9 check-y
        code("ok = L.check_y(y)"),                                                    # 10 second check: cell-5
        markdown("Why?", "solution", "points-3"),                                     # 11 answer-4
        code("def g():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\ndef h(): pass"),  # 12
        code("ok = L.check_g(g)"),                                                    # 13 check-g
        code("print('teacher')", "teacher"),                                          # dropped
        code("def θx():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),    # 14 exercise--x
        code("ok = check_θ(1)"),                                                      # 15 check-θ -> check--
    )


def test_nbgrader_notebook_roles_grade_ids_and_points():
    nb = solution_notebook()
    before = notebooks.render(nb)
    out = classroom.nbgrader_notebook(nb, name="05_x.ipynb")
    assert notebooks.render(nb) == before
    assert [c.metadata["nbgrader"] for c in out.cells] == [
        meta("cell-1", locked=True),
        meta("cell-2", locked=True),
        meta("cell-3", locked=True),
        meta("exercise-f", solution=True),
        meta("cell-4", locked=True),
        meta("check-f", grade=True, locked=True, points=2),
        meta("exercise-f-2", solution=True),
        meta("check-f-2", grade=True, locked=True, points=1),
        meta("exercise-3", solution=True),
        meta("check-y", grade=True, locked=True, points=1),
        meta("cell-5", locked=True),
        meta("answer-4", solution=True, grade=True, points=3),
        meta("exercise-g", solution=True),
        meta("check-g", grade=True, locked=True, points=1),
        meta("exercise--x", solution=True),
        meta("check--", grade=True, locked=True, points=1),
    ]
    assert all(notebooks.EXERCISE_KEY not in c.metadata for c in out.cells)
    assert out.cells[2].source == "ok = L.check_f(f)"
    assert out.cells[5].source == f"ok = L.check_f(f)\n{STUB_REQUIRE}\nrequire_done(ok, 'f')"
    assert out.cells[7].source == f"passed = L.check_f(f)\n{STUB_REQUIRE}\nrequire_done(passed, 'f')"
    assert out.cells[9].source == f"ok = L.check_y(y)\n{STUB_REQUIRE}\nrequire_done(ok, 'exercise 3')"
    assert out.cells[10].source == "ok = L.check_y(y)"
    assert out.cells[13].source.endswith("require_done(ok, 'g, h')")
    assert out.cells[11].source == "### BEGIN SOLUTION\nWhy?\n### END SOLUTION"
    assert out.cells[11].metadata["tags"] == ["points-3"]
    assert out.cells[3].source == nb.cells[3].source  # the solution stays, for nbgrader to clear
    assert classroom.exercises_and_points(out) == [("check-f", 2), ("check-f-2", 1), ("check-y", 1),
                                                   ("answer-4", 3), ("check-g", 1), ("check--", 1)]


def test_grade_ids_never_collide_with_an_earlier_suffixed_one():
    nb = notebook(code("def cell_1():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),
                  markdown("a"), markdown("b"))
    ids = [c.metadata["nbgrader"]["grade_id"] for c in classroom.nbgrader_notebook(nb, name="n").cells]
    assert ids == ["exercise-cell_1", "cell-1", "cell-2"]
    nb = notebook(*[code("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION") for _ in range(3)])
    ids = [c.metadata["nbgrader"]["grade_id"] for c in classroom.nbgrader_notebook(nb, name="n").cells]
    assert ids == ["exercise-f", "exercise-f-2", "exercise-f-3"]


def test_a_markdown_check_call_is_no_check_and_a_check_cell_error_names_the_cell():
    nb = notebook(code("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),
                  markdown("call `check_f(f)` below"), code("ok = L.check_f(f)"))
    out = classroom.nbgrader_notebook(nb, name="n")
    assert [c.metadata["nbgrader"]["grade_id"] for c in out.cells] == ["exercise-f", "cell-1", "check-f"]
    bad = notebook(code("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),
                   code("a, b = L.check_f(f)"))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_x.ipynb, cell 1: a check cell must end')}"):
        classroom.nbgrader_notebook(bad, name="05_x.ipynb")
    pts = notebook(markdown("x", "solution", "points-0"))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_x.ipynb, cell 0: points must be positive')}"):
        classroom.nbgrader_notebook(pts, name="05_x.ipynb")
    pts = notebook(code("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),
                   code("ok = check_f(f)", "points-1", "points-2"))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_x.ipynb, cell 1: more than one')}"):
        classroom.nbgrader_notebook(pts, name="05_x.ipynb")


def test_exercises_and_points_reads_only_graded_cells():
    nb = notebook(code("a"), code("b"), code("c"))
    nb.cells[0].metadata["nbgrader"] = meta("x", grade=True, points=2)
    nb.cells[1].metadata["nbgrader"] = meta("y", locked=True)
    assert classroom.exercises_and_points(nb) == [("x", 2)]


def test_make_nbgrader_course_writes_config_once_and_one_source_per_lesson(tmp_path):
    sol, course = tmp_path / "solutions", tmp_path / "course"
    write(sol / "05_a.ipynb", solution_notebook())
    write(sol / "06_b.ipynb", notebook(code("x = 1")))
    write(sol / "readme.ipynb", notebook(code("x = 1")))
    written = classroom.make_nbgrader_course(str(sol), str(course))
    assert written == [course / "nbgrader_config.py", course / "source" / "05_a" / "05_a.ipynb",
                       course / "source" / "06_b" / "06_b.ipynb"]
    assert (course / "nbgrader_config.py").read_text(encoding="utf-8") == classroom.CONFIG
    text = (course / "source" / "05_a" / "05_a.ipynb").read_text(encoding="utf-8")
    expected = classroom.nbgrader_notebook(nbformat.read(sol / "05_a.ipynb", as_version=4), name="05_a.ipynb")
    assert text == notebooks.render(expected)
    assert sorted(p.name for p in (course / "source" / "05_a").iterdir()) == ["05_a.ipynb"]
    (course / "nbgrader_config.py").write_text("# mine\n")
    assert classroom.make_nbgrader_course(sol, course) == written[1:]
    assert (course / "nbgrader_config.py").read_text() == "# mine\n"


def test_make_nbgrader_course_names_the_notebook_in_errors(tmp_path):
    write(tmp_path / "s" / "05_a.ipynb", notebook(markdown("### BEGIN SOLUTION")))
    with pytest.raises(MarkerError, match=f"^{re.escape('05_a.ipynb, cell 0: solution markers')}"):
        classroom.make_nbgrader_course(tmp_path / "s", tmp_path / "c")


def test_make_nbgrader_course_without_lessons(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(f'no lesson notebooks ([0-9][0-9]_*.ipynb) in {tmp_path}')}$"):
        classroom.make_nbgrader_course(tmp_path, tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_config_is_valid_python_with_the_stubs():
    compile(classroom.CONFIG, "nbgrader_config.py", "exec")
    assert 'c.ClearSolutions.text_stub = "*Your answer here.*"' in classroom.CONFIG


def _parser(monkeypatch, plain_calls):
    monkeypatch.setattr(notebooks, "_cli", lambda args: plain_calls.append(args) or 7)
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    notebooks.add_cli(sub)
    classroom.add_cli(sub)
    return parser


def test_cli_without_nbgrader_is_plain_make_lessons(monkeypatch):
    plain = []
    args = _parser(monkeypatch, plain).parse_args(["make-lessons", "--check"])
    assert args.nbgrader is None
    assert args.func(args) == 7 and plain == [args]


def test_cli_nbgrader_writes_and_prints(tmp_path, monkeypatch, capsys):
    plain, calls = [], []
    monkeypatch.setattr("stnlib.course.paths.course_root", lambda: tmp_path)
    monkeypatch.setattr(classroom, "make_nbgrader_course",
                        lambda s, c: calls.append((s, c)) or [tmp_path / "a", tmp_path / "b"])
    parser = _parser(monkeypatch, plain)
    args = parser.parse_args(["make-lessons", "--nbgrader", "C"])
    assert args.func(args) == 0 and plain == []
    assert calls == [(tmp_path / "solutions", "C")]
    assert capsys.readouterr().out == (
        f"wrote {tmp_path / 'a'}\nwrote {tmp_path / 'b'}\n"
        "nbgrader course in C: cd there, then `nbgrader generate_assignment <lesson>` "
        "(e.g. 00_stn_in_ten_minutes, or \"*\" for all)\n")
    args = parser.parse_args(["make-lessons", "--nbgrader", "C", "--solutions", "S"])
    assert args.func(args) == 0 and calls[-1] == (classroom.Path("S"), "C")
    help_text = next(a for a in parser._subparsers._group_actions[0].choices["make-lessons"]._actions
                     if a.dest == "nbgrader")
    assert (help_text.metavar, help_text.default) == ("DIR", None)
    assert help_text.help == ("instead of lessons/, write an nbgrader course to DIR (nbgrader_config.py, "
                              "source/<lesson>/<lesson>.ipynb): exercises as solution cells, checks as "
                              "autograded test cells")


@pytest.mark.parametrize("extra", [["--check"], ["--lessons", "L"]])
def test_cli_nbgrader_refuses_check_and_lessons(tmp_path, monkeypatch, capsys, extra):
    plain = []
    monkeypatch.setattr(classroom, "make_nbgrader_course", lambda s, c: pytest.fail("must not write"))
    args = _parser(monkeypatch, plain).parse_args(["make-lessons", "--nbgrader", "C", *extra])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("stn-course make-lessons: error: --nbgrader writes an nbgrader course, not "
                            "lessons/: it takes neither --check nor --lessons\n")


@pytest.mark.parametrize("err", [MarkerError("bad marker"), FileNotFoundError("no notebooks")])
def test_cli_nbgrader_errors(tmp_path, monkeypatch, capsys, err):
    def boom(s, c):
        raise err
    monkeypatch.setattr(classroom, "make_nbgrader_course", boom)
    args = _parser(monkeypatch, []).parse_args(["make-lessons", "--nbgrader", "C", "--solutions", "S"])
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"stn-course make-lessons: error: {err}\n")


def test_check_names_ending_in_x_and_upper_case_grade_ids():
    assert classroom.check_calls("check_boX (1)\ncheck_X(2)") == ["check_boX", "check_X"]
    nb = notebook(code("def Fit():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"), code("ok = check_Fit(Fit)"))
    assert [c.metadata["nbgrader"]["grade_id"] for c in classroom.nbgrader_notebook(nb, name="n").cells] == [
        "exercise-Fit", "check-Fit"]
