"""The stn-course command line: the sub-commands in order, dispatch, exit codes, usage errors."""

import argparse
import sys
import types

import pytest

from stnlib.course import cli


def _subcommands(parser):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub


def test_parser_has_every_command_in_order():
    parser = cli.build_parser()
    assert parser.prog == "stn-course"
    assert parser.description == "stn-course: run the Spatial Transformer Network course and its tools."
    sub = _subcommands(parser)
    assert list(sub.choices) == ["run", "report", "check-env", "make-lessons", "store-outputs", "demo", "data",
                                 "bench", "lab", "book"]
    assert sub.dest == "command" and sub.metavar == "COMMAND" and sub.required is True
    assert "--nbgrader" in sub.choices["make-lessons"]._option_string_actions  # classroom's addition


def test_modules_are_imported_in_order_and_each_adds_its_commands(monkeypatch):
    order = []

    def fake_import(name):
        def add_cli(sub):
            order.append(name)
            p = sub.add_parser(name.rsplit(".", 1)[1])
            p.set_defaults(func=lambda args: len(order))
        return types.SimpleNamespace(add_cli=add_cli)
    monkeypatch.setattr(cli.importlib, "import_module", fake_import)
    parser = cli.build_parser()
    assert order == cli.COMMAND_MODULES
    assert list(_subcommands(parser).choices) == [m.rsplit(".", 1)[1] for m in cli.COMMAND_MODULES]


@pytest.mark.parametrize("returned, code", [(None, 0), (0, 0), (3, 3), (False, 0), (True, 1)])
def test_main_returns_the_commands_exit_code(monkeypatch, returned, code):
    seen = []

    def build():
        parser = argparse.ArgumentParser(prog="stn-course")
        sub = parser.add_subparsers(dest="command", required=True)
        p = sub.add_parser("go")
        p.add_argument("--x", default="d")
        p.set_defaults(func=lambda args: seen.append(args.x) or returned)
        return parser
    monkeypatch.setattr(cli, "build_parser", build)
    result = cli.main(["go", "--x", "1"])
    assert result == code and type(result) is int and seen == ["1"]


def test_main_without_a_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "stn-course: error: the following arguments are required: COMMAND" in capsys.readouterr().err


def test_main_reads_sys_argv_by_default(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["stn-course", "nope"])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_a_real_command_is_dispatched(monkeypatch, capsys):
    from stnlib.course import runner

    monkeypatch.setattr(runner, "check_env", lambda: ([("python", "3", True)], True))
    assert cli.main(["check-env"]) == 0
    assert capsys.readouterr().out == "  python  3\n\nall good\n"
