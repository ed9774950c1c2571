"""stn-course bench: every part runs on tiny inputs, the JSON has its structure, nothing half-written.

No timing is asserted: these tests prove the code paths, not the speed.
"""

import json

import pytest
import torch

from stnlib.course import bench, cli
from stnlib.models import cnn, st_cnn, tutorial_net
from stnlib.recipe import Recipe

TINY_SHAPES = (((2, 1, 6, 6), (5, 5)), ((1, 3, 5, 7), (4, 4)))


def _timing_ok(s):
    return set(s) == {"median_ms", "q1_ms", "q3_ms", "min_ms", "max_ms", "n"} and \
        s["min_ms"] <= s["q1_ms"] <= s["median_ms"] <= s["q3_ms"] <= s["max_ms"]


def test_sampler_rows_cover_every_kernel_pass_and_shape():
    rows = bench.bench_sampler(shapes=TINY_SHAPES, repeats=1, warmup=0)
    assert len(rows) == len(TINY_SHAPES) * 3 * 2
    assert {(r["kernel"], r["pass"]) for r in rows} == {
        (k, p) for k in bench.KERNELS for p in ("forward", "forward+backward")}
    for r in rows:
        assert r["device"].startswith("cpu")
        assert _timing_ok(r["reference"]) and _timing_ok(r["native"])
        assert r["ratio"] > 0 and r["ratio_q1"] <= r["ratio_q3"]


def test_overhead_with_small_models_and_the_reference_sampler_row():
    models = {"CNN": lambda: cnn(1, 12, channels=(2, 4), hidden=8),
              "ST-CNN": lambda: st_cnn(1, 12, channels=(2, 4), hidden=8, loc_channels=2)}
    rows = bench.bench_overhead(batch_size=4, in_size=12, repeats=1, warmup=0, models=models)
    assert [r["model"] for r in rows] == ["ST-CNN (native sampler)", "ST-CNN (reference sampler)"]
    assert all(_timing_ok(r["cnn"]) and _timing_ok(r["st_cnn"]) and r["ratio"] > 0 for r in rows)


def test_data_throughput_for_every_paper_distortion():
    d = bench.bench_data(n=8, repeats=1)
    assert [r["distortion"] for r in d["rows"]] == list(bench.DISTORTIONS)
    assert {r["output"] for r in d["rows"]} == {"1×28×28", "1×42×42", "1×60×60"}
    assert all(r["images_per_s"] > 0 for r in d["rows"])
    assert d["source"]


def test_time_to_accuracy_runs_and_reports_budget_errors():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (32,), generator=g)
    recipes = {
        "course": (lambda: cnn(1, 28, channels=(2, 2), hidden=4),
                   Recipe(epochs=10 ** 6, lr=1e-3, batch_size=64, schedule="constant")),
        "tutorial": (lambda: tutorial_net(28),
                     Recipe(epochs=10 ** 6, lr=0.01, batch_size=64, optimizer="sgd", schedule="constant")),
    }
    lines = []
    t = bench.bench_time_to_accuracy(time_cap_s=0.05, data=(x, y, x[:8], y[:8], x[8:16], y[8:16]),
                                     recipes=recipes, eval_every=1, target=-1.0,
                                     time_caps={"tutorial": 0.1}, log=lines.append)
    assert set(t["recipes"]) == {"course", "tutorial"} and t["stopped_on"] == "validation"
    for name, r in t["recipes"].items():
        assert r["seconds_to_target"] is None  # a negative target is never reached
        assert r["time_cap_s"] == {"course": 0.05, "tutorial": 0.1}[name]
        assert r["curve"][-1]["seconds"] >= r["time_cap_s"]  # it ran to its own cap
        assert all("test_error" not in c for c in r["curve"])  # the curve is validation only
        assert r["steps"] >= 1 and 0 <= r["test_error_at_stop"] <= 100
    assert t["ratios"] == {"tutorial": {"ratio": None, "bound": False}} and t["budget_s"] == 0.05
    assert any("validation error" in line for line in lines)
    assert "### 4." in bench.format_table({"meta": {"date": "d", "torch": "t", "threads": 1,
                                                    "clock": "wall", "loadavg_start": None},
                                           "time_to_accuracy": t})
    with pytest.raises(ValueError, match="x_val"):
        bench.bench_time_to_accuracy(data=(x, y, x, y), recipes=recipes)


class _Constant(torch.nn.Module):
    """Always predicts ``label`` (a trainable bias that an lr of 0 never moves)."""

    def __init__(self, label: int = 0):
        super().__init__()
        self.bias = torch.nn.Parameter(5.0 * torch.nn.functional.one_hot(torch.tensor(label), 10).float())

    def forward(self, x):
        return self.bias.expand(len(x), 10) + 0.0 * x.flatten(1)[:, :1]


def _frozen():  # a learning rate too small to move the bias
    return {"constant": (_Constant, Recipe(epochs=10 ** 6, lr=1e-12, batch_size=64, optimizer="sgd",
                                           schedule="constant"))}


