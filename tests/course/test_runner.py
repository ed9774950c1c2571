"""``stn-course run`` on tiny notebooks: outputs, results, and failures named precisely."""

import json

from nbtools import PARAMETERS, code, notebook, write

from stnlib.course.cli import main


def test_run_executes_all_records_and_names_the_failing_cell(tmp_path, capsys):
    sol, out = tmp_path / "solutions", tmp_path / "runs" / "smoke"
    write(sol / "01_ok.ipynb", notebook(
        PARAMETERS,
        code("import os\nfrom stnlib import course\n"
             "course.record('answer', 42, paper=41, lesson='01', budget=BUDGET)\n"
             "print(BUDGET, SEED, os.environ['STN_LESSON'])"),
    ))
    write(sol / "02_broken.ipynb", notebook(
        PARAMETERS,
        code("x = 1"),
        code("# the broken cell\nraise ValueError('boom in lesson 2')"),
        code("print('never')"),
    ))
    write(sol / "03_ok.ipynb", notebook(PARAMETERS, code("print('three')")))
    code_ = main(["run", "--budget", "smoke", "--solutions", str(sol), "--out", str(out),
                  "--seed", "7"])
    err = capsys.readouterr().err
    assert code_ == 1
    assert ("02_broken.ipynb: cell 3 (In [4] in the executed copy) `# the broken cell`: "
            "ValueError: boom in lesson 2") in err
    # every notebook ran, and wrote its executed copy
    assert sorted(p.name for p in out.glob("*.ipynb")) == [
        "01_ok.ipynb", "02_broken.ipynb", "03_ok.ipynb"]
    run = json.loads((out / "run.json").read_text())
    assert [n["ok"] for n in run["notebooks"]] == [True, False, True]
    assert all(n["seconds"] > 0 for n in run["notebooks"])
    executed = json.loads((out / "01_ok.ipynb").read_text())
    assert "smoke 7 01" in "".join(executed["cells"][2]["outputs"][-1]["text"])
    results = json.loads((out / "results.json").read_text())["results"]
    assert [(r["key"], r["value"], r["budget"]) for r in results] == [("answer", 42.0, "smoke")]
    assert "| 01 | answer | 41 | 42 | smoke |" in (out / "report.md").read_text()
    log = (out / "run.log").read_text()
    assert "FAILED 02_broken.ipynb" in log and "=== 03_ok.ipynb" in log
    assert not list(out.glob(".*")), "no temporary files left behind"


def test_run_selects_lessons_and_explains_unknown_ones(tmp_path, capsys):
    sol, out = tmp_path / "solutions", tmp_path / "out"
    write(sol / "00_a.ipynb", notebook(PARAMETERS, code("1")))
    write(sol / "05_b.ipynb", notebook(PARAMETERS, code("1")))
    assert main(["run", "--budget", "smoke", "--solutions", str(sol), "--out", str(out),
                 "--lessons", "5"]) == 0
    assert [p.name for p in out.glob("*.ipynb")] == ["05_b.ipynb"]
    assert main(["run", "--budget", "smoke", "--solutions", str(sol), "--out", str(out),
                 "--lessons", "00,03"]) == 2
    assert "no notebook for lesson(s) 03" in capsys.readouterr().err


