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
* after every code cell whose stored solution output has a figure (an
  exercise, the cell that draws with it, a demo or an experiment), a
  markdown cell "*Example output*" shows the solution's figures as cell
  attachments, the PNGs exactly as stored: the student sees what each cell
  should draw, and the lesson still carries no code-cell outputs;
* in the cell tagged ``stored-outputs-note`` the sentence "The outputs stored
  in this notebook …" becomes one that says the student copy has no outputs
  and that the solution's are in ``solutions/``;
* every exercise cell gets the tag ``raises-exception`` (nbval then expects
  the ``NotImplementedError``), outputs and execution counts are cleared,
  ``# NBVAL_CHECK_OUTPUT`` comments (meaningless without stored outputs) are
  dropped and run metadata (papermill, execution times, widget state) is removed;
* the notebook's ``language_info`` is written in full, as the IPython kernel
  reports it (:data:`LANGUAGE_INFO`): JupyterLab writes its kernel's
  ``language_info`` into a notebook it opens, and a notebook that differs
  opens already marked unsaved.

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
#: the markdown cell whose "The outputs stored in this notebook …" make-lessons rewrites
STORED_NOTE_TAG = "stored-outputs-note"
STORED_CLAIM = "The outputs stored in this notebook"
EXAMPLE_OUTPUT = "*Example output* (what the solution draws):"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
#: nbval comments that make sense only with stored outputs (solutions), dropped in lessons
NBVAL_MARKERS = ("# NBVAL_CHECK_OUTPUT", "# NBVAL_IGNORE_OUTPUT")
#: notebook-level metadata a lesson keeps (everything else is run state)
KEEP_NB_METADATA = ("kernelspec", "language_info")
#: the notebook's ``language_info`` as the IPython kernel reports it (``IPythonKernel.language_info``);
#: JupyterLab puts its kernel's into a notebook it opens and marks the tab unsaved when they differ.
#: ``version`` is the course's Python (the one ``.ci/run`` and the set-up use): a student on another
#: Python sees the tab marked unsaved once the kernel starts, and saving it is harmless.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": "3.11.7",
}
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


def _header_lines(source: str) -> list[str]:
    """The leading comment lines of ``source`` with the blank lines between them."""
    lines = []
    for line in source.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _comment_header(source: str) -> list[str]:
    return [ln for ln in _header_lines(source) if ln.strip()]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _images(cell) -> list[str]:
    """The base64 PNGs among a code cell's stored outputs."""
    out = []
    for o in cell.get("outputs", []):
        png = o.get("data", {}).get("image/png") if o.get("output_type") in (
            "display_data", "execute_result") else None
        if png:
            out.append(png if isinstance(png, str) else "".join(png))
    return out


def example_output_cell(images: list[str], *, key: str):
    """A markdown cell that shows ``images`` (base64 PNGs) as attachments, as the expected output."""
    import nbformat

    names = [f"{key}_{i + 1}.png" for i in range(len(images))]
    source = "\n\n".join([EXAMPLE_OUTPUT] + [f"![example output](attachment:{n})" for n in names])
    cell = nbformat.v4.new_markdown_cell(source)
    cell.attachments = {n: {"image/png": png.replace("\n", "")} for n, png in zip(names, images)}
    cell.metadata = nbformat.NotebookNode({"tags": ["example-output"]})
    cell.id = f"example-output-{key}"  # deterministic: make-lessons --check compares texts
    return cell


def student_note(source: str, *, name: str, where: str, classroom: bool = False) -> str:
    """The stored-outputs note of a solution, rewritten for the student copy.

    ``classroom``: for an nbgrader release, whose students have no ``solutions/``.
    """
    if STORED_CLAIM not in source:
        raise MarkerError(f"{where}: tagged {STORED_NOTE_TAG!r} but has no "
                          f"\"{STORED_CLAIM} …\" sentence to rewrite")
    if classroom:
        return source.replace(STORED_CLAIM, "This copy has no stored outputs (run it to see "
                              "them); the outputs of the solution", 1)
    return source.replace(STORED_CLAIM, "This student copy has no stored outputs (run it to see "
                          f"them); the outputs stored in its solution, `solutions/{name}`,", 1)


def _defined_names(source: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in map(_DEF.match, source.splitlines()) if m}


#: in ``keep_solutions`` mode: cell metadata naming what an exercise cell defines (for nbgrader)
EXERCISE_KEY = "stn_exercise"


