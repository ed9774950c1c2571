"""The course itself: start a lesson, record results, run every notebook, report.

In a notebook::

    from stnlib import course
    ctx = course.start_lesson("00", budget=BUDGET, seed=SEED, device=DEVICE)
    ...
    course.record("test error, ST-CNN", 1.4, paper=0.5, unit="%", higher_is_better=False)

On the command line (``stn-course``):

* ``run``: execute the ``solutions/`` notebooks with papermill at a budget,
  writing the executed notebooks, ``run.log``, ``run.json``,
  ``results.json`` and ``report.md`` into ``runs/<budget>/``;
* ``report``: print the replication table of a run (and write ``report.md``);
* ``check-env``: versions, device, kernel and data, for when something is off.

Results: :func:`record` appends to the results file of the current run,
``$STN_RESULTS`` (set by ``stn-course run`` to ``runs/<budget>/results.json``)
or, outside the runner, ``runs/interactive/results.json`` in the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__, budgets
from ._io import atomic_path, write_text
from .notebooks import NOTEBOOK_GLOB

#: environment variables the runner sets for the notebooks it executes
RESULTS_ENV = "STN_RESULTS"
LESSON_ENV = "STN_LESSON"
#: ``"log"``: training prints one line per epoch instead of drawing progress bars
#: (set by ``stn-course run`` and the tests, so stored outputs stay small and clean)
PROGRESS_ENV = "STN_PROGRESS"

RESULTS_SCHEMA = 1

# --------------------------------------------------------------------------- paths


def repo_root() -> Path | None:
    """The course repository this ``stnlib`` comes from (editable install), else ``None``."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "stnlib").is_dir() else None


def results_path() -> Path:
    """Where :func:`record` writes: ``$STN_RESULTS``, else ``runs/interactive/results.json``.

    The default lives in the repository root (so lessons/ and solutions/
    share it) or, for an installed ``stnlib``, in the working directory.
    """
    env = os.environ.get(RESULTS_ENV, "").strip()
    if env:
        return Path(env)
    return (repo_root() or Path.cwd()) / "runs" / "interactive" / "results.json"


def default_solutions_dir() -> Path:
    return (repo_root() or Path.cwd()) / "solutions"


# --------------------------------------------------------------------------- lessons


@dataclasses.dataclass(frozen=True)
class LessonContext:
    """What :func:`start_lesson` decided: lesson, budget, seed and device."""

    lesson: str
    budget: budgets.Budget
    seed: int
    device: Any  # torch.device


_current: LessonContext | None = None


def _lesson_id(lesson) -> str:
    text = str(lesson).strip()
    if not text.isdigit() or len(text) > 2:
        raise ValueError(f"lesson must be a lesson number such as '00' or 3, got {lesson!r}")
    return text.zfill(2)


def start_lesson(lesson: str | int, *, budget: str | None = None, seed: int = 0,
                 device: str | None = None, verbose: bool = True) -> LessonContext:
    """Set a lesson up: resolve budget and device, seed every RNG, remember it for :func:`record`.

    Args:
        lesson: the lesson number, ``"00"``.
        budget: ``"smoke"``, ``"standard"``, ``"full"`` or ``None`` (see
            :func:`stnlib.budgets.resolve_budget`).
        seed: seeds Python, NumPy and PyTorch.
        device: ``"cpu"``, ``"cuda"``... or ``None`` for the default device.
    """
    from .train import seed_everything

    global _current
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    lesson = _lesson_id(lesson)
    ctx = LessonContext(lesson, budgets.get_budget(budget, lesson=lesson), seed,
                        budgets.resolve_device(device))
    seed_everything(seed)
    _current = ctx
    if verbose:
        b = ctx.budget
        n_train = "all" if b.n_train is None else b.n_train
        print(f"lesson {lesson} · budget {b.name} ({b.epochs} epoch(s), {n_train} training "
              f"images, seeds {list(b.seeds)}) · device {ctx.device} · seed {seed}")
    return ctx


def current_lesson() -> LessonContext | None:
    """The context of the last :func:`start_lesson` call in this process, if any."""
    return _current


# --------------------------------------------------------------------------- record


