import json

import pytest

from stnlib import course


@pytest.fixture
def results(tmp_path, monkeypatch):
    path = tmp_path / "run" / "results.json"
    monkeypatch.setenv("STN_RESULTS", str(path))
    monkeypatch.setattr(course.lesson, "_current", None)
    return path


def test_record_writes_entry_and_replaces_same_key(results, capsys):
    course.record("test error, CNN", 4.2, paper=0.8, unit="%", lesson="00",
                  higher_is_better=False, budget="smoke")
    course.record("test error, CNN", 4.1, paper=0.8, unit="%", lesson="00",
                  higher_is_better=False, budget="smoke")
    course.record("test error, ST-CNN", [1.0, 2.0], paper=0.5, unit="%", lesson=3,
                  budget="full", seeds=[0, 1])
    assert "recorded [00] test error, CNN: 4.1% (paper: 0.8%)" in capsys.readouterr().out
    rows = json.loads(results.read_text())["results"]
    assert [(r["lesson"], r["key"], r["value"]) for r in rows] == [
        ("00", "test error, CNN", 4.1), ("03", "test error, ST-CNN", 1.5)]
    assert rows[1]["std"] == pytest.approx(0.7071, abs=1e-4)
    assert not list(results.parent.glob(".*tmp"))  # atomic: no leftovers


def test_record_uses_the_lesson_context(results):
    ctx = course.start_lesson("00", budget="smoke", seed=1, device="cpu", verbose=False)
    entry = course.record("θ angle", 30.0)
    assert (entry["lesson"], entry["budget"], entry["seeds"], entry["device"]) == (
        "00", "smoke", list(ctx.budget.seeds), "cpu")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"key": "", "value": 1}, ValueError, "key must be a non-empty string"),
    ({"key": "x", "value": "4%"}, TypeError, "value must be a number"),
    ({"key": "x", "value": float("nan")}, ValueError, "value must be finite"),
    ({"key": "x", "value": 1, "paper": "0.5"}, TypeError, "paper must be a number"),
    ({"key": "x", "value": [1, 2], "seeds": [0]}, ValueError, "seeds has 1 entries"),
    ({"key": "x", "value": 1, "lesson": "zero"}, ValueError, "lesson must be a lesson number"),
])
def test_record_errors_name_the_argument(results, kwargs, error, match):
    kwargs.setdefault("lesson", "00")
    with pytest.raises(error, match=match):
        course.record(**kwargs)


def test_record_needs_a_lesson(results, monkeypatch):
    monkeypatch.delenv("STN_LESSON", raising=False)
    with pytest.raises(ValueError, match="needs to know the lesson"):
        course.record("x", 1.0)


def test_report_is_a_markdown_table(results, capsys):
    course.record("test error, ST-CNN", [1.0, 2.0], paper=0.5, unit="%", lesson="03",
                  budget="full", seeds=[0, 1], higher_is_better=False, note="seeds differ")
    course.record("test error, CNN", 4.1, paper=0.8, unit="%", lesson="00", budget="smoke",
                  seeds=[0], higher_is_better=False)
    text = course.report(results.parent)
    assert "| lesson | quantity | paper | ours | budget | seeds |" in text
    lines = text.splitlines()
    i = lines.index("|---|---|---|---|---|---|")
    assert lines[i + 1] == "| 00 | test error, CNN ↓ | 0.8% | 4.1% | smoke | 0 |"
    assert lines[i + 2] == "| 03 | test error, ST-CNN ↓ | 0.5% | 1.5% ± 0.707 | full | 0, 1 |"
    assert "seeds differ" in text and "`smoke` runs prove" in text


def test_report_cli_prints_and_writes(results, capsys):
    from stnlib.course.cli import main

    course.record("x", 1.0, lesson="00", budget="smoke")
    capsys.readouterr()
    assert main(["report", str(results.parent)]) == 0
    assert "| 00 | x | – | 1 | smoke | n=1 |" in capsys.readouterr().out
    assert (results.parent / "report.md").exists()
    assert main(["report", str(results.parent / "nothing-here")]) == 2
    assert "no results file" in capsys.readouterr().err


def test_check_env_runs(capsys):
    from stnlib.course.cli import main

    code = main(["check-env"])
    out = capsys.readouterr().out
    assert "torch" in out and "device" in out and "kernel python3" in out and "data" in out
    assert code in (0, 1)


