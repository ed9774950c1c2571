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
  the ``NotImplementedError``), outputs and execution counts are cleared and
  run metadata (papermill, execution times, widget state) is removed.

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

from ._io import write_text

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTION_TAG = "solution"
TEACHER_TAG = "teacher"
EXERCISE_TAG = "raises-exception"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
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


def _cli(args: argparse.Namespace) -> int:
    from .course import repo_root

    root = repo_root() or Path.cwd()
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
