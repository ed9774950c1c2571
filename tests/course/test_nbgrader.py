"""The classroom release (``stn-course make-lessons --nbgrader``), tested with nbgrader itself.

For every lesson in ``solutions/``: ``nbgrader generate_assignment`` succeeds, the
released copy holds no solution code, every check cell is a locked test cell
worth its points. For the lessons in ``AUTOGRADED`` (the quick ones at ``smoke``;
``STN_NBGRADER_LESSONS=all`` or ``=00,04`` for others), ``nbgrader autograde``
of one set of submissions: the solution scores full points, the released copy
unchanged scores 0 on every test, a copy with one exercise solved scores exactly
that exercise's points, and a wrong answer scores 0 and its feedback is the
check's one short message, with no library traceback.

nbgrader comes with the ``dev`` extra; without it these tests are skipped with
the install line (failed under ``$CI``).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import requires

from stnlib.course import classroom
from stnlib.course.checking import CheckError, require_done
from stnlib.course.notebooks import BEGIN, END, MarkerError

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
#: autograded by default: the lessons whose whole notebook runs in seconds at smoke
AUTOGRADED = ("01", "02")
INSTALL = 'pip install -e ".[dev]" (brings nbgrader)'


def _wanted() -> list[str]:
    env = os.environ.get("STN_NBGRADER_LESSONS", "").strip()
    if env == "all":
        return LESSONS
    ids = env.split(",") if env else AUTOGRADED
    return [name for name in LESSONS if name[:2] in {i.strip().zfill(2) for i in ids}]


def _nbgrader_found() -> bool:
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return False
    return True


def _run(args: list[str], cwd: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # nbgrader runs `alembic` from PATH; the kernel must import this checkout's stnlib
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("STN_BUDGET", "smoke")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["STN_RESULTS"] = str(cwd / "results.json")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-4000:]}"
    return proc


# --------------------------------------------------------------------------- no nbgrader needed


def test_graded_source_makes_an_open_exercise_fail():
    src = "# NBVAL_CHECK_OUTPUT\nok = L.check_warp(warp)  # prints ✓"
    out = classroom.graded_source(src, "warp", where="cell")
    assert out.splitlines()[:2] == src.splitlines()
    assert out.splitlines()[-1] == "require_done(ok, 'warp')"
    bare = classroom.graded_source("L.check_left_right_bias(left_right_bias)", "left_right_bias",
                                   where="cell")
    assert bare.splitlines()[0] == "passed = L.check_left_right_bias(left_right_bias)"
    assert bare.splitlines()[-1] == "require_done(passed, 'left_right_bias')"
    with pytest.raises(MarkerError, match="cell 3"):
        classroom.graded_source("for f in fs:\n    L.check_warp(f)", "warp", where="cell 3")


def test_require_done_fails_only_when_the_check_did_not_pass():
    require_done(True, "warp")
    for result in (False, None):
        with pytest.raises(CheckError, match="warp is not written yet") as err:
            require_done(result, "warp")
        assert err.value._render_traceback_()[0].startswith("✗ warp is not written yet")


def _tiny_solution():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 99 · tiny"),
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("ok = L.check_f(f)"),
        nbformat.v4.new_code_cell("# compute g\ng = 2", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("L.check_g(g)", metadata={"tags": ["points-3"]}),
        nbformat.v4.new_markdown_cell("Because.", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("L.check_f(f)"),  # a check with no exercise before it: not graded
        nbformat.v4.new_code_cell("print('teacher only')", metadata={"tags": ["teacher"]}),
    ]
    return nb


def test_nbgrader_metadata_of_each_kind_of_cell():
    nb = classroom.nbgrader_notebook(_tiny_solution(), name="99_tiny.ipynb")
    meta = [c.metadata["nbgrader"] for c in nb.cells]
    assert len(nb.cells) == 7  # the teacher cell is gone
    kinds = [(m["solution"], m["grade"], m["locked"], m.get("points")) for m in meta]
    assert kinds == [(False, False, True, None), (True, False, False, None), (False, True, True, 1),
                     (True, False, False, None), (False, True, True, 3), (True, True, False, 1),
                     (False, False, True, None)]
    assert len({m["grade_id"] for m in meta}) == len(meta)
    assert all(m["schema_version"] == 3 for m in meta)
    assert BEGIN in nb.cells[1].source and "return x" in nb.cells[1].source  # nbgrader clears it
    assert nb.cells[3].source.splitlines() == ["# compute g", BEGIN, "g = 2", END]
    assert nb.cells[4].source.splitlines()[-1] == "require_done(passed, 'exercise 2')"
    assert nb.cells[6].source == "L.check_f(f)"
    assert classroom.exercises_and_points(nb) == [("check-f", 1), ("check-g", 3), ("answer-3", 1)]


def test_three_checks_of_one_name_get_three_distinct_stable_grade_ids():
    # issue 25: grade ids of cells that share a name (three exercises of f, each checked by check_f)
    import nbformat

    def solution():
        nb = nbformat.v4.new_notebook()
        for i in range(3):
            nb.cells += [
                nbformat.v4.new_code_cell(f"def f(x):\n    ### BEGIN SOLUTION\n    return x + {i}\n"
                                          "    ### END SOLUTION"),
                nbformat.v4.new_code_cell("ok = L.check_f(f)"),
            ]
        return nb

    def ids(nb):
        return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]

    first = classroom.nbgrader_notebook(solution(), name="99_tiny.ipynb")
    assert ids(first) == ["exercise-f", "check-f", "exercise-f-2", "check-f-2", "exercise-f-3", "check-f-3"]
    assert ids(classroom.nbgrader_notebook(solution(), name="99_tiny.ipynb")) == ids(first)  # stable
    assert classroom.exercises_and_points(first) == [("check-f", 1), ("check-f-2", 1), ("check-f-3", 1)]


def test_bad_points_tag_is_named():
    nb = _tiny_solution()
    nb.cells[4].metadata["tags"] = ["points-0"]
    with pytest.raises(MarkerError, match="99_tiny.ipynb, cell 4: points must be positive"):
        classroom.nbgrader_notebook(nb, name="99_tiny.ipynb")


# --------------------------------------------------------------------------- with nbgrader


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    requires("nbgrader", INSTALL, found=_nbgrader_found())
    root = tmp_path_factory.mktemp("nbgrader-course")
    written = classroom.make_nbgrader_course(ROOT / "solutions", root)
    assert (root / "nbgrader_config.py") in written
    _run(["generate_assignment", "*"], root)
    return root


@pytest.mark.parametrize("lesson", LESSONS)
def test_generate_assignment_releases_every_lesson(course, lesson):
    import nbformat

    source = nbformat.read(course / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    released = course / "release" / lesson / f"{lesson}.ipynb"
    assert released.exists(), f"nbgrader generate_assignment wrote no {released}"
    release = nbformat.read(released, as_version=4)
    assert len(release.cells) == len(source.cells)
    n_checks = 0
    for src, rel in zip(source.cells, release.cells, strict=True):
        meta = rel.metadata["nbgrader"]
        assert meta["grade_id"] == src.metadata["nbgrader"]["grade_id"]
        if meta["solution"] and rel.cell_type == "code":
            hidden, shown = _solution_lines(src.source)
            assert BEGIN not in rel.source and "raise NotImplementedError" in rel.source
            left = [ln for ln in rel.source.splitlines() if ln.strip() in hidden - shown]
            assert not left, f"{lesson}: solution code left in the release: {left}"
        elif meta["solution"]:  # a written answer
            assert rel.source == "*Your answer here.*" and src.source.strip() != rel.source
        elif meta["grade"] and not meta["solution"]:
            n_checks += 1
            assert meta["locked"] and meta["points"] > 0 and rel.source == src.source
            assert rel.metadata.get("editable") is False
        else:
            assert meta["locked"] or meta["solution"]
            assert rel.source == src.source
    solution = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    exercises = sum(BEGIN in c.source or "solution" in c.metadata.get("tags", [])
                    for c in solution.cells if c.cell_type == "code")
    assert n_checks == exercises, f"{lesson}: {exercises} exercises but {n_checks} graded checks"


def _solution_lines(source: str) -> tuple[set[str], set[str]]:
    """(the stripped lines between the solution markers, those outside them)."""
    inside, hidden, shown = False, set(), set()
    for line in source.splitlines():
        if line.strip() in (BEGIN, END):
            inside = line.strip() == BEGIN
            continue
        (hidden if inside else shown).add(line.strip())
    return hidden - {""}, shown


def _solved(release, source, grade_id: str):
    """``release`` with the exercise cell ``grade_id`` answered as the solution does."""
    out = copy.deepcopy(release)
    for rel, src in zip(out.cells, source.cells, strict=True):
        if rel.metadata["nbgrader"]["grade_id"] == grade_id:
            rel.source = "\n".join(ln for ln in src.source.splitlines()
                                   if ln.strip() not in (BEGIN, END))
            return out
    raise AssertionError(f"no cell {grade_id}")


def _scores(course: Path, lesson: str, student: str) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(lesson, lesson, student)
        return {g.name: g.score for g in sub.grades if g.cell.cell_type == "code"}


@pytest.fixture(scope="module")
def autograded(course):
    """Submissions for the lessons of :func:`_wanted`, autograded in one nbgrader run each."""
    import nbformat

    requires("nbgrader", INSTALL, found=_nbgrader_found())
    plan = {}
    for lesson in _wanted():
        source = nbformat.read(course / "source" / lesson / f"{lesson}.ipynb", as_version=4)
        release = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
        exercises = [c.metadata["nbgrader"]["grade_id"] for c in release.cells
                     if c.metadata["nbgrader"]["solution"] and c.cell_type == "code"]
        one = exercises[int(lesson[:2]) % len(exercises)]  # not always the first one
        subs = {"solution": source, "unchanged": release, "one-solved": _solved(release, source, one)}
        if lesson.startswith("01_"):  # a typical mistake: the bilinear kernel without its max(0, ·)
            wrong = _solved(release, source, "exercise-bilinear_kernel")
            cell = next(c for c in wrong.cells
                        if c.metadata["nbgrader"]["grade_id"] == "exercise-bilinear_kernel")
            assert "return (1 - d.abs()).clamp_min(0)" in cell.source
            cell.source = cell.source.replace("return (1 - d.abs()).clamp_min(0)", "return 1 - d.abs()")
            subs["wrong"] = wrong
        for student, nb in subs.items():
            path = course / "submitted" / student / lesson / f"{lesson}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
        _run(["autograde", lesson], course)
        plan[lesson] = {"one": one, "tests": classroom.exercises_and_points(source),
                        "scores": {s: _scores(course, lesson, s) for s in subs}}
    return plan


def _test_of(exercise: str, tests: list[tuple[str, float]], release_cells) -> str:
    """The grade_id of the test cell that grades ``exercise`` (the next graded code cell)."""
    ids = [c.metadata["nbgrader"] for c in release_cells]
    start = next(i for i, m in enumerate(ids) if m["grade_id"] == exercise)
    return next(m["grade_id"] for m in ids[start:] if m["grade"] and not m["solution"])


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [name for name in LESSONS if name in _wanted()])
def test_autograde_scores(course, autograded, lesson):
    import nbformat

    got = autograded[lesson]
    tests = {k: v for k, v in got["tests"] if not k.startswith("answer-")}
    scores = got["scores"]
    assert scores["solution"] == tests, f"the solution must score every point: {scores['solution']}"
    assert scores["unchanged"] == dict.fromkeys(tests, 0.0), scores["unchanged"]
    release = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    graded = _test_of(got["one"], got["tests"], release.cells)
    expected = {k: (v if k == graded else 0.0) for k, v in tests.items()}
    assert scores["one-solved"] == expected, f"only {got['one']} was solved: {scores['one-solved']}"
    if "wrong" in scores:
        assert scores["wrong"]["check-bilinear-kernel"] == 0.0


@pytest.mark.slow
def test_feedback_shows_the_checks_message(course, autograded):
    lesson = next((name for name in autograded if name.startswith("01_")), None)
    if lesson is None:
        pytest.skip("lesson 01 is not among STN_NBGRADER_LESSONS")
    import nbformat

    graded = nbformat.read(course / "autograded" / "wrong" / lesson / f"{lesson}.ipynb", as_version=4)
    cell = next(c for c in graded.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "check-bilinear-kernel")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "CheckError"
    text = "\n".join(errors[0].traceback)
    assert text.startswith("✗ bilinear_kernel"), text
    assert "Hint:" in text and "Traceback" not in text and "site-packages" not in text
    assert len(errors[0].traceback) <= 4, text
    _run(["generate_feedback", lesson, "--student", "wrong"], course)
    html = (course / "feedback" / "wrong" / lesson / f"{lesson}.html").read_text(encoding="utf-8")
    assert "✗ bilinear_kernel" in html and "stnlib/lessons" not in html


def test_cli_writes_the_course_and_keeps_a_teachers_config(tmp_path, capsys):
    from stnlib.course import cli

    config = tmp_path / "nbgrader_config.py"
    config.write_text("c = get_config()  # the teacher's own\n")
    assert cli.main(["make-lessons", "--nbgrader", str(tmp_path)]) == 0
    assert config.read_text() == "c = get_config()  # the teacher's own\n"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "source").rglob("*.ipynb"))
    assert written == [f"source/{s}/{s}.ipynb" for s in LESSONS]
    assert cli.main(["make-lessons", "--nbgrader", str(tmp_path), "--check"]) == 2
    assert "takes neither --check nor --lessons" in capsys.readouterr().err