def test_report_filters_lessons(results):
    course.record("a", 1.0, lesson="00", budget="smoke")
    course.record("b", 2.0, lesson="01", budget="smoke")
    text = course.report(results, lessons=["1"], title=False)
    assert text.startswith("| lesson |") and "| 01 | b |" in text and "| 00 |" not in text


def test_files_written_atomically_get_the_usual_mode(results):
    import os
    import stat

    old = os.umask(0o022)
    try:
        course.record("x", 1.0, lesson="00", budget="smoke")
    finally:
        os.umask(old)
    assert stat.S_IMODE(results.stat().st_mode) == 0o644  # not mkstemp's 0600


def test_the_same_key_in_two_lessons_is_two_entries_and_the_report_keeps_each_lessons_order(results):
    course.record("test error, CNN", 9.0, lesson="07", budget="smoke")
    course.record("b later", 2.0, lesson="03", budget="smoke")
    course.record("test error, CNN", 4.0, lesson="03", budget="smoke")
    course.record("a first", 1.0, lesson="07", budget="smoke")
    course.record("test error, CNN", 5.0, lesson="03", budget="smoke")  # replaces 03's own entry only
    rows = json.loads(results.read_text())["results"]
    assert sorted((r["lesson"], r["key"], r["value"]) for r in rows) == [
        ("03", "b later", 2.0), ("03", "test error, CNN", 5.0), ("07", "a first", 1.0),
        ("07", "test error, CNN", 9.0)]
    body = [line for line in course.report(results.parent).splitlines() if line.startswith("| 0")]
    # lessons in order; within a lesson, the order the entries were recorded (a replaced one moves last)
    assert [line.split(" | ")[1] for line in body] == ["b later", "test error, CNN", "test error, CNN",
                                                       "a first"]
    assert [line.split(" | ")[0] for line in body] == ["| 03", "| 03", "| 07", "| 07"]


def test_a_note_shared_by_several_rows_is_said_once(results):
    recipe = "adam lr 0.002, 4 epochs"
    for name in ("CNN", "ST-CNN", "ST-FCN"):
        course.record(f"test error, {name}", 3.0, lesson="07", budget="smoke", note=recipe)
    course.record("slope, ST-CNN", 0.5, lesson="07", budget="smoke", note="orthogonal fit")
    text = course.report(results)
    assert text.count(recipe) == 1 and text.count("orthogonal fit") == 1
    assert '- 07, rows "test error, CNN"; "test error, ST-CNN"; "test error, ST-FCN": ' + recipe in text
    assert "- 07, slope, ST-CNN: orthogonal fit" in text


def test_summary_fits_one_screen_and_points_to_the_full_table(results):
    for i in range(4):
        course.record(f"test error, model {i}", [2.0 + i, 3.0 + i], paper=1.0 + i, unit="%",
                      lesson="07", budget="smoke", seeds=[0, 1], higher_is_better=False,
                      note="a long recipe note " * 10)
    course.record("misalignment, block 1", [0.8, 0.8], lesson="07", budget="smoke", seeds=[0, 1])
    course.record("elsewhere", 9.0, lesson="06", budget="smoke")
    verdict = "ST-CNN 2.5 % [1, 4] vs CNN 3.5 % [2, 5]; difference -1.0 [-2, 0]: not separable"
    text = course.results.summary(["07"], comparisons=[verdict], path=results)
    lines = text.splitlines()
    assert lines[0] == "What this run measured (budget smoke, seeds 0, 1):"
    assert lines[1] == "  test error, model 0 ↓: 2.5% ± 0.707 (paper 1%)"
    assert "  misalignment, block 1: 0.8 ± 0" in lines and "elsewhere" not in text
    assert f"  {verdict}" in lines and "recipe note" not in text  # notes stay in the full table
    assert "stn-course report" in lines[-1] and len(lines) <= 12
    only = course.results.summary(["07"], path=results, paper_only=True).splitlines()
    assert "misalignment" not in "\n".join(only)
    assert "  and 1 more numbers without a paper value (printed above, and in the full table)" in only


def test_round_off_residues_print_as_a_bound(results, capsys):
    # a value that is 0 in exact arithmetic prints the same on every machine; its digits are not shown
    for key, value in (("residue", 1.75e-15), ("negative residue", -3e-12), ("small", 4.78e-06),
                       ("zero", 0.0)):
        course.record(key, value, lesson="07")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["recorded [07] residue: < 1e-09", "recorded [07] negative residue: > -1e-09",
                     "recorded [07] small: 4.78e-06", "recorded [07] zero: 0"]
