"""stnlib.course.results, where every compared number is kept (issue 25, mutation run of 2026-12-05):
the stored entry field by field, replacement by (lesson, key) only, the seeds rule, numbers printed with
their unit, the report's and the summary's lines, notes said once, merging and clearing lessons, and
every error message exactly."""

import json
import math
import re

import pytest
import torch

from stnlib.course import results as R


@pytest.fixture
def path(tmp_path, monkeypatch):
    monkeypatch.delenv("STN_LESSON", raising=False)
    monkeypatch.delenv("STN_BUDGET", raising=False)
    return tmp_path / "run" / "results.json"


def test_an_entry_field_by_field(path, capsys):
    e = R.record(" error, CNN ", [1.0, 2.0, 4.5], paper=0.5, unit="%", lesson=3, higher_is_better=False,
                 budget="smoke", seeds=[0, 1, 2], note="n", path=path)
    mean = 7.5 / 3
    std = math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (4.5 - mean) ** 2) / 2)
    assert e["lesson"] == "03" and e["key"] == "error, CNN" and e["values"] == [1.0, 2.0, 4.5]
    assert e["value"] == pytest.approx(mean) and e["std"] == pytest.approx(std)
    assert (e["paper"], e["unit"], e["higher_is_better"], e["budget"], e["seeds"], e["device"], e["note"]) == \
        (0.5, "%", False, "smoke", [0, 1, 2], None, "n")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", e["time"])
    stored = json.loads(path.read_text())
    assert stored["schema"] == R.RESULTS_SCHEMA == 1 and stored["results"] == [e]
    assert capsys.readouterr().out == f"recorded [03] error, CNN: 2.5% ± {R._fmt(std)} (paper: 0.5%)\n"


def test_one_value_has_no_std_and_no_paper_text(path, capsys):
    e = R.record("k", torch.tensor(3.0), lesson="4", budget="standard", path=path)
    assert e["values"] == [3.0] and e["std"] is None and e["paper"] is None and e["seeds"] is None
    assert e["unit"] == "" and e["higher_is_better"] is None and e["note"] == ""
    assert capsys.readouterr().out == "recorded [04] k: 3\n"
    seq = R.record("s", torch.tensor([1.0, 3.0]), lesson="4", budget="standard", path=path)
    assert seq["values"] == [1.0, 3.0]


def test_replacement_is_by_lesson_and_key(path):
    R.record("a", 1.0, lesson="01", budget="smoke", path=path)
    R.record("b", 2.0, lesson="01", budget="smoke", path=path)
    R.record("a", 3.0, lesson="02", budget="smoke", path=path)
    R.record("a", 4.0, lesson="01", budget="smoke", path=path)
    got = [(r["lesson"], r["key"], r["value"]) for r in R.load_results(path)["results"]]
    assert got == [("01", "b", 2.0), ("02", "a", 3.0), ("01", "a", 4.0)]


def test_seeds_must_match_the_values(path):
    assert R.record("k", [1.0, 2.0], lesson="00", budget="smoke", seeds=(3.0, 4), path=path)["seeds"] == [3, 4]
    with pytest.raises(ValueError, match="^" + re.escape(
            "seeds has 3 entries but value has 2; give one value per seed") + "$"):
        R.record("k", [1.0, 2.0], lesson="00", budget="smoke", seeds=[0, 1, 2], path=path)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"key": " "}, ValueError, "key must be a non-empty string naming the quantity, got ' '"),
    ({"key": 3}, ValueError, "key must be a non-empty string naming the quantity, got 3"),
    ({"value": []}, ValueError, "value must be a number or a non-empty sequence of numbers, got []"),
    ({"value": [1.0, "2"]}, TypeError, "value[1] must be a number, got '2'"),
    ({"value": True}, TypeError, "value must be a number, got True"),
    ({"value": float("nan")}, ValueError, "value must be finite, got nan"),
    ({"paper": float("inf")}, ValueError, "paper must be finite, got inf"),
    ({"paper": "1"}, TypeError, "paper must be a number, got '1'"),
    ({"higher_is_better": 1}, TypeError, "higher_is_better must be True, False or None, got 1"),
])
def test_record_errors(path, kwargs, error, message):
    args = {"key": "k", "value": 1.0, "lesson": "00", "budget": "smoke", "path": path, **kwargs}
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        R.record(**args)


def test_a_lesson_is_needed(path):
    with pytest.raises(ValueError, match="^" + re.escape(
            "record() needs to know the lesson: pass lesson='00' or call course.start_lesson('00', ...) first") + "$"):
        R.record("k", 1.0, budget="smoke", path=path)


