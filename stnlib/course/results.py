"""Results: every number a lesson compares with a paper, recorded in one file, and the report.

``record`` appends to the results file of the current run: ``$STN_RESULTS``
(set by ``stn-course run`` to ``runs/<budget>/results.json``) or, outside the
runner, ``runs/interactive/results.json`` in the repository::

    course.record("test error, ST-CNN", 1.4, paper=0.5, unit="%", higher_is_better=False)
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from .._io import write_text
from . import budgets
from .lesson import current_lesson, lesson_id
from .paths import course_root

#: the environment variables the runner sets for the notebooks it executes
RESULTS_ENV = "STN_RESULTS"
LESSON_ENV = "STN_LESSON"

RESULTS_SCHEMA = 1

#: the committed results of the `standard` run whose outputs the solutions store
COMMITTED_RESULTS = Path("results") / "standard.json"


def committed_results_path() -> Path:
    """``results/standard.json`` in the course: the numbers the stored solutions show."""
    return course_root() / COMMITTED_RESULTS


def results_path() -> Path:
    """Where :func:`record` writes: ``$STN_RESULTS``, else ``runs/interactive/results.json``.

    The default lives in the repository root (so lessons/ and solutions/
    share it) or, for an installed ``stnlib``, in the working directory.
    """
    env = os.environ.get(RESULTS_ENV, "").strip()
    if env:
        return Path(env)
    return course_root() / "runs" / "interactive" / "results.json"


def _number(x, name: str) -> float:
    if hasattr(x, "item") and callable(x.item):  # tensors and numpy scalars
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{name} must be a number, got {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return x


def load_results(path: Path) -> dict:
    if not path.exists():
        return {"schema": RESULTS_SCHEMA, "results": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"results file {path} is not valid JSON ({err}); "
                         "delete it or point STN_RESULTS elsewhere") from err
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError(f"results file {path} has no 'results' list; is it a stn-course file?")
    return data


def save_results(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def record(key: str, value, paper=None, *, unit: str = "", lesson: str | None = None,
           higher_is_better: bool | None = None, budget: str | None = None,
           seeds: Sequence[int] | None = None, note: str = "",
           path: str | os.PathLike | None = None) -> dict:
    """Record one number that a lesson compares with a paper.

    Args:
        key: what it is, as the report shows it (``"test error, ST-CNN (RTS)"``).
        value: our number, or one number per seed (the report shows mean ± std).
        paper: the paper's number, or ``None`` when the paper has none.
        unit: ``"%"``, ``"s"``, ``""``...
        lesson: defaults to the lesson of :func:`start_lesson` (or ``$STN_LESSON``).
        higher_is_better: for the reader of the report; ``None``: not a score.
        budget: defaults to the lesson's budget.
        seeds: the seeds behind ``value``; defaults to the budget's seeds
            when their count matches.
        note: a short remark shown under the table.
        path: the results file; defaults to :func:`results_path`.

    Returns:
        the stored entry. The file is rewritten atomically; an entry with the
        same lesson and key replaces the old one.
    """
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"key must be a non-empty string naming the quantity, got {key!r}")
    values = ([_number(v, f"value[{i}]") for i, v in enumerate(value)]
              if isinstance(value, (list, tuple)) or getattr(value, "ndim", 0) == 1
              else [_number(value, "value")])
    if not values:
        raise ValueError("value must be a number or a non-empty sequence of numbers, got []")
    paper = None if paper is None else _number(paper, "paper")
    if higher_is_better is not None and not isinstance(higher_is_better, bool):
        raise TypeError(f"higher_is_better must be True, False or None, got {higher_is_better!r}")
    ctx = current_lesson()
    if lesson is None:
        lesson = ctx.lesson if ctx else os.environ.get(LESSON_ENV) or None
    if lesson is None:
        raise ValueError("record() needs to know the lesson: pass lesson='00' or call "
                         "course.start_lesson('00', ...) first")
    lesson = lesson_id(lesson)
    budget = budgets.resolve_budget(budget if budget is not None
                                    else (ctx.budget.name if ctx else None))
    if seeds is None and ctx is not None and len(ctx.budget.seeds) == len(values):
        seeds = ctx.budget.seeds
    if seeds is not None:
        seeds = [int(s) for s in seeds]
        if len(seeds) != len(values):
            raise ValueError(f"seeds has {len(seeds)} entries but value has {len(values)}; "
                             "give one value per seed")
    mean = sum(values) / len(values)
    std = (math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
           if len(values) > 1 else None)
    entry = {
        "lesson": lesson, "key": key.strip(), "value": mean, "std": std, "values": values,
        "paper": paper, "unit": unit, "higher_is_better": higher_is_better, "budget": budget,
        "seeds": seeds, "device": str(ctx.device) if ctx else None, "note": note,
        "time": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    path = Path(path) if path is not None else results_path()
    data = load_results(path)
    data["results"] = [r for r in data["results"]
                       if (r.get("lesson"), r.get("key")) != (lesson, entry["key"])] + [entry]
    save_results(path, data)
    paper_text = "" if paper is None else f" (paper: {_fmt(paper, unit)})"
    print(f"recorded [{lesson}] {entry['key']}: {_fmt_entry(entry)}{paper_text}")
    return entry


#: a recorded value nearer 0 than this prints as "< 1e-09" (or "> -1e-09"): floating-point round-off
#: of a quantity that is 0 in exact arithmetic (a translation's misalignment), whose digits change
#: with the machine
ROUND_OFF = 1e-9


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "–"
    if 0 < abs(x) < ROUND_OFF:
        text = f"< {ROUND_OFF:.0e}" if x > 0 else f"> -{ROUND_OFF:.0e}"
    else:
        text = f"{x:.3g}" if abs(x) < 1e4 else f"{x:.4g}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _fmt_entry(entry: dict) -> str:
    text = _fmt(entry["value"], entry.get("unit", ""))
    if entry.get("std") is not None:
        text += f" ± {_fmt(entry['std'])}"
    return text


# --------------------------------------------------------------------------- report


def resolve_results_file(path: str | os.PathLike | None) -> Path:
    path = results_path() if path is None else Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"no results file at {path}; run `stn-course run` first, or pass "
                                "the run folder (e.g. runs/standard)")
    return path


def report(path: str | os.PathLike | None = None, *, lessons: Sequence[str] | None = None,
           title: bool = True) -> str:
    """The replication table of a run, as markdown.

    ``path``: a ``results.json`` or the run folder holding it (default: the
    current results file). ``lessons``: only these lessons (``["00"]``).
    Columns: lesson | quantity | paper | ours | budget | seeds.
    """
    file = resolve_results_file(path)
    rows = sorted(load_results(file)["results"], key=lambda r: r["lesson"])  # stable: keeps order
    if lessons is not None:
        wanted = {lesson_id(x) for x in lessons}
        rows = [r for r in rows if r["lesson"] in wanted]
    lines = [f"# Replication table ({file.parent.name})", ""] if title else []
    lines += ["| lesson | quantity | paper | ours | budget | seeds |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        arrow = {True: " ↑", False: " ↓"}.get(r.get("higher_is_better"), "")
        seeds = ", ".join(map(str, r["seeds"])) if r.get("seeds") else f"n={len(r['values'])}"
        paper = _fmt(r.get("paper"), r.get("unit", ""))
        lines.append(f"| {r['lesson']} | {r['key']}{arrow} | {paper} | {_fmt_entry(r)} "
                     f"| {r['budget']} | {seeds} |")
    notes = note_lines(rows)
    if not rows:
        lines.append("| – | (nothing recorded yet) | | | | |")
    lines += ["", "↓ lower is better, ↑ higher is better; ours is the mean (± std) over the seeds."]
    if any(r["budget"] == "smoke" for r in rows):
        lines.append("`smoke` runs prove that the code runs; their numbers are not results.")
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def note_lines(rows: Sequence[dict], *, with_lesson: bool = True) -> list[str]:
    """The notes of ``rows`` (recorded entries) as markdown items, each note said once.

    A note shared by several rows (one recipe for every model of a table) is one item
    naming its rows: ``- 07, rows "A"; "B": the recipe``.
    """
    by_note: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.get("note"):
            by_note.setdefault((r["lesson"], r["note"]), []).append(r["key"])
    out = []
    for (lesson, note), keys in by_note.items():
        where = f"{lesson}, " if with_lesson else ""
        names = keys[0] if len(keys) == 1 else "rows " + "; ".join(f'"{k}"' for k in keys)
        out.append(f"- {where}{names}: {note}")
    return out


def summary(lessons: Sequence[str], *, comparisons: Sequence[object] = (), path=None,
            paper_only: bool = False) -> str:
    """A lesson's ending: what its run measured, on one screen (plain text, for ``print``).

    One line per number recorded for ``lessons`` (ours, and the paper's where it has
    one; ``paper_only``: only the numbers compared with a paper, the others counted),
    then ``comparisons`` (e.g. :meth:`Experiment.compare` results, printed one a line
    with their verdicts), then where the full replication table (recipes, notes) is:
    ``stn-course report`` and the course site's replication report.

    ``path``: a ``results.json`` or a run folder (default: the current results file).
    """
    file = resolve_results_file(path)
    wanted = {lesson_id(x) for x in lessons}
    rows = [r for r in load_results(file)["results"] if r["lesson"] in wanted]
    budgets_seen = sorted({r["budget"] for r in rows})
    seed_sets = {tuple(r.get("seeds") or ()) for r in rows}
    common = ", seeds " + ", ".join(map(str, next(iter(seed_sets)))) if (
        len(seed_sets) == 1 and next(iter(seed_sets))) else ""
    lines = [f"What this run measured (budget {', '.join(budgets_seen) or '–'}{common}):"]
    shown = [r for r in rows if r.get("paper") is not None] if paper_only else rows
    for r in shown:
        arrow = {True: " ↑", False: " ↓"}.get(r.get("higher_is_better"), "")
        paper = "" if r.get("paper") is None else f" (paper {_fmt(r['paper'], r.get('unit', ''))})"
        seeds = "" if common or not r.get("seeds") else f" [seeds {', '.join(map(str, r['seeds']))}]"
        lines.append(f"  {r['key']}{arrow}: {_fmt_entry(r)}{paper}{seeds}")
    if not rows:
        lines.append("  nothing recorded")
    elif len(shown) < len(rows):
        lines.append(f"  and {len(rows) - len(shown)} more numbers without a paper value "
                     "(printed above, and in the full table)")
    if comparisons:
        lines.append("Comparisons (means, 95 % intervals, paired difference, verdict):")
        lines += [f"  {c}" for c in comparisons]
    try:
        folder = file.parent.resolve().relative_to(course_root().resolve())
    except ValueError:
        folder = file.parent
    lines.append(f"The full table, with each number's recipe: `stn-course report {folder}` "
                 "(the course site's replication report shows the committed `standard` run).")
    return "\n".join(lines)


def clear_lesson_results(path: Path, lesson: str) -> None:
    if path.exists():
        data = load_results(path)
        data["results"] = [r for r in data["results"] if r.get("lesson") != lesson]
        save_results(path, data)


def merge_results(source: str | os.PathLike, target: str | os.PathLike,
                  lessons: Sequence[str]) -> list[dict]:
    """Replace the entries of ``lessons`` in ``target`` by those of ``source`` (atomically).

    ``source`` is a run's ``results.json``, ``target`` the committed results
    (created if missing). Entries of other lessons in ``target`` stay as they
    are; a missing ``source`` (a run that recorded nothing) removes them. Returns the
    entries copied.
    """
    wanted = {lesson_id(x) for x in lessons}
    new = [r for r in load_results(Path(source))["results"] if r.get("lesson") in wanted]
    target = Path(target)
    data = load_results(target)
    data["results"] = [r for r in data["results"] if r.get("lesson") not in wanted] + new
    data["results"].sort(key=lambda r: r["lesson"])  # stable: keeps each lesson's order
    save_results(target, data)
    return new