def test_time_to_accuracy_stops_on_the_validation_split_not_the_test_split():
    x = torch.rand(16, 1, 4, 4)
    zeros, ones = torch.zeros(16, dtype=torch.long), torch.ones(16, dtype=torch.long)
    # validation says "reached" (0 % error), test says 100 %: stop at the first evaluation
    t = bench.bench_time_to_accuracy(time_cap_s=5.0, data=(x, zeros, x, zeros, x, ones),
                                     recipes=_frozen(), eval_every=1, target=1.5)
    r = t["recipes"]["constant"]
    assert r["seconds_to_target"] is not None and r["steps"] == 1
    assert r["val_error_at_stop"] == 0.0 and r["test_error_at_stop"] == 100.0
    # validation says 100 %, test would say 0 %: it never stops early, it runs to its cap
    t = bench.bench_time_to_accuracy(time_cap_s=0.05, data=(x, zeros, x, ones, x, zeros),
                                     recipes=_frozen(), eval_every=1, target=1.5)
    r = t["recipes"]["constant"]
    assert r["seconds_to_target"] is None and r["steps"] >= 1  # (one step may take the whole cap)
    assert [c["val_error"] for c in r["curve"]] == [100.0] * len(r["curve"])
    assert r["test_error_at_stop"] == 0.0 and r["curve"][-1]["seconds"] >= 0.05


def test_time_to_accuracy_ratio_is_a_bound_when_the_other_recipe_misses_the_target():
    x = torch.rand(16, 1, 4, 4)
    zeros = torch.zeros(16, dtype=torch.long)
    recipes = {"fast": _frozen()["constant"], "slow": _frozen()["constant"]}
    t = bench.bench_time_to_accuracy(time_cap_s=5.0, data=(x, zeros, x, zeros, x, zeros),
                                     recipes=recipes, eval_every=1, target=1.5)
    first = t["recipes"]["fast"]["seconds_to_target"]
    assert t["ratios"]["slow"]["bound"] is False
    assert t["ratios"]["slow"]["ratio"] == pytest.approx(t["recipes"]["slow"]["seconds_to_target"] / first)
    wrong = (lambda: _Constant(label=1), _frozen()["constant"][1])  # always class 1: 100 % error
    t = bench.bench_time_to_accuracy(time_cap_s=5.0, data=(x, zeros, x, zeros, x, zeros),
                                     recipes={"fast": recipes["fast"], "slow": wrong}, eval_every=1,
                                     target=1.5, time_caps={"slow": 0.05})
    first = t["recipes"]["fast"]["seconds_to_target"]
    assert t["recipes"]["slow"]["seconds_to_target"] is None
    assert t["ratios"]["slow"] == {"ratio": pytest.approx(0.05 / first), "bound": True}
    assert "> " in bench.format_table({"meta": {"date": "d", "torch": "t", "threads": 1, "clock": "wall",
                                                "loadavg_start": None}, "time_to_accuracy": t})
    t = bench.bench_time_to_accuracy(time_cap_s=0.05, data=(x, zeros, x, zeros, x, zeros),
                                     recipes={"slow": wrong, "fast": recipes["fast"]}, eval_every=1,
                                     target=1.5)
    assert t["ratios"]["fast"] == {"ratio": None, "bound": False}  # the first never reached it


def _run_json(folder, device, *notebooks):
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"budget": folder.name, "device": device, "notebooks": [
        {"name": name, "seconds": seconds, "ok": ok, "output": "x"} for name, seconds, ok in notebooks]}))


def test_course_times_from_run_json_and_absent(tmp_path):
    _run_json(tmp_path / "smoke", "cpu", ("00_orientation.ipynb", 12.5, True), ("01_kernels.ipynb", 30.0, False))
    _run_json(tmp_path / "standard", "cpu", ("00_orientation.ipynb", 100.0, True))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "run.log").write_text("ok     00_orientation.ipynb    100.0 s\n")  # a log is not read
    c = bench.bench_course(tmp_path, budgets=("smoke", "standard", "full"))
    assert c["smoke"]["total_s"] == 42.5 and not c["smoke"]["all_ok"]
    assert [(nb["name"], nb["seconds"], nb["ok"]) for nb in c["standard"]["notebooks"]] == [
        ("00_orientation.ipynb", 100.0, True)]
    assert c["standard"]["device"] == "cpu"
    assert c["full"] == {"missing": f"no run.json in {tmp_path / 'full'}: run `stn-course run --budget full` first"}
    (tmp_path / "full" / "run.json").write_text("{not json")
    assert bench.read_run(tmp_path / "full") is None
    other = tmp_path / "other"
    _run_json(other / "standard", None, ("00_orientation.ipynb", 1.0, True), ("02_grids.ipynb", 5.0, True))
    both = bench.bench_course([tmp_path, other], budgets=("standard",))["standard"]
    assert [(nb["name"], nb["seconds"]) for nb in both["notebooks"]] == [
        ("00_orientation.ipynb", 100.0), ("02_grids.ipynb", 5.0)]  # the first folder wins


