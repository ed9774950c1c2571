"""The classroom release: ``stn-course make-lessons --nbgrader DIR`` writes an nbgrader course.

``DIR`` gets ``nbgrader_config.py`` (only when it has none: a teacher's edits
stay) and ``source/<lesson>/<lesson>.ipynb`` for every ``solutions/NN_*.ipynb``,
built by the same transformation as the student copies in ``lessons/``
(:func:`stnlib.course.notebooks.make_lesson`: teacher cells dropped, example
outputs, run metadata removed) but keeping the solutions for nbgrader, in
nbgrader's own cell metadata (schema 3):

* an **exercise** cell (code between ``### BEGIN SOLUTION`` and ``### END
  SOLUTION``, which are nbgrader's markers too, or a cell tagged ``solution``)
  is an *autograded answer*: ``solution: true``, not graded itself;
  ``nbgrader generate_assignment`` replaces the marked code by
  ``raise NotImplementedError()``;
* a **check** cell (the code cell after an exercise that calls a lesson's
  ``check_*`` function) is an *autograder test*: ``grade: true``, locked, one
  point unless the cell has a tag ``points-N``. A check returns ``False``
  (and prints that the exercise is open) when the exercise still raises
  ``NotImplementedError``, which would score as a pass; so the test cell
  ends with ``require_done(...)``, which raises then. A wrong answer raises
  :class:`~stnlib.course.checking.CheckError`, whose message (the case, the
  first entry that differs, the hint) is the cell's whole error output, and so
  what the grader's feedback shows;
* a markdown cell tagged ``solution`` (a written answer) is a *manually graded
  answer*, one point unless tagged ``points-N``: the autograder leaves it to the teacher;
* every other cell (text, setup, demos, experiments, the ``parameters`` cell)
  is *read-only*: locked, and restored from the source when autograding.

Grading executes the whole notebook: ``nbgrader_config.py`` sets
``STN_BUDGET=smoke`` for it unless the environment says otherwise (the
checks do not depend on the budget; the experiments then take a minute or two).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from pathlib import Path

from .._io import write_text
from .notebooks import EXERCISE_KEY, NOTEBOOK_GLOB, MarkerError, make_lesson, render

SCHEMA_VERSION = 3
_CHECK_CALL = re.compile(r"\bcheck_\w+\s*\(")
_POINTS_TAG = re.compile(r"^points-(\d+(?:\.\d+)?)$")
REQUIRE = "from stnlib.course.checking import require_done  # an exercise still open scores 0"

CONFIG = '''\
"""nbgrader's configuration for the stn-course classroom release.

Written by `stn-course make-lessons --nbgrader` when the folder had none; edit it freely,
make-lessons never overwrites it. Run every nbgrader command from this folder, e.g.

    nbgrader generate_assignment 00_stn_in_ten_minutes
    nbgrader autograde 00_stn_in_ten_minutes
    nbgrader generate_feedback 00_stn_in_ten_minutes
"""

import os

c = get_config()  # noqa: F821 - nbgrader provides it

c.CourseDirectory.course_id = "stn-course"

# Autograding executes the whole notebook. The checks do not depend on the budget; the
# experiments do, and at `smoke` a lesson takes a minute or two (their numbers do not count).
os.environ.setdefault("STN_BUDGET", "smoke")
# numbers the graded notebooks record go here, not into a results file of the course
os.environ.setdefault("STN_RESULTS", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "autograded", "results.json"))
c.Execute.timeout = 900  # seconds a cell may take (a training cell at a larger budget)

c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\\nraise NotImplementedError(\\"Exercise: write this part, then "
              "delete this line.\\")"}
c.ClearSolutions.text_stub = "*Your answer here.*"
'''


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _points(tags: list[str], where: str) -> int | float:
    """A graded cell's points: 1, or N from a tag ``points-N``."""
    found = [float(m.group(1)) for t in tags if (m := _POINTS_TAG.match(t))]
    if len(found) > 1:
        raise MarkerError(f"{where}: more than one points-N tag")
    value = found[0] if found else 1.0
    if value <= 0:
        raise MarkerError(f"{where}: points must be positive, got tag points-{value:g}")
    return int(value) if value.is_integer() else value


def check_calls(source: str) -> list[str]:
    """The ``check_*`` functions a cell calls."""
    return [m.group(0).rstrip("( ").strip() for m in _CHECK_CALL.finditer(source)]


