"""The ``stn-course`` command line.

Each sub-command lives in the module that implements it; that module has an
``add_cli(subparsers)`` function which registers its parser and sets
``func``. Modules are imported only when the CLI starts, never by ``import stnlib``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: modules that contribute sub-commands, in the order ``--help`` lists them
COMMAND_MODULES = [
    "stnlib.course.runner",
    "stnlib.course.notebooks",
    "stnlib.course.classroom",  # adds --nbgrader to make-lessons
    "stnlib.course.demo",
    "stnlib.data.cli",
    "stnlib.course.bench",
    "stnlib.course.lab",
    "stnlib.course.book",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stn-course",
        description="stn-course: run the Spatial Transformer Network course and its tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