def _number(x, name: str) -> float:
    if hasattr(x, "item") and callable(x.item):  # tensors and numpy scalars
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{name} must be a number, got {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return x


def _load_results(path: Path) -> dict:
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


def _save_results(path: Path, data: dict) -> None:
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
    ctx = _current
    if lesson is None:
        lesson = ctx.lesson if ctx else os.environ.get(LESSON_ENV) or None
    if lesson is None:
        raise ValueError("record() needs to know the lesson: pass lesson='00' or call "
                         "course.start_lesson('00', ...) first")
    lesson = _lesson_id(lesson)
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
    data = _load_results(path)
    data["results"] = [r for r in data["results"]
                       if (r.get("lesson"), r.get("key")) != (lesson, entry["key"])] + [entry]
    _save_results(path, data)
    paper_text = "" if paper is None else f" (paper: {_fmt(paper, unit)})"
    print(f"recorded [{lesson}] {entry['key']}: {_fmt_entry(entry)}{paper_text}")
    return entry


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "–"
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


def _resolve_results_file(path: str | os.PathLike | None) -> Path:
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
    file = _resolve_results_file(path)
    rows = sorted(_load_results(file)["results"], key=lambda r: r["lesson"])  # stable: keeps order
    if lessons is not None:
        wanted = {_lesson_id(x) for x in lessons}
        rows = [r for r in rows if r["lesson"] in wanted]
    lines = [f"# Replication table ({file.parent.name})", ""] if title else []
    lines += ["| lesson | quantity | paper | ours | budget | seeds |",
             "|---|---|---|---|---|---|"]
    notes = []
    for r in rows:
        arrow = {True: " ↑", False: " ↓"}.get(r.get("higher_is_better"), "")
        seeds = ", ".join(map(str, r["seeds"])) if r.get("seeds") else f"n={len(r['values'])}"
        paper = _fmt(r.get("paper"), r.get("unit", ""))
        lines.append(f"| {r['lesson']} | {r['key']}{arrow} | {paper} | {_fmt_entry(r)} "
                     f"| {r['budget']} | {seeds} |")
        if r.get("note"):
            notes.append(f"- {r['lesson']}, {r['key']}: {r['note']}")
    if not rows:
        lines.append("| – | (nothing recorded yet) | | | | |")
    lines += ["", "↓ lower is better, ↑ higher is better; ours is the mean (± std) over the seeds."]
    if any(r["budget"] == "smoke" for r in rows):
        lines.append("`smoke` runs prove that the code runs; their numbers are not results.")
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def _clear_lesson_results(path: Path, lesson: str) -> None:
    if path.exists():
        data = _load_results(path)
        data["results"] = [r for r in data["results"] if r.get("lesson") != lesson]
        _save_results(path, data)


# --------------------------------------------------------------------------- run


@dataclasses.dataclass
class NotebookRun:
    """The outcome of one notebook in ``stn-course run``."""

    name: str
    output: str
    seconds: float
    ok: bool
    cell: int | None = None  # the failing cell's number (1-based) in the source notebook
    execution_count: int | None = None
    error: str | None = None  # "ename: evalue"
    source: str | None = None  # first line of the failing cell

    def failure(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "before any cell ran"
        if self.execution_count is not None:
            where += f" (In [{self.execution_count}] in the executed copy)"
        first = f" `{self.source}`" if self.source else ""
        return f"{self.name}: {where}{first}: {self.error} — see {self.output}"


def find_notebooks(solutions_dir: str | os.PathLike, lessons: Sequence[str] | None = None
                   ) -> list[Path]:
    """The notebooks ``NN_name.ipynb`` of ``solutions_dir`` (only ``lessons``, if given)."""
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions folder {solutions_dir} does not exist; run stn-course "
                                "from the repository root or pass --solutions")
    found = sorted(solutions_dir.glob(NOTEBOOK_GLOB))
    if lessons is None:
        return found
    wanted = [_lesson_id(x) for x in lessons]
    by_id = {p.name[:2]: p for p in found}
    missing = [x for x in wanted if x not in by_id]
    if missing:
        raise ValueError(f"no notebook for lesson(s) {', '.join(missing)} in {solutions_dir}; "
                         f"available: {', '.join(sorted(by_id)) or 'none'}")
    return [by_id[x] for x in dict.fromkeys(wanted)]


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _this_python_kernel() -> Iterator[None]:
    """Make the kernel named ``python3`` run this interpreter, whatever else is installed.

    A ``python3`` kernelspec in the user's Jupyter folder would otherwise win
    over the virtual environment's and run the notebooks in another Python.
    """
    with tempfile.TemporaryDirectory(prefix="stn-kernel-") as tmp:
        # --log-level=ERROR: no start-up chatter of the kernel process on the terminal
        # (notebook output, warnings printed by cells included, is not affected)
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                         "--log-level=ERROR"],
                "display_name": "Python 3 (ipykernel)", "language": "python"}
        write_text(Path(tmp) / "kernels" / "python3" / "kernel.json", json.dumps(spec))
        path = os.pathsep.join(p for p in (tmp, os.environ.get("JUPYTER_PATH", "")) if p)
        with _environ(JUPYTER_PATH=path):
            yield


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]):
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage().rstrip("\n"))