def test_run_bench_writes_complete_json_atomically_and_prints_a_table(tmp_path):
    out = tmp_path / "bench" / "results.json"
    result = bench.run_bench(parts=["sampler", "course"], quick=True, out=out, runs_dir=tmp_path,
                             sampler_shapes=TINY_SHAPES[:1], repeats=1)
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert set(result) == {"schema", "meta", "sampler", "course"}
    assert result["meta"]["devices"][0].startswith("cpu") and result["meta"]["threads"] == 2
    assert [p.name for p in out.parent.iterdir()] == ["results.json"]  # no temporary left
    table = bench.format_table(result)
    assert "### 1. Sampler" in table and "### 5." in table


def test_a_failing_part_leaves_no_file(tmp_path, monkeypatch):
    out = tmp_path / "results.json"

    def boom(**kwargs):
        raise RuntimeError("part failed")

    monkeypatch.setattr(bench, "bench_sampler", boom)
    with pytest.raises(RuntimeError):
        bench.run_bench(parts=["sampler"], out=out)
    assert list(tmp_path.iterdir()) == []


def test_cli(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli.main(["bench", "--quick", "--part", "course", "--out", str(out), "--runs", str(tmp_path),
                     "--device", "cpu"]) == 0
    assert "### 5." in capsys.readouterr().out
    assert json.loads(out.read_text())["meta"]["quick"] is True
    assert cli.main(["bench", "--part", "course", "--device", "tpu", "--out", str(out)]) == 2


def test_cpu_clock_option(tmp_path, monkeypatch):
    from stnlib import timing

    ticks = iter(range(10**6))
    monkeypatch.setitem(timing.CLOCKS, "cpu", lambda: float(next(ticks)))  # every reading 1 s later
    r = bench.run_bench(parts=["sampler"], out=None, threads=1, clock="cpu", repeats=2,
                        sampler_shapes=TINY_SHAPES[:1])
    assert r["meta"]["clock"].startswith("cpu")
    assert {row["reference"]["median_ms"] for row in r["sampler"]} == {1000.0}  # read on the cpu clock
    r = bench.run_bench(parts=["sampler"], out=None, threads=1, repeats=2, sampler_shapes=TINY_SHAPES[:1])
    assert all(row["reference"]["median_ms"] < 1000 for row in r["sampler"])  # the wall clock again
    assert not hasattr(bench, "_clock")  # no module-global clock to leave behind
    with pytest.raises(ValueError, match="clock"):
        bench.run_bench(parts=["course"], out=None, clock="sundial")


def test_seeds_part_at_a_tiny_size_writes_a_positive_ratio(tmp_path):
    from stnlib.models import timeseries

    models = {"tiny ST-CNN": {"build": lambda: st_cnn(1, 12, channels=(2, 4), hidden=8, loc_channels=2),
                              "shape": (1, 12, 12), "batch_size": 4, "lr": 1e-3},
              "tiny 1-D ST-CNN": {"build": lambda: timeseries.st_cnn(40, channels=2), "shape": (1, 40),
                                  "batch_size": 4, "lr": 1e-3}}
    out = tmp_path / "results.json"
    result = bench.run_bench(parts=["seeds"], out=out, device="cpu",
                             seeds_kwargs={"models": models, "steps": 2, "repeats": 2})
    s = json.loads(out.read_text())["seeds"]
    assert s == json.loads(json.dumps(result["seeds"]))
    assert s["n_seeds"] == 5 and s["steps"] == 2 and s["threads"] == 2
    assert [r["model"] for r in s["rows"]] == list(models)
    for r in s["rows"]:
        assert r["device"].startswith("cpu") and r["batch_size"] == 4
        assert r["sequential_s"] > 0 and r["vectorized_s"] > 0 and r["ratio"] > 0
        assert r["ratio"] == pytest.approx(r["vectorized_s"] / r["sequential_s"])
        assert _timing_ok(r["sequential"]) and _timing_ok(r["vectorized"]) and r["vectorized"]["n"] == 2
    assert "### 6. Seeds: 5 seeds" in bench.format_table(result)
    assert cli.build_parser().parse_args(["bench", "--part", "seeds"]).part == ["seeds"]
    with pytest.raises(ValueError, match="n_seeds"):
        bench.run_bench(parts=["seeds"], out=None, seeds_kwargs={"models": models, "n_seeds": 0})


def test_time_to_accuracy_ends_a_scheduled_recipe_with_its_epochs():
    x = torch.rand(40, 1, 4, 4)
    zeros = torch.zeros(40, dtype=torch.long)
    one_cycle = {"one-cycle": (_Constant, Recipe(epochs=2, lr=1e-12, batch_size=16))}  # 3 steps an epoch
    t = bench.bench_time_to_accuracy(time_cap_s=60.0, data=(x, zeros, x, 1 - zeros, x, zeros),
                                     recipes=one_cycle, eval_every=2, target=1.5)
    r = t["recipes"]["one-cycle"]
    assert r["seconds_to_target"] is None and r["steps"] == 6  # the schedule ended, far below the cap
    assert [c["step"] for c in r["curve"]] == [2, 4, 6]  # every 2 steps, and the last step
