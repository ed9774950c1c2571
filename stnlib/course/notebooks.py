"""One source, two notebooks: generate ``lessons/`` from ``solutions/``.

``stn-course make-lessons`` reads every ``solutions/NN_name.ipynb`` and
writes ``lessons/NN_name.ipynb``:

* in a code cell, the lines between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` become ``raise NotImplementedError(...)`` at the
  marker's indentation; what comes before the marker (the signature and the
  docstring) stays, so the student sees exactly what to write;
* a cell tagged ``solution`` becomes an exercise stub: its leading comment
  lines (the task) stay, the code is replaced by ``raise NotImplementedError``;
  a markdown cell tagged ``solution`` becomes "*Your answer here.*";
* cells tagged ``teacher`` are dropped;
* every exercise cell gets the tag ``raises-exception`` (nbval then expects
  the ``NotImplementedError``), outputs and execution counts are cleared,
  ``# NBVAL_CHECK_OUTPUT`` comments (meaningless without stored outputs) are
  dropped and run metadata (papermill, execution times, widget state) is removed.

``stn-course make-lessons --check`` writes nothing and exits non-zero when
``lessons/`` differs from what the solutions generate.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

from .._io import write_text
from .paths import course_root

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTION_TAG = "solution"
TEACHER_TAG = "teacher"
EXERCISE_TAG = "raises-exception"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
#: nbval comments that make sense only with stored outputs (solutions), dropped in lessons
NBVAL_MARKERS = ("# NBVAL_CHECK_OUTPUT", "# NBVAL_IGNORE_OUTPUT")
#: notebook-level metadata a lesson keeps (everything else is run state)
KEEP_NB_METADATA = ("kernelspec", "language_info")
#: cell-level metadata a lesson keeps
KEEP_CELL_METADATA = ("tags", "editable", "deletable", "jupyter", "slideshow")

_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)|^\s*class\s+(\w+)")


class MarkerError(ValueError):
    """A solution cell whose markers do not pair up."""


def _stub(indent: str, what: str | None) -> str:
    task = f"complete `{what}`" if what else "write this part"
    return f'{indent}raise NotImplementedError("Exercise: {task}, then delete this line.")'


def strip_solution(source: str, *, where: str = "cell") -> str:
    """Replace every ``BEGIN``/``END SOLUTION`` block of ``source`` by a stub.

    Raises :class:`MarkerError` naming ``where`` if the markers are unbalanced.
    """
    out: list[str] = []
    inside = False
    last_def = None
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{where}, line {number}: {BEGIN} inside another solution block")
            inside = True
            out.append(_stub(line[: len(line) - len(line.lstrip())], last_def))
            continue
        if stripped == END:
            if not inside:
                raise MarkerError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
            continue
        if not inside:
            match = _DEF.match(line)
            if match:
                last_def = match.group(1) or match.group(2)
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def _comment_header(source: str) -> list[str]:
    lines = []
    for line in source.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    return [ln for ln in lines if ln.strip()]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def make_lesson(nb, *, name: str = "notebook"):
    """The student version of the solution notebook ``nb`` (an ``nbformat`` node; not modified)."""
    import nbformat

    lesson = copy.deepcopy(nb)
    lesson.metadata = nbformat.NotebookNode(
        {k: nb.metadata[k] for k in KEEP_NB_METADATA if k in nb.metadata})
    cells = []
    for index, cell in enumerate(nb.cells):
        tags = _tags(cell)
        if TEACHER_TAG in tags:
            continue
        cell = copy.deepcopy(cell)
        where = f"{name}, cell {index}"
        exercise = False
        if SOLUTION_TAG in tags:
            if cell.cell_type == "code":
                header = (_comment_header(cell.source)
                          or ["# Exercise: write the code for this cell."])
                cell.source = "\n".join([*header, _stub("", None)])
                exercise = True
            else:
                cell.source = "*Your answer here.*"
            tags.remove(SOLUTION_TAG)
        elif cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = strip_solution(cell.source, where=where)
            exercise = True
        if cell.cell_type == "code":  # students have no stored outputs to compare with
            cell.source = "\n".join(ln for ln in cell.source.splitlines()
                                    if ln.strip() not in NBVAL_MARKERS)
        elif BEGIN in cell.source or END in cell.source:
            raise MarkerError(f"{where}: solution markers only work in code cells")
        if exercise and EXERCISE_TAG not in tags:
            tags.append(EXERCISE_TAG)
        meta = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if tags:
            meta["tags"] = tags
        else:
            meta.pop("tags", None)
        cell.metadata = nbformat.NotebookNode(meta)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    lesson.cells = cells
    return lesson


def render(nb) -> str:
    """The notebook as text, exactly as it is written to disk."""
    import nbformat

    return nbformat.writes(nb) + "\n"


def make_lessons(solutions_dir: str | os.PathLike, lessons_dir: str | os.PathLike, *,
                 check: bool = False) -> list[str]:
    """Generate ``lessons_dir`` from ``solutions_dir``; returns what differs (or was written).

    With ``check=True`` nothing is written. The result names lessons that
    are missing or out of date and lessons without a solution (stale).
    """
    import nbformat

    solutions_dir, lessons_dir = Path(solutions_dir), Path(lessons_dir)
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions folder {solutions_dir} does not exist")
    problems = []
    sources = sorted(solutions_dir.glob(NOTEBOOK_GLOB))
    for src in sources:
        text = render(make_lesson(nbformat.read(src, as_version=4), name=src.name))
        dst = lessons_dir / src.name
        old = dst.read_text(encoding="utf-8") if dst.exists() else None
        if old == text:
            continue
        problems.append(f"{dst}: {'missing' if old is None else 'out of date'}")
        if not check:
            write_text(dst, text)
    names = {s.name for s in sources}
    for stale in sorted(lessons_dir.glob(NOTEBOOK_GLOB)) if lessons_dir.is_dir() else []:
        if stale.name not in names:
            problems.append(f"{stale}: no solutions/{stale.name} (delete it or restore the source)")
    return problems


PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


def store_outputs(executed, solution, *, name: str = "notebook"):
    """The solution notebook with the outputs of ``executed`` (a papermill run of it).

    Cells papermill added are dropped, execution counts are renumbered 1, 2,
    … top to bottom, and run metadata (papermill, timings) is not copied. The
    sources must be unchanged since the run; otherwise :class:`ValueError`
    names the first cell that differs.
    """
    import nbformat

    cells = [c for c in executed.cells
             if not PAPERMILL_TAGS & set(c.get("metadata", {}).get("tags", []))]
    if len(cells) != len(solution.cells):
        raise ValueError(f"{name}: the run has {len(cells)} cells, the solution "
                         f"{len(solution.cells)}; run the notebook again")
    out = copy.deepcopy(solution)
    count = 0
    for index, (ran, cell) in enumerate(zip(cells, out.cells, strict=True)):
        if ran.source != cell.source:
            raise ValueError(f"{name}, cell {index}: the source changed since the run; "
                             "run the notebook again")
        if cell.cell_type != "code":
            continue
        cell.outputs = copy.deepcopy(ran.outputs)
        if ran.get("execution_count") is None:
            raise ValueError(f"{name}, cell {index} did not run (a failed run?)")
        count += 1
        cell.execution_count = count
        for o in cell.outputs:
            if "execution_count" in o:
                o.execution_count = count
        cell.metadata = nbformat.NotebookNode(
            {k: v for k, v in cell.metadata.items() if k != "papermill"})
        cell.metadata.pop("execution", None)
    return out


def store_run_outputs(run_dir: str | os.PathLike, solutions_dir: str | os.PathLike,
                      lessons: list[str] | None = None, *, budget: str = "standard") -> list[Path]:
    """Copy the outputs of ``stn-course run``'s executed notebooks into ``solutions_dir``.

    Only notebooks that ran without error at ``budget`` (``run.json``) are
    stored; the solutions' stored outputs are meant to come from one
    ``standard`` run (the hygiene tests check it).
    """
    import json

    import nbformat

    run_dir, solutions_dir = Path(run_dir), Path(solutions_dir)
    info_file = run_dir / "run.json"
    if not info_file.exists():
        raise FileNotFoundError(f"{info_file} does not exist; pass the folder of a "
                                "`stn-course run` (e.g. runs/standard)")
    info = json.loads(info_file.read_text(encoding="utf-8"))
    if info.get("budget") != budget:
        raise ValueError(f"{run_dir} is a {info.get('budget')!r} run; stored outputs come from "
                         f"a {budget!r} run (pass --budget to override)")
    written = []
    for nb_run in info["notebooks"]:
        nb_name = nb_run["name"]
        if lessons is not None and nb_name[:2] not in {x.zfill(2) for x in lessons}:
            continue
        if not nb_run["ok"]:
            raise ValueError(f"{nb_name} failed in {run_dir}; fix it and run again")
        target = solutions_dir / nb_name
        stored = store_outputs(nbformat.read(run_dir / nb_name, as_version=4),
                               nbformat.read(target, as_version=4), name=nb_name)
        write_text(target, render(stored))
        written.append(target)
    return written


def _cli_store(args: argparse.Namespace) -> int:
    solutions = Path(args.solutions) if args.solutions else course_root() / "solutions"
    lessons = args.lessons.split(",") if args.lessons else None
    try:
        written = store_run_outputs(args.run, solutions, lessons, budget=args.budget)
    except (ValueError, FileNotFoundError) as err:
        print(f"stn-course store-outputs: error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"stored the outputs of {Path(args.run) / path.name} in {path}")
    return 0


def _cli(args: argparse.Namespace) -> int:
    root = course_root()
    solutions = Path(args.solutions) if args.solutions else root / "solutions"
    lessons = Path(args.lessons) if args.lessons else root / "lessons"
    try:
        problems = make_lessons(solutions, lessons, check=args.check)
    except (MarkerError, FileNotFoundError) as err:
        print(f"stn-course make-lessons: error: {err}", file=sys.stderr)
        return 2
    if args.check:
        if problems:
            print("lessons/ is not what solutions/ generates:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            print("run `stn-course make-lessons` and commit the result", file=sys.stderr)
            return 1
        print(f"lessons/ is up to date with {solutions}")
        return 0
    for p in problems:
        print(f"wrote {p.split(':')[0]}" if "no solutions/" not in p else f"warning: {p}")
    if not problems:
        print("lessons/ already up to date")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("make-lessons", help="generate lessons/ (student notebooks) from solutions/")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if lessons/ is not what solutions/ generates")
    p.add_argument("--solutions", default=None, help="source folder (default: solutions/)")
    p.add_argument("--lessons", default=None, help="target folder (default: lessons/)")
    p.set_defaults(func=_cli)

    p = sub.add_parser("store-outputs",
                       help="copy the outputs of a standard run into solutions/ (for teachers)")
    p.add_argument("run", nargs="?", default="runs/standard",
                   help="folder of a `stn-course run` (default: runs/standard)")
    p.add_argument("--lessons", default=None, metavar="00,03", help="only these lessons")
    p.add_argument("--budget", default="standard",
                   help="the budget the run must have used (default: standard)")
    p.add_argument("--solutions", default=None, help="target folder (default: solutions/)")
    p.set_defaults(func=_cli_store)