def test_cell_timeout_is_reported_as_a_failure(tmp_path, capsys):
    sol, out = tmp_path / "solutions", tmp_path / "out"
    write(sol / "04_slow.ipynb", notebook(PARAMETERS, code("import time\ntime.sleep(30)")))
    assert main(["run", "--budget", "smoke", "--solutions", str(sol), "--out", str(out),
                 "--cell-timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert ("04_slow.ipynb: cell 2 (In [3] in the executed copy) `import time`: "
            "CellTimeoutError") in err


def test_store_outputs_copies_a_run_into_the_solution(tmp_path, capsys):
    import nbformat

    sol, out = tmp_path / "solutions", tmp_path / "runs" / "smoke"
    committed = tmp_path / "results" / "standard.json"
    write(sol / "06_store.ipynb", notebook(PARAMETERS, code("print('stored', BUDGET)"),
                                           code("1 + 1")))
    write(sol / "07_records.ipynb", notebook(PARAMETERS, code(
        "from stnlib import course\ncourse.record('answer', 42, paper=41, lesson='07', budget=BUDGET)")))
    assert main(["run", "--budget", "smoke", "--solutions", str(sol), "--out", str(out)]) == 0
    assert main(["store-outputs", str(out), "--solutions", str(sol), "--results", str(committed)]) == 2
    assert "is a 'smoke' run" in capsys.readouterr().err
    # --lessons 7 (no leading zero) stores lesson 07 only
    assert main(["store-outputs", str(out), "--solutions", str(sol), "--budget", "smoke", "--lessons", "7",
                 "--results", str(committed)]) == 0
    assert "07_records.ipynb" in capsys.readouterr().out
    assert nbformat.read(sol / "06_store.ipynb", as_version=4).cells[1].outputs == []
    assert nbformat.read(sol / "07_records.ipynb", as_version=4).cells[1].outputs != []
    assert main(["store-outputs", str(out), "--solutions", str(sol), "--budget", "smoke",
                 "--results", str(committed)]) == 0
    # the committed results now hold the run's numbers of the stored lessons, and nothing else
    stored = json.loads(committed.read_text())["results"]
    assert [(r["lesson"], r["key"], r["value"], r["paper"]) for r in stored] == [
        ("07", "answer", 42.0, 41.0)]
    nb = nbformat.read(sol / "06_store.ipynb", as_version=4)
    assert [c.execution_count for c in nb.cells] == [1, 2, 3]
    assert nb.cells[1].outputs[0].text == "stored smoke\n"
    assert nb.cells[2].outputs[0].execution_count == 3
    assert all("papermill" not in c.metadata for c in nb.cells)
    assert "papermill" not in nb.metadata
    nb.cells[2].source = "2 + 2"  # edited after the run
    nbformat.write(nb, sol / "06_store.ipynb")
    assert main(["store-outputs", str(out), "--solutions", str(sol), "--budget", "smoke"]) == 2
    assert "cell 2: the source changed since the run" in capsys.readouterr().err


def test_the_runner_asks_the_lessons_training_for_one_line_per_epoch(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("STN_PROGRESS", raising=False)  # only the runner sets it, for its kernels
    sol, out = tmp_path / "solutions", tmp_path / "out"
    write(sol / "00_train.ipynb", notebook(PARAMETERS, code(
        "import torch\nfrom stnlib.course import start_lesson\nfrom stnlib.train import train\n"
        "ctx = start_lesson('00', budget=BUDGET, verbose=False)\n"
        "print('progress:', ctx.progress)\n"
        "x, y = torch.rand(8, 3), torch.randint(0, 2, (8,))\n"
        "h = train(torch.nn.Linear(3, 2), (x, y), epochs=2, batch_size=4, desc='tiny',\n"
        "          progress=ctx.progress)")))
    assert main(["run", "--budget", "smoke", "--solutions", str(sol), "--out", str(out)]) == 0
    outputs = json.loads((out / "00_train.ipynb").read_text())["cells"][2]["outputs"]
    assert {o["name"] for o in outputs} == {"stdout"}  # no bar on stderr, no widget
    lines = "".join(t for o in outputs for t in o["text"]).splitlines()
    assert lines[0] == "progress: log"
    assert [ln.split("  ")[0] for ln in lines[1:]] == ["tiny: epoch 1/2", "tiny: epoch 2/2"]


def test_a_lesson_outside_the_runner_draws_bars(monkeypatch):
    from stnlib.course import lesson

    monkeypatch.setattr(lesson, "_current", lesson.current_lesson())  # restored afterwards
    monkeypatch.delenv("STN_PROGRESS", raising=False)
    assert lesson.start_lesson("00", budget="smoke", verbose=False).progress == "bar"
    monkeypatch.setenv("STN_PROGRESS", "log")
    assert lesson.start_lesson("00", budget="smoke", verbose=False).progress == "log"
    monkeypatch.setenv("STN_PROGRESS", "bars please")
    assert lesson.start_lesson("00", budget="smoke", verbose=False).progress == "bar"
