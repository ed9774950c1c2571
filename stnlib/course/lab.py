"""``stn-course lab [PATH] [JUPYTER OPTIONS...]``: JupyterLab on the lessons, as root or not.

Plain ``jupyter lab`` refuses to start as root ("Running as root is not
recommended. Use --allow-root to bypass."), which is how many containers and
fresh cloud machines run. This command starts this environment's JupyterLab
(``python -m jupyterlab`` of the interpreter ``stn-course`` runs in, so the
kernel is the virtual environment's) on ``PATH`` (default: the repository's
``lessons/``), adding ``--allow-root`` only when the effective user id is 0.
Options after the path go to JupyterLab unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys

from .paths import default_lessons_dir


def default_path() -> str:
    """The course's ``lessons/`` (:func:`stnlib.course.paths.default_lessons_dir`) when it is
    there, else the current folder."""
    lessons = default_lessons_dir()
    return str(lessons) if lessons.is_dir() else "."


def lab_argv(path: str | None = None, options: list[str] | tuple[str, ...] = (), *,
             uid: int | None = None) -> list[str]:
    """The command that starts JupyterLab on ``path``: ``--allow-root`` added for uid 0.

    ``uid`` defaults to the effective user id (``os.geteuid()``; none on Windows,
    where there is no root). ``options`` are passed to JupyterLab after the path.
    """
    if uid is None:
        uid = os.geteuid() if hasattr(os, "geteuid") else -1
    options = list(options)
    argv = [sys.executable, "-m", "jupyterlab"]
    if uid == 0 and "--allow-root" not in options:
        argv.append("--allow-root")
    return [*argv, path or default_path(), *options]


def _cli(args: argparse.Namespace) -> int:
    argv = lab_argv(args.path, args.options)
    print("starting:", " ".join(argv), flush=True)
    os.execv(argv[0], argv)  # replaces this process: Ctrl-C goes straight to JupyterLab
    return 0  # pragma: no cover - execv does not return


def add_cli(sub) -> None:
    p = sub.add_parser("lab", help="open the lessons in JupyterLab (as root too)",
                       description="Start JupyterLab on PATH (default: lessons/), adding "
                                   "--allow-root when run as root. Options after PATH are "
                                   "passed to JupyterLab, e.g. `stn-course lab lessons/ "
                                   "--no-browser --port 8899`.")
    p.add_argument("path", nargs="?", default=None,
                   help="folder or notebook to open (default: the repository's lessons/)")
    p.add_argument("options", nargs=argparse.REMAINDER,
                   help="options for JupyterLab, after PATH")
    p.set_defaults(func=_cli)