def _failing_cell(nb_path: Path) -> tuple[int | None, int | None, str | None]:
    """(number in the source, execution count, first line) of the cell that failed or hung."""
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written notebook tells us nothing
        return None, None, None
    # cells papermill added (parameters it injected, error banners) are not in the source
    cells = [c for c in nb.cells
             if not {"injected-parameters", "papermill-error-cell-tag"}
             & set(c.get("metadata", {}).get("tags", []))]
    # papermill marks every cell "completed" at the end, so status does not tell; a cell that
    # raised has exception True, one that timed out is the last one that started at all
    meta = [c.get("metadata", {}).get("papermill", {}) for c in cells]
    failed = [i for i, m in enumerate(meta) if m.get("exception") is True]
    started = [i for i, m in enumerate(meta) if m.get("start_time")]
    if failed:
        i = failed[0]
    elif started:
        i = started[-1]
    else:
        return None, None, None
    first = next((ln for ln in cells[i].source.splitlines() if ln.strip()), "")
    return i + 1, cells[i].get("execution_count"), first.strip()[:80]


def run_notebook(nb_path: Path, out_nb: Path, *, budget: str, seed: int, device: str | None,
                 cell_timeout: int, results: Path, log: list[str]) -> NotebookRun:
    """Execute one solution notebook with papermill; never raises for a notebook error."""
    import papermill

    lesson = nb_path.name[:2]
    start = time.perf_counter()
    run = NotebookRun(nb_path.name, str(out_nb), 0.0, True)
    env = {RESULTS_ENV: str(results.resolve()), budgets.BUDGET_ENV: budget, LESSON_ENV: lesson,
           PROGRESS_ENV: "log"}
    handler = _Collect(log)
    pm_logger = logging.getLogger("papermill")
    pm_logger.addHandler(handler)
    old_level, old_propagate = pm_logger.level, pm_logger.propagate
    pm_logger.setLevel(logging.INFO)
    pm_logger.propagate = False  # cell output goes to run.log, not to the terminal
    try:
        with _environ(**env), atomic_path(out_nb, suffix=".ipynb") as tmp:
            try:
                papermill.execute_notebook(
                    str(nb_path), str(tmp), kernel_name="python3", cwd=str(nb_path.parent),
                    parameters={"BUDGET": budget, "SEED": seed, "DEVICE": device},
                    execution_timeout=cell_timeout, progress_bar=False, log_output=True,
                    start_timeout=120)
            except Exception as err:  # noqa: BLE001 - reported, and the run goes on
                run.ok = False
                run.cell, run.execution_count, run.source = _failing_cell(tmp)
                first_line = next((ln for ln in str(err).splitlines() if ln.strip()), "")
                run.error = (f"{getattr(err, 'ename', type(err).__name__)}: "
                             f"{getattr(err, 'evalue', first_line)}")
                log.append(f"FAILED {run.failure()}")
                log.append("".join(traceback.format_exception(err)))
    finally:
        pm_logger.removeHandler(handler)
        pm_logger.setLevel(old_level)
        pm_logger.propagate = old_propagate
    run.seconds = time.perf_counter() - start
    return run


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "stnlib": __version__}
    for pkg in ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "papermill", "nbclient",
                "nbformat", "ipykernel", "jupyterlab", "nbval", "ipywidgets"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_course(*, budget: str | None = None, lessons: Sequence[str] | None = None,
               device: str | None = None, out: str | os.PathLike | None = None,
               solutions_dir: str | os.PathLike | None = None, seed: int = 0,
               cell_timeout: int | None = None, progress: bool = True) -> list[NotebookRun]:
    """Execute the solution notebooks at ``budget``; see ``stn-course run --help``.

    Every requested notebook runs, even after one fails. Writes into ``out``
    (default ``runs/<budget>``): the executed notebooks, ``run.log``,
    ``run.json`` (status and time per notebook), ``results.json`` and
    ``report.md``. Returns one :class:`NotebookRun` per notebook.
    """
    from tqdm import tqdm

    budget = budgets.resolve_budget(budget)
    if device is not None:
        budgets.resolve_device(device)  # fail now, not in every notebook
    notebooks = find_notebooks(solutions_dir or default_solutions_dir(), lessons)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks NN_name.ipynb in {solutions_dir}")
    out = Path(out) if out is not None else (repo_root() or Path.cwd()) / "runs" / budget
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    timeout = cell_timeout or budgets.BUDGETS[budget].cell_timeout
    started = datetime.datetime.now().isoformat(timespec="seconds")
    log = [f"stn-course run · budget {budget} · device {device or budgets.default_device()} · "
           f"seed {seed} · cell timeout {timeout} s · started {started}",
           "versions: " + ", ".join(f"{k} {v}" for k, v in _versions().items()), ""]
    runs: list[NotebookRun] = []

    def save() -> None:
        write_text(out / "run.log", "\n".join(log) + "\n")
        write_text(out / "run.json", json.dumps(
            {"budget": budget, "device": device, "seed": seed, "started": started,
             "notebooks": [dataclasses.asdict(r) for r in runs]}, indent=1) + "\n")

    bar = tqdm(notebooks, desc=f"stn-course run [{budget}]", unit="notebook",
               disable=not progress, file=sys.stderr)
    with _this_python_kernel():
        for nb_path in bar:
            bar.set_postfix_str(nb_path.name)
            _clear_lesson_results(results, nb_path.name[:2])
            log.append(f"=== {nb_path.name}")
            run = run_notebook(nb_path, out / nb_path.name, budget=budget, seed=seed,
                               device=device, cell_timeout=timeout, results=results, log=log)
            runs.append(run)
            status = "ok    " if run.ok else "FAILED"
            line = f"{status} {run.name}  {run.seconds:6.1f} s"
            log.append(line)
            tqdm.write(line if run.ok else f"{line}  ({run.failure()})", file=sys.stderr)
            save()
    if results.exists():
        write_text(out / "report.md", report(results))
    save()
    return runs