def graded_source(source: str, exercise: str, *, where: str) -> str:
    """A check cell's source, made to fail while its check reports the exercise open.

    The last statement that calls a ``check_*`` function is ``name = check(...)``
    (then ``require_done(name, ...)`` follows) or a bare ``check(...)`` (then it
    becomes ``passed = check(...)``).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise MarkerError(f"{where}: the check cell does not parse ({err})") from err
    lines = source.splitlines()
    last = next((st for st in reversed(tree.body) if _CHECK_CALL.search(ast.get_source_segment(
        source, st) or "")), None)
    if isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0],
                                                                               ast.Name):
        name = last.targets[0].id
    elif isinstance(last, ast.Expr):
        name = "passed"
        first = last.lineno - 1
        lines[first] = lines[first][:last.col_offset] + "passed = " + lines[first][last.col_offset:]
    else:
        raise MarkerError(f"{where}: a check cell must end its check with `ok = check_...(...)` "
                          "or `check_...(...)`")
    return "\n".join([*lines, REQUIRE, f"require_done({name}, {exercise!r})"])


def nbgrader_notebook(nb, *, name: str):
    """The nbgrader source notebook of the solution ``nb`` (not modified); see the module doc."""
    source = make_lesson(nb, name=name, keep_solutions=True)
    used: set[str] = set()

    def unique(grade_id: str) -> str:
        base, n = re.sub(r"[^A-Za-z0-9_-]", "-", grade_id), 1
        grade_id = base
        while grade_id in used:
            n += 1
            grade_id = f"{base}-{n}"
        used.add(grade_id)
        return grade_id

    exercise: str | None = None  # the exercise the next check cell grades
    count = {"exercise": 0, "check": 0, "cell": 0}
    for index, cell in enumerate(source.cells):
        where = f"{name}, cell {index}"
        tags = list(cell.metadata.get("tags", []))
        if EXERCISE_KEY in cell.metadata:
            defined = cell.metadata.pop(EXERCISE_KEY)
            count["exercise"] += 1
            if cell.cell_type == "markdown":  # a written answer: nbgrader's manually graded answer
                cell.metadata["nbgrader"] = _meta(unique(f"answer-{count['exercise']}"),
                                                  solution=True, grade=True,
                                                  points=_points(tags, where))
                continue
            exercise = ", ".join(defined) or f"exercise {count['exercise']}"
            first = defined[0] if defined else str(count["exercise"])
            cell.metadata["nbgrader"] = _meta(unique(f"exercise-{first}"), solution=True)
            continue
        calls = check_calls(cell.source) if cell.cell_type == "code" else []
        if calls and exercise is not None:
            cell.source = graded_source(cell.source, exercise, where=where)
            count["check"] += 1
            cell.metadata["nbgrader"] = _meta(unique(calls[-1].replace("_", "-")), grade=True,
                                              locked=True, points=_points(tags, where))
            exercise = None
            continue
        count["cell"] += 1
        cell.metadata["nbgrader"] = _meta(unique(f"cell-{count['cell']}"), locked=True)
    return source


def exercises_and_points(nb) -> list[tuple[str, float]]:
    """(grade_id, points) of every graded cell of an nbgrader notebook, in order."""
    return [(c.metadata["nbgrader"]["grade_id"], c.metadata["nbgrader"]["points"])
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def make_nbgrader_course(solutions_dir: str | os.PathLike, course_dir: str | os.PathLike
                         ) -> list[Path]:
    """Write the nbgrader course ``course_dir`` from ``solutions_dir``; returns the files written."""
    import nbformat

    solutions_dir, course_dir = Path(solutions_dir), Path(course_dir)
    sources = sorted(solutions_dir.glob(NOTEBOOK_GLOB))
    if not sources:
        raise FileNotFoundError(f"no lesson notebooks ({NOTEBOOK_GLOB}) in {solutions_dir}")
    written = []
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        write_text(config, CONFIG)
        written.append(config)
    for src in sources:
        nb = nbgrader_notebook(nbformat.read(src, as_version=4), name=src.name)
        target = course_dir / "source" / src.stem / src.name
        write_text(target, render(nb))
        written.append(target)
    return written


def _cli(args: argparse.Namespace) -> int:
    from .paths import course_root

    if args.check or args.lessons:
        print("stn-course make-lessons: error: --nbgrader writes an nbgrader course, not "
              "lessons/: it takes neither --check nor --lessons", file=sys.stderr)
        return 2
    solutions = Path(args.solutions) if args.solutions else course_root() / "solutions"
    try:
        written = make_nbgrader_course(solutions, args.nbgrader)
    except (MarkerError, FileNotFoundError) as err:
        print(f"stn-course make-lessons: error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"nbgrader course in {args.nbgrader}: cd there, then `nbgrader generate_assignment "
          "<lesson>` (e.g. 00_stn_in_ten_minutes, or \"*\" for all)")
    return 0


def add_cli(sub) -> None:
    """Add ``--nbgrader DIR`` to ``make-lessons`` (registered by :mod:`stnlib.course.notebooks`)."""
    p = sub.choices["make-lessons"]
    p.add_argument("--nbgrader", default=None, metavar="DIR",
                   help="instead of lessons/, write an nbgrader course to DIR (nbgrader_config.py, "
                        "source/<lesson>/<lesson>.ipynb): exercises as solution cells, checks as "
                        "autograded test cells")
    plain = p.get_default("func")
    p.set_defaults(func=lambda args: _cli(args) if args.nbgrader else plain(args))