def test_the_lesson_and_results_file_come_from_the_environment(tmp_path, monkeypatch):
    target = tmp_path / "env.json"
    monkeypatch.setenv("STN_RESULTS", f"  {target}  ")
    monkeypatch.setenv("STN_LESSON", "7")
    assert R.results_path() == target
    assert R.record("k", 1.0, budget="smoke")["lesson"] == "07" and target.exists()
    monkeypatch.setenv("STN_RESULTS", " ")
    assert R.results_path().parts[-3:] == ("runs", "interactive", "results.json")


@pytest.mark.parametrize("x, unit, text", [(None, "", "–"), (None, "%", "–"), (1.23456, "", "1.23"), (1.23456, "%", "1.23%"),
                                           (12.5, "s", "12.5 s"), (12345.6, "", "1.235e+04"), (9999.4, "", "1e+04"),
                                           (3e-10, "", "< 1e-09"), (-3e-10, "%", "> -1e-09%"), (0.0, "", "0"),
                                           (1e-9, "", "1e-09"), (-2.5, "", "-2.5")],
                         ids=lambda v: repr(v).encode("ascii", "replace").decode())
def test_numbers_print_with_their_unit(x, unit, text):
    assert R._fmt(x, unit) == text


def test_entries_print_with_their_std():
    assert R._fmt_entry({"value": 2.0, "unit": "%", "std": 0.5}) == "2% ± 0.5"
    assert R._fmt_entry({"value": 2.0, "std": None}) == "2"


def rows(path):
    R.record("b key", [1.0, 2.0], paper=3.0, unit="%", lesson="05", budget="smoke", higher_is_better=False,
             seeds=[0, 1], note="recipe A", path=path)
    R.record("a key", 7.0, lesson="02", budget="standard", higher_is_better=True, note="recipe A", path=path)
    R.record("c key", 4.0, lesson="05", budget="smoke", note="recipe A", path=path)
    R.record("d key", [1.0, 1.0, 1.0], lesson="02", budget="standard", path=path)


def test_the_report_line_by_line(path):
    rows(path)
    lines = R.report(path).splitlines()
    assert lines[:4] == ["# Replication table (run)", "", "| lesson | quantity | paper | ours | budget | seeds |",
                         "|---|---|---|---|---|---|"]
    assert lines[4:8] == ["| 02 | a key ↑ | – | 7 | standard | n=1 |",
                          "| 02 | d key | – | 1 ± 0 | standard | n=3 |",
                          "| 05 | b key ↓ | 3% | 1.5% ± 0.707 | smoke | 0, 1 |",
                          "| 05 | c key | – | 4 | smoke | n=1 |"]
    assert lines[8:] == ["", "↓ lower is better, ↑ higher is better; ours is the mean (± std) over the seeds.",
                         "`smoke` runs prove that the code runs; their numbers are not results.", "", "Notes:",
                         "- 02, a key: recipe A", '- 05, rows "b key"; "c key": recipe A']
    only = R.report(path.parent, lessons=[2], title=False).splitlines()
    assert only[0].startswith("| lesson |") and len([x for x in only if x.startswith("| 0")]) == 2
    assert "`smoke`" not in R.report(path, lessons=["02"])


def test_an_empty_report(path):
    R.save_results(path, {"schema": 1, "results": []})
    lines = R.report(path).splitlines()
    assert "| – | (nothing recorded yet) | | | | |" in lines and "Notes:" not in lines


def test_note_lines_without_the_lesson():
    rs = [{"lesson": "01", "key": "x", "note": "n"}, {"lesson": "01", "key": "y", "note": ""},
          {"lesson": "02", "key": "z", "note": "n"}]
    assert R.note_lines(rs, with_lesson=False) == ["- x: n", "- z: n"]
    assert R.note_lines(rs) == ["- 01, x: n", "- 02, z: n"]


def test_the_summary_line_by_line(path):
    rows(path)
    lines = R.summary(["05"], path=path).splitlines()
    assert lines[0] == "What this run measured (budget smoke):"
    assert lines[1] == "  b key ↓: 1.5% ± 0.707 (paper 3%) [seeds 0, 1]"
    assert lines[2] == "  c key: 4"
    assert lines[3].startswith("The full table, with each number's recipe: `stn-course report ")
    paper = R.summary(["5"], path=path, paper_only=True, comparisons=["A ahead of B"]).splitlines()
    assert paper[1:5] == ["  b key ↓: 1.5% ± 0.707 (paper 3%) [seeds 0, 1]",
                          "  and 1 more numbers without a paper value (printed above, and in the full table)",
                          "Comparisons (means, 95 % intervals, paired difference, verdict):", "  A ahead of B"]
    both = R.summary(["02", "05"], path=path).splitlines()[0]
    assert both == "What this run measured (budget smoke, standard):"
    assert R.summary(["09"], path=path).splitlines()[:2] == ["What this run measured (budget –):",
                                                            "  nothing recorded"]