# --------------------------------------------------------------------------- check-env


def check_env() -> tuple[list[tuple[str, str, bool]], bool]:
    """What a student runs when something is off: (rows of (what, value, ok), all ok)."""
    rows: list[tuple[str, str, bool]] = []
    for name, version in _versions().items():
        required = name in {"torch", "torchvision", "numpy", "matplotlib", "tqdm", "papermill",
                            "nbformat", "ipykernel"}
        rows.append((name, version, version != "not installed" or not required))
    import torch

    rows.append(("stnlib location", str(Path(__file__).resolve().parent), True))
    rows.append(("CPU threads", str(torch.get_num_threads()), True))
    if torch.cuda.is_available():
        rows.append(("device", f"cuda ({torch.cuda.get_device_name(0)})", True))
    else:
        rows.append(("device", "cpu (no CUDA GPU visible)", True))
    try:
        budget = budgets.resolve_budget()
        rows.append(("default budget", f"{budget} (STN_BUDGET="
                     f"{os.environ.get(budgets.BUDGET_ENV, '') or 'unset'})", True))
    except ValueError as err:
        rows.append(("default budget", str(err), False))
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec("python3")
        exe = spec.argv[0]
        ok = exe in ("python", "python3") or Path(exe).resolve() == Path(sys.executable).resolve()
        rows.append(("kernel python3", f"{spec.resource_dir} → {exe}"
                     + ("" if ok else f" (not this Python, {sys.executable}; `stn-course run` "
                        "still uses this one, JupyterLab may not)"), True))
    except Exception as err:  # noqa: BLE001
        rows.append(("kernel python3", f"missing ({err}); run: python -m ipykernel install "
                     "--sys-prefix", False))
    rows.append(("results file", str(results_path()), True))
    rows += _data_rows()
    return rows, all(ok for _, _, ok in rows)