def make_lesson(nb, *, name: str = "notebook", keep_solutions: bool = False):
    """The student version of the solution notebook ``nb`` (an ``nbformat`` node; not modified).

    With ``keep_solutions`` (the nbgrader source, :mod:`stnlib.course.classroom`) every
    transformation is the same except that an exercise keeps its solution between
    ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers (a cell tagged ``solution`` gets
    them around its code) for nbgrader to clear, the stored-outputs note says only that the
    copy has no outputs, and each exercise cell's metadata ``stn_exercise`` lists the names
    it defines.
    """
    import nbformat

    lesson = copy.deepcopy(nb)
    lesson.metadata = nbformat.NotebookNode(
        {k: nb.metadata[k] for k in KEEP_NB_METADATA if k in nb.metadata})
    if nb.metadata.get("language_info", {}).get("name", "python") == "python":
        lesson.metadata["language_info"] = copy.deepcopy(LANGUAGE_INFO)
    cells = []
    for index, cell in enumerate(nb.cells):
        tags = _tags(cell)
        if TEACHER_TAG in tags:
            continue
        images = _images(cell) if cell.cell_type == "code" else []
        cell = copy.deepcopy(cell)
        where = f"{name}, cell {index}"
        exercise = False
        defined = _defined_names(cell.source) if cell.cell_type == "code" else set()
        if SOLUTION_TAG in tags:
            if cell.cell_type == "code":
                header = (_comment_header(cell.source)
                          or ["# Exercise: write the code for this cell."])
                body = ([BEGIN, *cell.source.splitlines()[len(_header_lines(cell.source)):], END]
                        if keep_solutions else [_stub("", None)])
                cell.source = "\n".join([*header, *body])
                exercise = True
            elif keep_solutions:
                cell.source = f"{BEGIN}\n{cell.source}\n{END}"
                exercise = True
            else:
                cell.source = "*Your answer here.*"
            tags.remove(SOLUTION_TAG)
        elif cell.cell_type == "code" and BEGIN in cell.source:
            stripped = strip_solution(cell.source, where=where)  # checks the markers either way
            cell.source = cell.source if keep_solutions else stripped
            exercise = True
        if cell.cell_type == "code":  # students have no stored outputs to compare with
            cell.source = "\n".join(ln for ln in cell.source.splitlines()
                                    if ln.strip() not in NBVAL_MARKERS)
        elif (BEGIN in cell.source or END in cell.source) and not (keep_solutions and exercise):
            raise MarkerError(f"{where}: solution markers only work in code cells")
        if STORED_NOTE_TAG in tags:
            cell.source = student_note(cell.source, name=name, where=where,
                                       classroom=keep_solutions)
            tags.remove(STORED_NOTE_TAG)
        elif cell.cell_type == "markdown" and STORED_CLAIM in cell.source:
            raise MarkerError(f"{where}: \"{STORED_CLAIM} …\" would be false in the student "
                              f"copy: tag the cell {STORED_NOTE_TAG!r}")
        if exercise and EXERCISE_TAG not in tags and cell.cell_type == "code":
            tags.append(EXERCISE_TAG)
        meta = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if tags:
            meta["tags"] = tags
        else:
            meta.pop("tags", None)
        if keep_solutions and exercise:
            meta[EXERCISE_KEY] = sorted(defined)
        cell.metadata = nbformat.NotebookNode(meta)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
        if images:
            cells.append(example_output_cell(images, key=f"cell{index}"))
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
                      lessons: list[str] | None = None, *, budget: str = "standard",
                      results_into: str | os.PathLike | None = None) -> list[Path]:
    """Copy the outputs of ``stn-course run``'s executed notebooks into ``solutions_dir``.

    Only notebooks that ran without error at ``budget`` (``run.json``) are
    stored; the solutions' stored outputs are meant to come from one
    ``standard`` run (the hygiene tests check it). With ``results_into``
    (the committed ``results/standard.json``), the run's results of the
    stored lessons replace theirs there, so the committed numbers are the ones
    the stored outputs show.
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
    if results_into is not None and written:
        from .results import merge_results

        # a run whose lessons record nothing has no results.json: their entries are removed
        merge_results(run_dir / "results.json", results_into, [p.name[:2] for p in written])
    return written


def _cli_store(args: argparse.Namespace) -> int:
    solutions = Path(args.solutions) if args.solutions else course_root() / "solutions"
    lessons = args.lessons.split(",") if args.lessons else None
    results_into = None if args.no_results else (
        Path(args.results) if args.results else course_root() / "results" / "standard.json")
    try:
        written = store_run_outputs(args.run, solutions, lessons, budget=args.budget,
                                    results_into=results_into)
    except (ValueError, FileNotFoundError) as err:
        print(f"stn-course store-outputs: error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"stored the outputs of {Path(args.run) / path.name} in {path}")
    if results_into is not None and written:
        print(f"their results replace those lessons' entries in {results_into}")
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
    p.add_argument("--results", default=None,
                   help="committed results to update (default: results/standard.json)")
    p.add_argument("--no-results", action="store_true",
                   help="store the outputs only, leave the committed results alone")
    p.set_defaults(func=_cli_store)