def test_a_summary_with_one_seed_set_says_it_once(path):
    R.record("x", [1.0, 2.0], lesson="06", budget="smoke", seeds=[0, 1], path=path)
    R.record("y", [3.0, 4.0], lesson="06", budget="smoke", seeds=[0, 1], path=path)
    lines = R.summary(["06"], path=path).splitlines()
    assert lines[:3] == ["What this run measured (budget smoke, seeds 0, 1):", "  x: 1.5 ± 0.707", "  y: 3.5 ± 0.707"]


def test_merge_and_clear_lessons(tmp_path):
    source, target = tmp_path / "run.json", tmp_path / "committed.json"
    for lesson, key, v in (("03", "a", 1.0), ("05", "b", 2.0), ("05", "c", 3.0)):
        R.record(key, v, lesson=lesson, budget="smoke", path=source)
    for lesson, key, v in (("05", "old", 9.0), ("07", "z", 7.0), ("01", "y", 1.0)):
        R.record(key, v, lesson=lesson, budget="standard", path=target)
    new = R.merge_results(source, target, ["5"])
    assert [r["key"] for r in new] == ["b", "c"]
    assert [(r["lesson"], r["key"]) for r in R.load_results(target)["results"]] == \
        [("01", "y"), ("05", "b"), ("05", "c"), ("07", "z")]
    assert R.merge_results(tmp_path / "missing.json", target, ["07"]) == []
    assert [r["lesson"] for r in R.load_results(target)["results"]] == ["01", "05", "05"]
    R.clear_lesson_results(target, "05")
    assert [r["key"] for r in R.load_results(target)["results"]] == ["y"]
    R.clear_lesson_results(tmp_path / "none.json", "05")
    assert not (tmp_path / "none.json").exists()


def test_files_that_are_not_results(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="^" + re.escape(f"results file {bad} is not valid JSON (")):
        R.load_results(bad)
    bad.write_text('{"results": 3}')
    with pytest.raises(ValueError, match="^" + re.escape(
            f"results file {bad} has no 'results' list; is it a stn-course file?") + "$"):
        R.load_results(bad)
    bad.write_text("[]")
    with pytest.raises(ValueError, match="has no 'results' list"):
        R.load_results(bad)
    assert R.load_results(tmp_path / "none.json") == {"schema": 1, "results": []}
    with pytest.raises(FileNotFoundError, match="^" + re.escape(
            f"no results file at {tmp_path / 'results.json'}; run `stn-course run` first, or pass the run "
            "folder (e.g. runs/standard)") + "$"):
        R.report(tmp_path)


def test_the_default_results_file_and_report_without_a_path(tmp_path, monkeypatch):
    monkeypatch.delenv("STN_RESULTS", raising=False)
    assert R.results_path().parts[-3:] == ("runs", "interactive", "results.json")
    target = tmp_path / "r.json"
    R.record("k", 1.0, lesson="01", budget="smoke", path=target)
    monkeypatch.setenv("STN_RESULTS", str(target))
    assert R.report().splitlines()[4] == "| 01 | k | – | 1 | smoke | n=1 |"


def test_the_file_is_indented_by_one_and_keeps_its_characters(path):
    R.record("error × 2 ↓", 1.0, lesson="01", budget="smoke", path=path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n "schema": 1,\n "results": [\n  {\n   "lesson": "01",\n')
    assert '"key": "error × 2 ↓"' in text and text.endswith("}\n")


def test_a_bad_file_says_what_to_do(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError) as err:
        R.load_results(bad)
    assert str(err.value).endswith("); delete it or point STN_RESULTS elsewhere")


def test_entries_written_by_hand_without_a_unit_print_plain_numbers(path):
    R.save_results(path, {"schema": 1, "results": [
        {"lesson": "03", "key": "k", "value": 2.0, "values": [2.0], "paper": 3.0, "budget": "smoke",
         "seeds": None, "higher_is_better": True, "note": ""}]})
    assert R.report(path).splitlines()[4] == "| 03 | k ↑ | 3 | 2 | smoke | n=1 |"
    assert R.summary(["03"], path=path).splitlines()[1] == "  k ↑: 2 (paper 3)"


def test_the_summary_points_to_the_full_table(path):
    rows(path)
    lines = R.summary(["02"], path=path).splitlines()
    assert lines[1:3] == ["  a key ↑: 7", "  d key: 1 ± 0"]
    assert lines[-1] == (f"The full table, with each number's recipe: `stn-course report {path.parent}` (the course "
                         "site's replication report shows the committed `standard` run).")


def test_the_committed_results_live_in_results_standard_json():
    from stnlib.course.paths import course_root

    assert R.committed_results_path() == course_root() / "results" / "standard.json"
    assert R.committed_results_path().exists()