def _data_rows() -> list[tuple[str, str, bool]]:
    """Data sets present and verified (sha256), as far as ``stnlib.data`` can tell.

    Degrades to one informative row when ``stnlib.data`` is not installed or
    has another shape; a missing data set is reported, not a failure, since
    the lessons fetch what they need on first use.
    """
    try:
        from .data.fetch import CHECKSUMS, data_root, raw_folder, verify_file
    except ImportError as err:
        return [("data", f"stnlib.data is not available ({err})", True)]
    try:
        rows = [("data root", str(data_root()), True)]
        for dataset, files in CHECKSUMS.items():
            folder = raw_folder(dataset)
            bad = [name for name in files if not verify_file(folder / name, dataset, name)]
            rows.append((f"data: {dataset}", "present, checksums verified" if not bad else
                         f"missing or corrupt ({len(bad)} of {len(files)} files); fetched on "
                         f"first use, or now with `stn-course data fetch {dataset}`", True))
        return rows
    except Exception as err:  # noqa: BLE001 - check-env must always finish
        return [("data", f"could not inspect the data folder: {err}", False)]


# --------------------------------------------------------------------------- CLI


def _cli_run(args: argparse.Namespace) -> int:
    lessons = [x for x in args.lessons.split(",") if x.strip()] if args.lessons else None
    try:
        runs = run_course(budget=args.budget, lessons=lessons, device=args.device, out=args.out,
                          solutions_dir=args.solutions, seed=args.seed,
                          cell_timeout=args.cell_timeout)
    except (ValueError, FileNotFoundError) as err:
        print(f"stn-course run: error: {err}", file=sys.stderr)
        return 2
    out = Path(runs[0].output).parent
    total = sum(r.seconds for r in runs)
    print(f"\n{len(runs)} notebook(s) in {total:.0f} s; executed notebooks, run.log and "
          f"results in {out}")
    if (out / "report.md").exists():
        print(f"replication table: {out / 'report.md'} (stn-course report {out})")
    failed = [r for r in runs if not r.ok]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed:", file=sys.stderr)
        for r in failed:
            print(f"  {r.failure()}", file=sys.stderr)
        return 1
    return 0


def _cli_report(args: argparse.Namespace) -> int:
    try:
        file = _resolve_results_file(args.path)
        text = report(file)
    except (ValueError, FileNotFoundError) as err:
        print(f"stn-course report: error: {err}", file=sys.stderr)
        return 2
    print(text, end="")
    if not args.no_write:
        write_text(file.parent / "report.md", text)
        print(f"\n(written to {file.parent / 'report.md'})")
    return 0


def _cli_check_env(args: argparse.Namespace) -> int:
    rows, ok = check_env()
    width = max(len(r[0]) for r in rows)
    for what, value, good in rows:
        print(f"{'  ' if good else '✗ '}{what:<{width}}  {value}")
    print("\nall good" if ok else "\nsomething is missing: see the lines marked ✗")
    return 0 if ok else 1


def add_cli(sub) -> None:
    p = sub.add_parser("run", help="execute the solution notebooks at a budget (the main job)",
                       description="Execute the solutions/ notebooks with papermill and write "
                       "the executed notebooks, run.log, results.json and report.md.")
    p.add_argument("--budget", choices=budgets.BUDGET_NAMES, default=None,
                   help="smoke | standard | full (default: $STN_BUDGET, else full with a GPU, "
                   "standard without)")
    p.add_argument("--lessons", default=None, metavar="00,03",
                   help="comma-separated lesson numbers (default: all)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1... (default: automatic)")
    p.add_argument("--out", default=None, help="output folder (default: runs/<budget>)")
    p.add_argument("--seed", type=int, default=0, help="SEED passed to every notebook")
    p.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                   help="per-cell time limit (default: the budget's)")
    p.add_argument("--solutions", default=None, help="folder of the notebooks to run "
                   "(default: solutions/ of the repository)")
    p.set_defaults(func=_cli_run)

    p = sub.add_parser("report", help="print (and write) the replication table of a run")
    p.add_argument("path", nargs="?", default=None,
                   help="run folder or results.json (default: runs/interactive)")
    p.add_argument("--no-write", action="store_true", help="print only, do not write report.md")
    p.set_defaults(func=_cli_report)

    p = sub.add_parser("check-env", help="versions, device, Jupyter kernel and data")
    p.set_defaults(func=_cli_check_env)
