"""``stn-course run``: execute every solution notebook at a budget; ``check-env``.

* ``run``: execute the ``solutions/`` notebooks with papermill at a budget,
  writing the executed notebooks, ``run.log``, ``run.json``,
  ``results.json`` and ``report.md`` into ``runs/<budget>/``;
* ``report``: print the replication table of a run (and write ``report.md``);
* ``check-env``: versions, device, kernel and data, for when something is off.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import logging
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import __version__
from .._io import atomic_path, write_text
from ..device import default_device, resolve_device
from . import budgets
from .lesson import PROGRESS_ENV, lesson_id
from .notebooks import NOTEBOOK_GLOB
from .paths import course_root, default_solutions_dir
from .results import (
    LESSON_ENV,
    RESULTS_ENV,
    clear_lesson_results,
    committed_results_path,
    report,
    resolve_results_file,
    results_path,
)

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
    wanted = [lesson_id(x) for x in lessons]
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
        resolve_device(device)  # fail now, not in every notebook
    notebooks = find_notebooks(solutions_dir or default_solutions_dir(), lessons)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks NN_name.ipynb in {solutions_dir}")
    out = Path(out) if out is not None else course_root() / "runs" / budget
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    timeout = cell_timeout or budgets.BUDGETS[budget].cell_timeout
    started = datetime.datetime.now().isoformat(timespec="seconds")
    log = [f"stn-course run · budget {budget} · device {device or default_device()} · "
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
            clear_lesson_results(results, nb_path.name[:2])
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

    rows.append(("stnlib location", str(Path(__file__).resolve().parents[1]), True))
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
        from ..data.fetch import CHECKSUMS, data_root, raw_folder, verify_file
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
    path = args.path
    if path is None and committed_results_path().exists():
        path = committed_results_path()  # the numbers the stored solutions show
    try:
        file = resolve_results_file(path)
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
                   help="run folder or results.json (default: the committed "
                   "results/standard.json, else runs/interactive)")
    p.add_argument("--no-write", action="store_true", help="print only, do not write report.md")
    p.set_defaults(func=_cli_report)

    p = sub.add_parser("check-env", help="versions, device, Jupyter kernel and data")
    p.set_defaults(func=_cli_check_env)
