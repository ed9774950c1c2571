"""stn-course bench on fake clocks and fake work: exact statistics, rows, JSON, tables and messages.

Every clock of stnlib.timing is replaced by a fake one (``wall`` = t, ``cpu`` = 2t, ``process`` = 4t of a
time t that only the fake work moves), so each timing, ratio and throughput below is exact; no real
speed is ever asserted. The expensive work (samplers, training, distortions) is replaced by recorders.
"""

import argparse
import json
import re
import statistics
import sys
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib import timing
from stnlib.course import bench
from stnlib.recipe import Recipe
from stnlib.train import StopTraining


class Time:
    def __init__(self):
        self.t = 0.0

    def advance(self, s):
        self.t += s


@pytest.fixture
def T(monkeypatch):
    t = Time()
    monkeypatch.setitem(timing.CLOCKS, "wall", lambda: t.t)
    monkeypatch.setitem(timing.CLOCKS, "cpu", lambda: 2 * t.t)
    monkeypatch.setitem(timing.CLOCKS, "process", lambda: 4 * t.t)
    return t


@pytest.fixture
def dev_name(monkeypatch):
    monkeypatch.setattr(bench, "device_name", lambda d: f"dev {d.type}")


# --------------------------------------------------------------------------- statistics


def test_summarize_is_milliseconds_with_inclusive_quartiles():
    assert bench.summarize([0.25, 1.0, 0.5, 0.75]) == {
        "median_ms": 625.0, "q1_ms": 437.5, "q3_ms": 812.5, "min_ms": 250.0, "max_ms": 1000.0, "n": 4}
    assert bench.summarize([0.5]) == {"median_ms": 500.0, "q1_ms": 500.0, "q3_ms": 500.0, "min_ms": 500.0,
                                      "max_ms": 500.0, "n": 1}
    assert bench.summarize([0.5, 0.25]) == {"median_ms": 375.0, "q1_ms": 312.5, "q3_ms": 437.5,
                                            "min_ms": 250.0, "max_ms": 500.0, "n": 2}
    assert bench._quartiles([3.0, 1.0, 2.0]) == (1.5, 2.0, 2.5)


def test_ratio_stats():
    r = bench.ratio_stats([1.0, 4.0, 9.0, 2.0], [1.0, 1.0, 3.0, 4.0])  # rounds: 1, 4, 3, 0.5
    assert r == {"ratio": statistics.median([1.0, 4.0, 9.0, 2.0]) / statistics.median([1.0, 1.0, 3.0, 4.0]),
                 "ratio_q1": 0.875, "ratio_q3": 3.25}
    assert r["ratio"] == 3.0 / 2.0
    assert bench.ratio_stats([2.0], [0.5]) == {"ratio": 4.0, "ratio_q1": 4.0, "ratio_q3": 4.0}


def test_check_clock_word_for_word():
    assert bench._check_clock("wall") == "wall" and bench._check_clock("cpu") == "cpu"
    with pytest.raises(ValueError) as err:
        bench._check_clock("process")
    assert str(err.value) == "clock must be one of wall, cpu, got 'process'"


def test_time_pair_alternates_after_a_warm_up(T):
    calls = []

    def fa():
        calls.append("a")
        T.advance(0.25)

    def fb():
        calls.append("b")
        T.advance(0.5)

    ta, tb = bench.time_pair(fa, fb, repeats=3, warmup=2, device=torch.device("cpu"))
    assert calls == ["a", "b"] * 5
    assert (ta, tb) == ([0.25] * 3, [0.5] * 3)
    calls.clear()
    ta, tb = bench.time_pair(fa, fb, repeats=1, warmup=0, device=torch.device("cpu"), clock="cpu")
    assert calls == ["a", "b"] and (ta, tb) == ([0.5], [1.0])  # the cpu clock here runs at 2t
    with pytest.raises(ValueError, match=re.escape("clock must be one of wall, cpu, got 'process'")):
        bench.time_pair(fa, fb, repeats=1, warmup=0, device=torch.device("cpu"), clock="process")


def test_time_pair_on_cuda_reads_the_wall_clock_and_synchronizes(T, monkeypatch):
    syncs = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: syncs.append(device))
    ta, tb = bench.time_pair(lambda: T.advance(0.25), lambda: T.advance(0.75), repeats=2, warmup=1,
                             device=torch.device("cuda:0"), clock="sundial")
    assert (ta, tb) == ([0.25, 0.25], [0.75, 0.75])
    assert syncs == [torch.device("cuda:0")] * 8  # before and after each of the 4 timed calls


# --------------------------------------------------------------------------- devices


def test_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench._devices(None) == [torch.device("cpu")] and bench._devices("all") == [torch.device("cpu")]
    assert bench._devices("cpu") == [torch.device("cpu")]
    with pytest.raises(ValueError) as err:
        bench._devices("cuda")
    assert str(err.value) == "--device cuda asked for, but CUDA is not available"
    with pytest.raises(ValueError) as err:
        bench._devices("meta")
    assert str(err.value) == "--device must be cpu or cuda, got 'meta'"
    with pytest.raises(ValueError) as err:
        bench._devices("tpu")
    assert str(err.value).startswith("unknown device 'tpu': ") and err.value.__cause__ is None
    assert err.value.__suppress_context__ is True
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert bench._devices(None) == [torch.device("cpu"), torch.device("cuda")]
    assert bench._devices("all") == [torch.device("cpu"), torch.device("cuda")]
    assert bench._devices("cuda:1") == [torch.device("cuda:1")]


def test_device_name(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: f"Card {d}")
    assert bench.device_name(torch.device("cuda:1")) == "cuda: Card cuda:1"
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Fake CPU: 9000 \nmodel name\t: second\n")
    real_path = bench.Path
    monkeypatch.setattr(bench, "Path", lambda p: real_path(cpuinfo) if p == "/proc/cpuinfo" else real_path(p))
    monkeypatch.setattr(bench.platform, "processor", lambda: "proc")
    threads = torch.get_num_threads()
    assert bench.device_name(torch.device("cpu")) == f"cpu: Fake CPU: 9000, {threads} thread(s)"
    cpuinfo.write_text("processor\t: 0\n")
    assert bench.device_name(torch.device("cpu")) == f"cpu: proc, {threads} thread(s)"
    cpuinfo.unlink()  # no /proc/cpuinfo: the platform's name
    monkeypatch.setattr(bench.platform, "processor", lambda: "")
    monkeypatch.setattr(bench.platform, "machine", lambda: "arm64")
    assert bench.device_name(torch.device("cpu")) == f"cpu: arm64, {threads} thread(s)"


# --------------------------------------------------------------------------- 1. sampler


def test_bench_sampler_rows_and_what_each_side_computes(T, dev_name, monkeypatch):
    import stnlib.sampler as sampler_lib

    real = F.grid_sample
    seen = {"ref": [], "nat": []}

    def ref(U, grid, *, align_corners, kernel):
        seen["ref"].append((U, grid, align_corners, kernel, torch.is_grad_enabled()))
        T.advance(0.5)
        return real(U, grid, mode=kernel, align_corners=align_corners)

    def nat(U, grid, *, mode, align_corners):
        seen["nat"].append((U, grid, align_corners, mode, torch.is_grad_enabled()))
        T.advance(0.25)
        return real(U, grid, mode=mode, align_corners=align_corners)

    monkeypatch.setattr(sampler_lib, "grid_sample_reference", ref)
    monkeypatch.setattr(torch.nn.functional, "grid_sample", nat)
    shapes = (((2, 1, 6, 6), (5, 5)), ((1, 3, 5, 7), (4, 4)))
    rows = bench.bench_sampler(shapes=shapes, kernels=("nearest", "bicubic"), repeats=3, warmup=1, seed=7)
    assert [(r["shape"], r["kernel"], r["pass"]) for r in rows] == [
        (s, k, p) for s in ("2×1×6×6→5×5", "1×3×5×7→4×4") for k in ("nearest", "bicubic")
        for p in ("forward", "forward+backward")]
    for r in rows:
        assert r == {"device": "dev cpu", "shape": r["shape"], "kernel": r["kernel"], "pass": r["pass"],
                     "reference": bench.summarize([0.5] * 3), "native": bench.summarize([0.25] * 3),
                     "ratio": 2.0, "ratio_q1": 2.0, "ratio_q3": 2.0}
    assert len(seen["ref"]) == len(seen["nat"]) == 8 * (1 + 3)
    # forward without gradients, forward+backward with them; the kernel and align_corners=False passed on
    grads = [g for *_, g in seen["ref"]]
    assert grads == ([False] * 4 + [True] * 4) * 4
    assert [g for *_, g in seen["nat"]] == grads
    assert [k for _, _, _, k, _ in seen["ref"]] == (["nearest"] * 8 + ["bicubic"] * 8) * 2
    assert [k for _, _, _, k, _ in seen["nat"]] == [k for _, _, _, k, _ in seen["ref"]]
    assert {ac for _, _, ac, _, _ in seen["ref"] + seen["nat"]} == {False}
    # the inputs: seeded U and a mildly warped grid, the same for both sides
    g = torch.Generator().manual_seed(7)
    U = torch.rand(2, 1, 6, 6, generator=g)
    theta = torch.eye(2, 3).expand(2, 2, 3) + 0.15 * torch.randn(2, 2, 3, generator=g)
    grid = F.affine_grid(theta, (2, 1, 5, 5), align_corners=False)
    U0, grid0 = seen["ref"][0][:2]
    assert torch.equal(U0, U) and torch.equal(grid0, grid) and U0.requires_grad and grid0.requires_grad
    assert seen["nat"][0][0] is U0 and seen["nat"][0][1] is grid0
    assert U0.grad is not None and grid0.grad is not None  # the backward pass reached both
    U1 = seen["ref"][-1][0]
    assert U1.shape == (1, 3, 5, 7) and seen["ref"][-1][1].shape == (1, 4, 4, 2)


def test_bench_sampler_defaults(T, dev_name, monkeypatch):
    import stnlib.sampler as sampler_lib

    calls = []
    real = F.grid_sample

    def ref(U, grid, *, align_corners, kernel):
        calls.append(kernel)
        T.advance(1.0)
        return real(U, grid, mode=kernel, align_corners=align_corners)

    monkeypatch.setattr(sampler_lib, "grid_sample_reference", ref)
    monkeypatch.setattr(torch.nn.functional, "grid_sample",
                        lambda U, grid, *, mode, align_corners: (T.advance(0.5), real(
                            U, grid, mode=mode, align_corners=align_corners))[1])
    rows = bench.bench_sampler(shapes=(((1, 1, 3, 3), (2, 2)),))
    assert [r["kernel"] for r in rows] == ["nearest", "nearest", "bilinear", "bilinear", "bicubic", "bicubic"]
    assert len(calls) == 6 * (2 + 7) and rows[0]["reference"]["n"] == 7
    assert {r["ratio"] for r in rows} == {2.0}
    assert bench.SAMPLER_SHAPES == (((256, 1, 28, 28), (28, 28)), ((256, 1, 42, 42), (28, 28)),
                                    ((64, 3, 64, 64), (64, 64)), ((16, 64, 128, 128), (128, 128)))


def test_bench_sampler_on_the_wall_clock_by_default_and_the_cpu_clock_when_asked(T, dev_name, monkeypatch):
    import stnlib.sampler as sampler_lib

    real = F.grid_sample
    monkeypatch.setattr(sampler_lib, "grid_sample_reference",
                        lambda U, grid, *, align_corners, kernel: (T.advance(0.5), real(U, grid, align_corners=False))[1])
    monkeypatch.setattr(torch.nn.functional, "grid_sample",
                        lambda U, grid, *, mode, align_corners: (T.advance(0.25), real(U, grid, align_corners=False))[1])
    row = bench.bench_sampler(shapes=(((1, 1, 3, 3), (2, 2)),), kernels=("bilinear",), repeats=1,
                              warmup=0, clock="cpu")[0]
    assert row["reference"]["median_ms"] == 1000.0 and row["native"]["median_ms"] == 500.0


# --------------------------------------------------------------------------- 2. overhead


class Net(nn.Module):
    def __init__(self, T, cost, in_size, seen):
        super().__init__()
        self.lin = nn.Linear(in_size * in_size, 10)
        self.T, self.cost, self.seen = T, cost, seen

    def forward(self, x):
        self.seen.append(x)
        self.T.advance(self.cost(self))
        return self.lin(x.flatten(1))


def test_bench_overhead_rows_with_fake_models(T, dev_name, monkeypatch):
    seen, targets = [], []
    real_ce = F.cross_entropy
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", lambda out, y: targets.append(y) or real_ce(out, y))

    def make_st():
        m = Net(T, lambda self: 1.0 if self.transformer.sampler == "reference" else 0.5, 3, seen)
        m.transformer = SimpleNamespace(sampler="native")
        return m

    built = []
    models = {"CNN": lambda: built.append(Net(T, lambda self: 0.25, 3, seen)) or built[-1],
              "ST-CNN": lambda: built.append(make_st()) or built[-1]}
    rows = bench.bench_overhead(batch_size=4, in_size=3, repeats=3, warmup=1, seed=5, models=models)
    assert rows == [
        {"device": "dev cpu", "model": "ST-CNN (native sampler)", "batch": "4×1×3×3",
         "cnn": bench.summarize([0.25] * 3), "st_cnn": bench.summarize([0.5] * 3), "ratio": 2.0,
         "ratio_q1": 2.0, "ratio_q3": 2.0, "target": 1.25},
        {"device": "dev cpu", "model": "ST-CNN (reference sampler)", "batch": "4×1×3×3",
         "cnn": bench.summarize([0.25] * 3), "st_cnn": bench.summarize([1.0] * 3), "ratio": 4.0,
         "ratio_q1": 4.0, "ratio_q3": 4.0, "target": None}]
    assert built[1].transformer.sampler == "native"  # put back
    g = torch.Generator().manual_seed(5)
    x = torch.rand(4, 1, 3, 3, generator=g)
    y = torch.randint(0, 10, (4,), generator=g)
    assert all(torch.equal(s, x) for s in seen) and len(seen) == 2 * (1 + 3) * 2
    assert all(torch.equal(t, y) for t in targets)
    assert built[0].training and built[1].training  # trained in train mode


def test_bench_overhead_seeds_the_models_and_skips_the_reference_row_without_a_sampler(T, dev_name):
    weights = []

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 10)
            weights.append(self.lin.weight.detach().clone())
            self.transformer = SimpleNamespace()  # no sampler to switch

        def forward(self, x):
            T.advance(0.5)
            return self.lin(x.flatten(1))

    rows = bench.bench_overhead(batch_size=2, in_size=2, repeats=1, warmup=0, seed=3,
                                models={"CNN": Plain, "ST-CNN": Plain})
    assert [r["model"] for r in rows] == ["ST-CNN (native sampler)"] and rows[0]["ratio"] == 1.0
    torch.manual_seed(3)
    assert torch.equal(weights[0], nn.Linear(4, 10).weight)
    assert rows[0]["cnn"]["n"] == 1


def test_bench_overhead_default_models_and_sizes(T, dev_name, monkeypatch):
    import stnlib.models as models_lib

    made = []

    def fake(kind):
        def build(c, size):
            made.append((kind, c, size))
            return Net(T, lambda self: 0.5, size, [])
        return build

    monkeypatch.setattr(models_lib, "cnn", fake("cnn"))
    monkeypatch.setattr(models_lib, "st_cnn", fake("st_cnn"))
    rows = bench.bench_overhead(in_size=2, batch_size=3, repeats=2, warmup=0)
    assert made == [("cnn", 1, 2), ("st_cnn", 1, 2)] and rows[0]["batch"] == "3×1×2×2"
    made.clear()
    rows = bench.bench_overhead(batch_size=1, repeats=1, warmup=0)
    assert made == [("cnn", 1, 42), ("st_cnn", 1, 42)] and rows[0]["batch"] == "1×1×42×42"


def test_train_step_is_one_adam_step_at_1e_4():
    torch.manual_seed(0)
    model = nn.Linear(3, 10)
    twin = nn.Linear(3, 10)
    twin.load_state_dict(model.state_dict())
    model.eval()
    x, y = torch.rand(5, 3), torch.randint(0, 10, (5,))
    step = bench._train_step(model, x, y)
    assert model.training
    step()
    step()
    opt = torch.optim.Adam(twin.parameters(), lr=1e-4)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(twin(x), y).backward()
        opt.step()
    assert torch.allclose(model.weight, twin.weight, atol=1e-7, rtol=0)
    assert torch.allclose(model.bias, twin.bias, atol=1e-7, rtol=0)
    assert not torch.allclose(model.weight, nn.Linear(3, 10).weight)


# --------------------------------------------------------------------------- 3. data


def test_source_digits_from_mnist(monkeypatch):
    from stnlib.data import datasets

    images = torch.arange(10 * 28 * 28, dtype=torch.float32).view(10, 28, 28).remainder(256).to(torch.uint8)
    monkeypatch.setattr(datasets, "raw_digits", lambda split: (images, None) if split == "train" else None)
    x, source = bench._source_digits(4, seed=3)
    index = torch.randperm(10, generator=torch.Generator().manual_seed(3))[:4]
    assert source == "MNIST train" and torch.equal(x, datasets.as_float(images[index]))


def test_source_digits_fall_back_to_blobs(monkeypatch):
    from stnlib.data import datasets

    def missing(split):
        raise FileNotFoundError("no MNIST here")

    monkeypatch.setattr(datasets, "raw_digits", missing)
    x, source = bench._source_digits(3, seed=4)
    assert source == "synthetic blobs (MNIST unavailable: FileNotFoundError)"
    rows = torch.randint(8, 20, (3,), generator=torch.Generator().manual_seed(4)).tolist()
    want = torch.zeros(3, 1, 28, 28)
    for i, r in enumerate(rows):
        want[i, 0, r - 4:r + 4, 10:18] = 1.0
    assert torch.equal(x, want) and x.sum() == 3 * 64


def test_bench_data_throughput_rows(T, dev_name, monkeypatch):
    from stnlib.data import catalog
    from stnlib.data import distortions as D

    x = torch.rand(8, 1, 28, 28)
    monkeypatch.setattr(bench, "_source_digits", lambda n, seed: (x[:n], f"src {n} {seed}"))
    costs = iter([9.0, 0.5, 0.25, 1.0, 9.0, 1.0, 2.0, 0.5])
    seeds = []

    def distort(inp, spec, g):
        seeds.append(("distort", spec, g.initial_seed()))
        assert inp is not None and torch.equal(inp, x)
        T.advance(next(costs))
        return torch.zeros(len(inp), 1, 5, 6), None

    def clutter(inp, spec, g):
        seeds.append(("clutter", spec, g.initial_seed()))
        T.advance(next(costs))
        return torch.zeros(len(inp), 1, 7, 7), None

    monkeypatch.setattr(D, "distort", distort)
    monkeypatch.setattr(D, "clutter", clutter)
    d = bench.bench_data(n=8, distortions=("RTS", "TC"), repeats=3, seed=2)
    assert d == {"device": "dev cpu", "source": "src 8 2", "rows": [
        {"distortion": "RTS", "output": "1×5×6", "images_per_s": 16.0, "min_images_per_s": 8.0,
         "max_images_per_s": 32.0, "n": 8, "repeats": 3},
        {"distortion": "TC", "output": "1×7×7", "images_per_s": 8.0, "min_images_per_s": 4.0,
         "max_images_per_s": 16.0, "n": 8, "repeats": 3}]}
    assert [s[0] for s in seeds] == ["distort"] * 4 + ["clutter"] * 4
    assert [s[2] for s in seeds] == [2, 3, 4, 5, 2, 3, 4, 5]
    assert seeds[0][1] == catalog.spec_of("mnist-rts") and seeds[4][1] == catalog.spec_of("mnist-tc")


def test_bench_data_defaults(T, dev_name, monkeypatch):
    from stnlib.data import distortions as D

    monkeypatch.setattr(bench, "_source_digits", lambda n, seed: (torch.zeros(2, 1, 28, 28), f"{n} {seed}"))
    monkeypatch.setattr(D, "distort", lambda inp, spec, g: (T.advance(0.5), (torch.zeros(2, 1, 3, 3), 0))[1])
    monkeypatch.setattr(D, "clutter", lambda inp, spec, g: (T.advance(0.25), (torch.zeros(2, 1, 4, 4), 0))[1])
    d = bench.bench_data()
    assert d["source"] == "2000 0"
    assert [(r["distortion"], r["output"], r["repeats"], r["images_per_s"]) for r in d["rows"]] == [
        ("R", "1×3×3", 3, 4000.0), ("RTS", "1×3×3", 3, 4000.0), ("P", "1×3×3", 3, 4000.0),
        ("E", "1×3×3", 3, 4000.0), ("TC", "1×4×4", 3, 8000.0)]


# --------------------------------------------------------------------------- 4. time to accuracy


class Counter(nn.Module):
    """Predicts class 0 for its first ``k`` inputs and class 1 for the rest; each call costs time."""

    def __init__(self, T):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.k, self.T, self.modes = 0, T, []

    def forward(self, x):
        self.modes.append(self.training)
        self.T.advance(100.0)  # evaluation time: never on the training clocks
        out = torch.zeros(len(x), 10)
        out[: self.k, 0] = 1.0
        out[self.k:, 1] = 1.0
        return out


class FakeRecipe:
    """Recipe.fit's contract: one on_step call per step; StopTraining from the hook ends it."""

    def __init__(self, T, steps, cost=0.25):
        self.T, self.steps, self.cost, self.calls = T, steps, cost, []

    def fit(self, model, train_data, *, seed, on_step, progress, desc):
        self.calls.append({"train": train_data, "seed": seed, "progress": progress, "desc": desc})
        for i in range(self.steps):
            self.T.advance(self.cost)
            model.k += 1
            try:
                on_step(SimpleNamespace(step=i, model=model))
            except StopTraining:
                return


def _data():
    x = torch.zeros(4, 1, 2, 2)
    zeros = torch.zeros(4, dtype=torch.long)
    return x, zeros, torch.tensor([0, 0, 1, 1])


def test_train_to_target_stops_at_the_target_on_the_training_clocks(T, monkeypatch):
    import stnlib.train as train_lib

    events = []
    monkeypatch.setattr(train_lib, "seed_everything", lambda s: events.append(("seed", s)))
    x, zeros, mixed = _data()
    recipe, lines = FakeRecipe(T, steps=10), []

    def make():
        events.append(("build",))
        return Counter(T)

    r = bench._train_to_target("r", make, recipe, (x, zeros), (x, zeros), (x, mixed), cap=100.0, target=25.0,
                               eval_every=2, seed=9, clock="cpu", log=lines.append)
    # training 0.25 s a step on the wall clock: cpu (the bench's clock here) 0.5, process 1.0
    assert r == {"seconds_to_target": 2.0, "steps": 4, "time_cap_s": 100.0, "curve": [
        {"step": 2, "seconds": 1.0, "wall_s": 0.5, "cpu_s": 2.0, "val_error": 50.0},
        {"step": 4, "seconds": 2.0, "wall_s": 1.0, "cpu_s": 4.0, "val_error": 0.0}],
        "val_error_at_stop": 0.0, "test_error_at_stop": 50.0}
    assert lines == ["r: step 2, 1 s, validation error 50.00%", "r: step 4, 2 s, validation error 0.00%",
                     "r: stopped at step 4, 2 s; test error 50.00%"]
    assert events == [("seed", 9), ("build",)]
    (call,) = recipe.calls
    assert call["seed"] == 9 and call["progress"] is False and call["desc"] == "r"
    assert call["train"][0] is x and call["train"][1] is zeros


def test_train_to_target_evaluates_at_its_cap_and_stops(T):
    x, zeros, mixed = _data()
    r = bench._train_to_target("c", lambda: Counter(T), FakeRecipe(T, steps=10), (x, zeros), (x, mixed),
                               (x, zeros), cap=1.5, target=-1.0, eval_every=2, seed=0, clock="cpu",
                               log=None)
    assert r["seconds_to_target"] is None and r["steps"] == 3
    assert [(c["step"], c["seconds"], c["val_error"]) for c in r["curve"]] == [(2, 1.0, 0.0), (3, 1.5, 25.0)]
    assert r["val_error_at_stop"] == 25.0 and r["test_error_at_stop"] == 25.0


def test_train_to_target_reached_exactly_at_the_target(T):
    x, zeros, mixed = _data()
    r = bench._train_to_target("e", lambda: Counter(T), FakeRecipe(T, steps=10), (x, zeros), (x, zeros),
                               (x, zeros), cap=100.0, target=50.0, eval_every=2, seed=0, clock="wall",
                               log=None)
    assert r["seconds_to_target"] == 0.5 and r["steps"] == 2  # 50 % ≤ 50 %: reached


def test_train_to_target_ends_with_the_recipes_epochs(T):
    x, zeros, mixed = _data()
    model = Counter(T)
    r = bench._train_to_target("s", lambda: model, FakeRecipe(T, steps=3), (x, zeros), (x, zeros),
                               (x, zeros), cap=100.0, target=-1.0, eval_every=2, seed=0, clock="wall",
                               log=None)
    assert r["steps"] == 3 and [c["step"] for c in r["curve"]] == [2, 3]
    assert r["curve"][-1] == {"step": 3, "seconds": 0.75, "wall_s": 0.75, "cpu_s": 3.0, "val_error": 25.0}
    assert model.training and model.modes and not any(model.modes)  # evaluated in eval mode
    r = bench._train_to_target("t", lambda: Counter(T), FakeRecipe(T, steps=4), (x, zeros), (x, zeros),
                               (x, zeros), cap=100.0, target=-1.0, eval_every=2, seed=0, clock="wall",
                               log=None)
    assert [c["step"] for c in r["curve"]] == [2, 4]  # the last step was evaluated: not twice


def test_error_is_the_percentage_misclassified_in_batches():
    T = Time()
    m = Counter(T)
    m.k = 3
    m.train()
    x, y = torch.zeros(8, 1), torch.zeros(8, dtype=torch.long)
    assert bench._error(m, x, y) == 62.5 and m.training
    m.k = 1
    assert bench._error(m, x, y, batch=3) == 100.0 * 5 / 8  # each batch of 3 has its first one right
    assert len(m.modes) == 1 + 3


def test_split_data_word_for_word():
    six = tuple(range(6))
    assert bench._split_data(six) is six
    for bad, text in [((1, 2, 3, 4), "tuple of length 4"), (list(range(6)), "list of length 6"),
                      (5, "int of length ?")]:
        with pytest.raises(ValueError) as err:
            bench._split_data(bad)
        assert str(err.value) == "data must be (x_train, y_train, x_val, y_val, x_test, y_test), got " + text


def _fake_recipes(T, steps=(10, 10)):
    return {"first": (lambda: Counter(T), FakeRecipe(T, steps[0])),
            "second": (lambda: Counter(T), FakeRecipe(T, steps[1], cost=0.5))}


def test_time_to_accuracy_with_given_data(T, dev_name):
    x, zeros, mixed = _data()
    t = bench.bench_time_to_accuracy(time_cap_s=10.0, target=0.0, eval_every=1, data=(x, zeros, x, zeros,
                                                                                       x, mixed),
                                     recipes=_fake_recipes(T), time_caps={"second": 20})
    first, second = t["recipes"]["first"], t["recipes"]["second"]
    assert first["seconds_to_target"] == 1.0 and second["seconds_to_target"] == 2.0
    assert first["time_cap_s"] == 10.0 and second["time_cap_s"] == 20.0
    assert t["budget_s"] == 1.0
    assert first["val_error_at_budget"] == 0.0 and second["val_error_at_budget"] == 50.0
    assert t["ratios"] == {"second": {"ratio": 2.0, "bound": False}}
    assert {k: v for k, v in t.items() if k != "recipes"} == {
        "device": "dev cpu", "data": "given: 4 train, 4 validation, 4 test images", "target_error": 0.0,
        "stopped_on": "validation", "time_cap_s": 10.0, "budget_s": 1.0,
        "ratios": {"second": {"ratio": 2.0, "bound": False}},
        "note": "each recipe stops at its first validation error <= 0.0% (or its cap); test_error_at_stop is "
                "the test error at that moment. ratios: each recipe's time to the target / that of 'first'; "
                "bound: true where the recipe did not reach it within its cap (the ratio is then a lower "
                "bound)"}


def test_time_to_accuracy_bounds_and_budgets(T, dev_name):
    x, zeros, mixed = _data()
    recipes = {"first": (lambda: Counter(T), FakeRecipe(T, 10)),
               "never": (lambda: Counter(T), FakeRecipe(T, 1)),   # stops after one step at 75 %
               "none": (lambda: Counter(T), FakeRecipe(T, 2))}
    t = bench.bench_time_to_accuracy(time_cap_s=3.0, target=0.0, eval_every=1,
                                     data=(x, zeros, x, zeros, x, zeros), recipes=recipes)
    assert t["ratios"] == {"never": {"ratio": 3.0, "bound": True}, "none": {"ratio": 3.0, "bound": True}}
    # the budget is the first recipe's time (1 s): the others' last validation error by then
    assert [r["val_error_at_budget"] for r in t["recipes"].values()] == [0.0, 75.0, 50.0]
    recipes = {"miss": (lambda: Counter(T), FakeRecipe(T, 1)), "hit": (lambda: Counter(T), FakeRecipe(T, 10))}
    t = bench.bench_time_to_accuracy(time_cap_s=2.0, target=0.0, eval_every=1,
                                     data=(x, zeros, x, zeros, x, zeros), recipes=recipes,
                                     time_caps={"miss": 0.1})
    assert t["budget_s"] == 0.1 and t["ratios"] == {"hit": {"ratio": None, "bound": False}}
    # nothing is seen within 0.1 s: every first evaluation is at 0.25 s
    assert [r["val_error_at_budget"] for r in t["recipes"].values()] == [None, None]
    with pytest.raises(ValueError, match=re.escape("clock must be one of wall, cpu, got 'process'")):
        bench.bench_time_to_accuracy(data=(x, zeros, x, zeros, x, zeros), recipes=recipes, clock="process")


def test_time_to_accuracy_budget_tolerance(T, dev_name):
    x, zeros, mixed = _data()
    recipes = {"a": (lambda: Counter(T), FakeRecipe(T, 10)), "b": (lambda: Counter(T), FakeRecipe(T, 10))}
    t = bench.bench_time_to_accuracy(time_cap_s=9.0, target=0.0, eval_every=1,
                                     data=(x, zeros, x, zeros, x, zeros), recipes=recipes)
    # b's evaluation at exactly the budget (1 s, 0 % error) counts
    assert t["budget_s"] == 1.0 and t["recipes"]["b"]["val_error_at_budget"] == 0.0


def test_time_to_accuracy_loads_rts_mnist_and_holds_out_the_validation_digits(T, dev_name, monkeypatch):
    import stnlib.data as data_lib

    loads = []

    def load(name, split, *, n, seed):
        loads.append((name, split, n, seed))
        size = 10 if split == "train" else 5
        return SimpleNamespace(images=torch.arange(size).view(size, 1, 1, 1).float(),
                               labels=torch.zeros(size, dtype=torch.long))

    monkeypatch.setattr(data_lib, "load", load)
    got = []
    monkeypatch.setattr(bench, "_recipes", lambda size, epochs: got.append((size, epochs)) or {
        "only": (lambda: Counter(T), FakeRecipe(T, 1))})
    t = bench.bench_time_to_accuracy(n_train=10, n_val=3, n_test=5, seed=4, epochs_planned=7, eval_every=1)
    assert loads == [("mnist-rts", "train", 10, 4), ("mnist-rts", "test", 5, 4)] and got == [(1, 7)]
    assert t["data"] == ("mnist-rts: 7 train, 3 validation (the last training digits, held out), "
                         "5 test images")
    for bad in (0, 10):
        with pytest.raises(ValueError) as err:
            bench.bench_time_to_accuracy(n_train=10, n_val=bad)
        assert str(err.value) == f"n_val must be in 1..9, got {bad}"
    bench.bench_time_to_accuracy(n_val=9)  # the edge: one training digit left
    assert loads[-2] == ("mnist-rts", "train", None, 0) and loads[-1] == ("mnist-rts", "test", 2000, 0)
    assert got[-1] == (1, 4)


def test_time_to_accuracy_splits_the_loaded_digits(T, dev_name, monkeypatch):
    import stnlib.data as data_lib

    monkeypatch.setattr(data_lib, "load", lambda name, split, *, n, seed: SimpleNamespace(
        images=torch.arange(6.0).view(6, 1, 1, 1), labels=torch.arange(6)))
    seen = {}

    def fake_train(name, make, recipe, train, val, test, **kw):
        seen.update(train=train, val=val, test=test, kw=kw)
        return {"seconds_to_target": None, "curve": [], "time_cap_s": kw["cap"]}

    monkeypatch.setattr(bench, "_train_to_target", fake_train)
    bench.bench_time_to_accuracy(n_val=2, recipes={"r": (None, None)}, eval_every=3, seed=1, target=2.5,
                                 time_cap_s=7.0, log=print, clock="cpu")
    assert seen["train"][1].tolist() == [0, 1, 2, 3] and seen["val"][1].tolist() == [4, 5]
    assert seen["test"][1].tolist() == list(range(6))
    assert seen["kw"] == {"cap": 7.0, "target": 2.5, "eval_every": 3, "seed": 1, "clock": "cpu", "log": print}


def test_recipes_of_the_time_to_accuracy_part(monkeypatch):
    import stnlib.models as models_lib

    made = []
    monkeypatch.setattr(models_lib, "st_cnn", lambda *a, **kw: made.append(("st_cnn", a, kw)))
    monkeypatch.setattr(models_lib, "tutorial_net", lambda *a, **kw: made.append(("tutorial", a, kw)))
    r = bench._recipes(36, 5)
    text = "Adam 3e-3, one-cycle over 5 epochs, batch 64"
    assert list(r) == [f"course ST-CNN, loc net pools 2 first (default; {text})",
                       f"course ST-CNN, full-resolution loc net ({text})",
                       "PyTorch tutorial STN (SGD 0.01, batch 64)"]
    course = Recipe(epochs=5, lr=3e-3, batch_size=64)
    tutorial = Recipe(epochs=10 ** 6, lr=0.01, batch_size=64, optimizer="sgd", schedule="constant")
    assert [v[1] for v in r.values()] == [course, course, tutorial]
    for make, _ in r.values():
        make()
    assert made == [("st_cnn", (1, 36), {}), ("st_cnn", (1, 36), {"loc_downsample": 1, "loc_channels": 16}),
                    ("tutorial", (36,), {})]


# --------------------------------------------------------------------------- 5. course


def _run_json(folder, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps(data) if not isinstance(data, str) else data)


def test_read_run(tmp_path):
    assert bench.read_run(tmp_path) is None
    _run_json(tmp_path, {"device": "cuda", "notebooks": [{"name": "a", "seconds": "1.5", "ok": 1},
                                                         {"name": "b", "seconds": 2, "ok": 0, "x": 1}]})
    assert bench.read_run(tmp_path) == {
        "folder": str(tmp_path), "device": "cuda", "total_s": 3.5, "all_ok": False,
        "notebooks": [{"name": "a", "seconds": 1.5, "ok": True}, {"name": "b", "seconds": 2.0, "ok": False}]}
    _run_json(tmp_path, {})
    assert bench.read_run(str(tmp_path)) == {"folder": str(tmp_path), "device": None, "notebooks": [],
                                             "total_s": 0, "all_ok": True}
    for bad in ("{nope", [1], {"notebooks": [{"name": "a"}]}, {"notebooks": [{"name": "a", "seconds": None,
                                                                               "ok": 1}]},
                {"notebooks": [{"name": "a", "seconds": "x", "ok": 1}]}, {"notebooks": [3]}):
        _run_json(tmp_path, bad if isinstance(bad, str) else bad)
        assert bench.read_run(tmp_path) is None, bad
    (tmp_path / "run.json").write_bytes('{"notebooks": [], "device": "é"}'.encode())
    assert bench.read_run(tmp_path)["device"] == "é"


def test_bench_course(tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    _run_json(one / "smoke", {"device": None, "notebooks": [{"name": "b", "seconds": 2, "ok": True}]})
    _run_json(two / "smoke", {"device": "cuda", "notebooks": [{"name": "b", "seconds": 9, "ok": False},
                                                              {"name": "a", "seconds": 1, "ok": True}]})
    c = bench.bench_course([one, str(two)], budgets=("smoke", "standard"))
    assert c == {
        "runs_dir": f"{one}, {two}",
        "smoke": {"folder": f"{one / 'smoke'}, {two / 'smoke'}", "device": "cuda, default",
                  "notebooks": [{"name": "a", "seconds": 1.0, "ok": True, "folder": str(two / "smoke")},
                                {"name": "b", "seconds": 2.0, "ok": True, "folder": str(one / "smoke")}],
                  "total_s": 3.0, "all_ok": True},
        "standard": {"missing": f"no run.json in {one / 'standard'} or {two / 'standard'}: "
                                "run `stn-course run --budget standard` first"}}
    monkeypatch.setattr(bench, "course_root", lambda: tmp_path / "root")
    c = bench.bench_course()
    assert c["runs_dir"] == str(tmp_path / "root" / "runs") and set(c) == {"runs_dir", "smoke", "standard"}
    _run_json(tmp_path / "root" / "runs" / "standard", {"notebooks": [{"name": "x", "seconds": 1, "ok": 0}]})
    c = bench.bench_course(str(tmp_path / "root" / "runs"))
    assert c["standard"]["all_ok"] is False and c["standard"]["device"] == "default"


# --------------------------------------------------------------------------- 6. seeds


def test_seeds_models():
    m = bench.seeds_models()
    assert list(m) == ["lesson 03 ST-CNN Aff, 1×28×28, batch 64",
                       "lesson 06 1-D ST-CNN (time warp + amplitude), 1×40, batch 100"]
    a, b = m.values()
    assert (a["shape"], a["batch_size"], a["lr"]) == ((1, 28, 28), 64, 3e-3)
    assert (b["shape"], b["batch_size"], b["lr"]) == ((1, 40), 100, 1e-2)
    assert a["build"]()(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert b["build"]()(torch.rand(2, 1, 40)).shape[0] == 2


def test_seed_sides_train_sequentially_and_vectorized(monkeypatch):
    import stnlib.seeds as seeds_lib
    import stnlib.train as train_lib

    calls = []
    monkeypatch.setattr(train_lib, "seed_everything", lambda s: calls.append(("seed", s)))
    monkeypatch.setattr(train_lib, "train", lambda model, data, **kw: calls.append(("train", model, data, kw)))
    monkeypatch.setattr(seeds_lib, "train_seeds", lambda build, data, **kw: calls.append(
        ("train_seeds", build, data, kw)))
    build = iter(range(100)).__next__
    dev = torch.device("cpu")
    sequential, vectorized = bench._seed_sides(build, "data", [3, 4], batch_size=8, lr=0.5, device=dev)
    assert calls == []
    sequential()
    kw = {"epochs": 1, "lr": 0.5, "batch_size": 8, "device": dev, "progress": False}
    assert calls == [("seed", 3), ("train", 0, "data", {**kw, "seed": 3}),
                     ("seed", 4), ("train", 1, "data", {**kw, "seed": 4})]
    calls.clear()
    vectorized()
    assert calls == [("train_seeds", build, "data", {**kw, "seeds": [3, 4]})]


def _recording_sides(monkeypatch, T, sequential_s, vectorized_s):
    """Replace bench._seed_sides: each side advances the fake clock; returns the list of calls made."""
    made = []

    def sides(build, data, seeds, *, batch_size, lr, device):
        made.append((build, data, seeds, batch_size, lr, device))
        return (lambda: T.advance(sequential_s)), (lambda: T.advance(vectorized_s))

    monkeypatch.setattr(bench, "_seed_sides", sides)
    return made


def test_bench_seeds_rows_on_a_fake_clock(T, dev_name, monkeypatch):
    made = _recording_sides(monkeypatch, T, 1.0, 0.25)
    models = {"m": {"build": "B", "shape": (1, 3), "batch_size": 2, "lr": 0.1}}
    s = bench.bench_seeds(models=models, n_seeds=3, steps=4, repeats=2, seed=6)
    assert s == {"n_seeds": 3, "steps": 4, "threads": torch.get_num_threads(), "rows": [
        {"device": "dev cpu", "model": "m", "batch_size": 2, "sequential_s": 1.0, "vectorized_s": 0.25,
         "sequential": bench.summarize([1.0, 1.0]), "vectorized": bench.summarize([0.25, 0.25]),
         "ratio": 0.25, "ratio_q1": 0.25, "ratio_q3": 0.25}],
        "note": "ratio = vectorized / sequential training time of all seeds (below 1: vectorized wins); "
                "both sides build the models and their batches"}
    (wb, warm, seeds, bs, lr, dev), (b, data, *_) = made
    assert (wb, b, seeds, bs, lr, dev) == ("B", "B", [0, 1, 2], 2, 0.1, torch.device("cpu"))
    g = torch.Generator().manual_seed(6)
    x, y = torch.rand(8, 1, 3, generator=g), torch.randint(0, 10, (8,), generator=g)
    assert torch.equal(data[0], x) and torch.equal(data[1], y)
    assert torch.equal(warm[0], x[:4]) and torch.equal(warm[1], y[:4])


def test_bench_seeds_defaults_and_argument_errors(T, dev_name, monkeypatch):
    made = []
    monkeypatch.setattr(bench, "_seed_sides", lambda build, data, seeds, **kw: made.append(
        (len(data[0]), seeds)) or ((lambda: T.advance(0.5)), (lambda: T.advance(0.5))))
    monkeypatch.setattr(bench, "seeds_models", lambda: {"d": {"build": 0, "shape": (1,), "batch_size": 3,
                                                              "lr": 1.0}})
    s = bench.bench_seeds()
    assert made == [(6, [0, 1, 2, 3, 4]), (150, [0, 1, 2, 3, 4])] and s["steps"] == 50 and s["n_seeds"] == 5
    assert s["rows"][0]["sequential"]["n"] == 3
    for kw, text in [({"n_seeds": 0}, "n_seeds must be a positive int, got 0"),
                     ({"n_seeds": 2.0}, "n_seeds must be a positive int, got 2.0"),
                     ({"steps": 0}, "steps must be a positive int, got 0"),
                     ({"steps": "3"}, "steps must be a positive int, got '3'"),
                     ({"repeats": 0}, "repeats must be a positive int, got 0"),
                     ({"repeats": 1.5}, "repeats must be a positive int, got 1.5")]:
        with pytest.raises(ValueError) as err:
            bench.bench_seeds(**kw)
        assert str(err.value) == text
    made.clear()
    s = bench.bench_seeds(n_seeds=1, steps=1, repeats=1)
    assert made == [(3, [0]), (3, [0])] and s["rows"][0]["sequential"]["n"] == 1  # 2 batches, cut at 1


def test_format_seeds():
    s = {"n_seeds": 3, "steps": 7, "threads": 2, "rows": [
        {"device": "cpu: X, 2 thread(s)", "model": "m", "sequential_s": 1.234, "vectorized_s": 0.5,
         "ratio": 0.405, "ratio_q1": 0.4, "ratio_q3": 0.419}]}
    assert bench.format_seeds(s) == [
        "", "### 6. Seeds: 3 seeds × 7 steps, trained vectorized (stnlib.seeds) vs one after another, s "
            "(2 thread(s))", "",
        "| device | model | sequential s | vectorized s | vectorized / sequential [IQR] |",
        "|---|---|---|---|---|",
        "| cpu: X | m | 1.23 | 0.50 | 0.41× [0.40–0.42] |"]


# --------------------------------------------------------------------------- driver


@pytest.fixture
def parts(monkeypatch, T):
    """Every part replaced by a recorder of its arguments."""
    calls = {}

    def fake(name, value):
        def f(*args, **kw):
            calls[name] = (args, kw)
            T.advance(0.5)
            return value
        return f

    monkeypatch.setattr(bench, "bench_sampler", fake("sampler", [{"s": 1}]))
    monkeypatch.setattr(bench, "bench_overhead", fake("overhead", [{"o": 1}]))
    monkeypatch.setattr(bench, "bench_data", fake("data", {"d": 1}))
    monkeypatch.setattr(bench, "bench_time_to_accuracy", fake("tta", {"t": 1}))
    monkeypatch.setattr(bench, "bench_course", fake("course", {"c": "é"}))
    monkeypatch.setattr(bench, "bench_seeds", fake("seeds", {"z": 1}))
    monkeypatch.setattr(bench, "_loadavg", iter([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] * 10).__next__)
    monkeypatch.setattr(bench, "device_name", lambda d: f"dev {d.type}")
    monkeypatch.setattr(sys, "argv", ["stn-course", "bench", "--quick", "--part", "data"])
    return calls


def test_run_bench_full_and_quick_arguments(parts, tmp_path, monkeypatch):
    threads = torch.get_num_threads()
    seen_threads = []
    monkeypatch.setattr(bench, "bench_course", lambda runs: seen_threads.append(torch.get_num_threads())
                        or {"c": str(runs) + "é"})
    out = tmp_path / "deep" / "r.json"
    r = bench.run_bench(parts=bench.PARTS, device="cpu", threads=1, out=out, runs_dir="RUNS", time_cap_s=60.0,
                        sampler_shapes="SHAPES", overhead_models="MODELS", data_n=11,
                        tta_kwargs={"n_val": 3}, tutorial_cap_s=5.0)
    cpu = [torch.device("cpu")]
    assert parts["sampler"] == ((), {"shapes": "SHAPES", "devices": cpu, "repeats": 9, "warmup": 2,
                                     "clock": "wall"})
    assert parts["overhead"] == ((), {"devices": cpu, "repeats": 41, "warmup": 3, "models": "MODELS",
                                      "clock": "wall"})
    assert parts["data"] == ((), {"n": 11, "repeats": 5})
    args, kw = parts["tta"]
    assert args == () and kw.pop("log").__name__ == "<lambda>"
    assert kw == {"time_cap_s": 60.0, "clock": "wall", "time_caps": {bench.TUTORIAL_RECIPE: 5.0}, "n_val": 3}
    assert parts["seeds"] == ((), {"devices": cpu})
    assert seen_threads == [1] and torch.get_num_threads() == threads
    assert out.read_text(encoding="utf-8") == json.dumps(r, indent=1, ensure_ascii=False) + "\n"
    assert '"c": "RUNSé"' in out.read_text(encoding="utf-8")
    meta = r.pop("meta")
    assert r == {"schema": 1, "sampler": [{"s": 1}], "overhead": [{"o": 1}], "data": {"d": 1},
                 "time_to_accuracy": {"t": 1}, "course": {"c": "RUNSé"}, "seeds": {"z": 1}}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", meta.pop("date"))
    assert meta == {"command": "stn-course bench --quick --part data", "quick": False, "parts": list(bench.PARTS),
                    "threads": 1, "clock": "wall", "devices": ["dev cpu"], "torch": torch.__version__,
                    "python": bench.platform.python_version(), "platform": bench.platform.platform(),
                    "loadavg_start": [1.0, 2.0, 3.0], "loadavg_end": [4.0, 5.0, 6.0], "seconds": 2.5}
    parts.clear()
    bench.run_bench(parts=["sampler", "overhead", "data", "seeds"], quick=True, out=None, clock="cpu")
    assert parts["sampler"][1]["repeats"] == 3 and parts["sampler"][1]["warmup"] == 1
    assert parts["sampler"][1]["clock"] == "cpu" and parts["sampler"][1]["shapes"] == bench.SAMPLER_SHAPES
    assert parts["overhead"][1] == {"devices": parts["overhead"][1]["devices"], "repeats": 5, "warmup": 1,
                                    "models": None, "clock": "cpu"}
    assert parts["data"][1] == {"n": 500, "repeats": 2}
    assert parts["seeds"][1] == {"devices": parts["seeds"][1]["devices"], "steps": 10, "repeats": 1}
    parts.clear()
    r = bench.run_bench(parts=["sampler", "overhead", "data", "seeds", "time-to-accuracy"], repeats=4,
                        out=None, seeds_kwargs={"steps": 3, "devices": "D"}, clock="cpu")
    assert parts["sampler"][1]["repeats"] == 4 and parts["overhead"][1]["repeats"] == 4
    assert parts["data"][1] == {"n": 2000, "repeats": 4}
    assert parts["seeds"][1] == {"devices": "D", "steps": 3}
    assert set(parts["tta"][1]) == {"time_cap_s", "clock", "log"} and parts["tta"][1]["time_cap_s"] == 900.0
    assert parts["tta"][1]["clock"] == "cpu"
    assert r["meta"]["clock"] == "cpu (CPU figures; CUDA figures stay wall-clock)"
    assert r["meta"]["quick"] is False and set(r) == {"schema", "meta", "sampler", "overhead", "data", "seeds",
                                                      "time_to_accuracy"}


def test_run_bench_logs_time_to_accuracy_lines_on_stderr(parts, capsys):
    bench.run_bench(parts=["time-to-accuracy"], out=None)
    parts["tta"][1]["log"]("a line")
    assert capsys.readouterr().err == "a line\n"


def test_run_bench_defaults(parts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["python"])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    r = bench.run_bench()
    assert set(parts) == {"sampler", "overhead", "data", "course", "seeds"}
    assert parts["course"] == ((None,), {})
    assert r["meta"]["command"] is None and r["meta"]["threads"] == 2 and r["meta"]["parts"] == list(
        bench.DEFAULT_PARTS)
    assert json.loads((tmp_path / "bench" / "results.json").read_text())["meta"]["threads"] == 2
    assert bench.DEFAULT_PARTS == ("sampler", "overhead", "data", "course", "seeds")


def test_run_bench_refuses_word_for_word(parts, tmp_path):
    with pytest.raises(ValueError) as err:
        bench.run_bench(parts=["sampler", "speed", "gpu"], out=None)
    assert str(err.value) == ("unknown part(s) ['gpu', 'speed']; expected some of sampler, overhead, data, "
                              "time-to-accuracy, course, seeds")
    with pytest.raises(ValueError) as err:
        bench.run_bench(parts=["course"], out=None, clock="process")
    assert str(err.value) == "clock must be one of wall, cpu, got 'process'"
    assert parts == {}


def test_a_failing_part_restores_the_threads_and_writes_nothing(parts, tmp_path, monkeypatch):
    threads = torch.get_num_threads()

    def boom(**kw):
        raise RuntimeError("x")

    monkeypatch.setattr(bench, "bench_sampler", boom)
    with pytest.raises(RuntimeError):
        bench.run_bench(parts=["sampler"], threads=threads + 1, out=tmp_path / "r.json")
    assert torch.get_num_threads() == threads and list(tmp_path.iterdir()) == []


def test_loadavg(monkeypatch):
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (1.234, 0.456, 2.0))
    assert bench._loadavg() == [1.23, 0.46, 2.0]

    def fail():
        raise OSError("no load average")

    monkeypatch.setattr(bench.os, "getloadavg", fail)
    assert bench._loadavg() is None
    monkeypatch.delattr(bench.os, "getloadavg")
    assert bench._loadavg() is None


def test_format_table_every_part_exactly():
    t = {"median_ms": 1.234, "q1_ms": 1.0, "q3_ms": 2.5, "min_ms": 0, "max_ms": 9, "n": 3}
    result = {
        "meta": {"date": "D", "torch": "2.x", "threads": 2, "clock": "wall", "loadavg_start": [1.0],
                 "loadavg_end": [2.0]},
        "sampler": [{"device": "cpu: X, 2 thread(s)", "shape": "S", "kernel": "bilinear", "pass": "forward",
                     "reference": t, "native": t, "ratio": 1.5, "ratio_q1": 1.25, "ratio_q3": 1.75}],
        "overhead": [{"device": "cuda: G", "model": "ST-CNN (native sampler)", "batch": "64×1×42×42",
                      "cnn": t, "st_cnn": t, "ratio": 1.1, "ratio_q1": 1.0, "ratio_q3": 1.2}],
        "data": {"device": "cpu: X", "source": "MNIST train", "rows": [
            {"distortion": "R", "output": "1×28×28", "images_per_s": 1234.5, "min_images_per_s": 1000.4,
             "max_images_per_s": 1500.6}]},
        "time_to_accuracy": {"target_error": 1.5, "device": "cpu: X", "data": "given", "budget_s": 12.4,
                             "recipes": {
                                 "a": {"seconds_to_target": 12.4, "time_cap_s": 900.0, "steps": 10,
                                       "val_error_at_budget": 1.2, "val_error_at_stop": 1.2,
                                       "test_error_at_stop": 1.3},
                                 "b": {"seconds_to_target": None, "time_cap_s": 60.0, "steps": 5,
                                       "val_error_at_budget": None, "val_error_at_stop": 9.0,
                                       "test_error_at_stop": 8.0},
                                 "c": {"seconds_to_target": 30.0, "time_cap_s": 60.0, "steps": 7,
                                       "val_error_at_budget": 2.0, "val_error_at_stop": 1.0,
                                       "test_error_at_stop": 1.1},
                                 "d": {"seconds_to_target": None, "time_cap_s": 60.0, "steps": 7,
                                       "val_error_at_budget": 2.0, "val_error_at_stop": 1.0,
                                       "test_error_at_stop": 1.1}},
                             "ratios": {"b": {"ratio": 4.84, "bound": True},
                                        "c": {"ratio": 2.419, "bound": False},
                                        "d": {"ratio": None, "bound": False}}},
        "course": {"runs_dir": "runs", "smoke": {"missing": "no run.json"},
                   "standard": {"device": "cpu", "total_s": 12.6, "notebooks": [
                       {"name": "00", "seconds": 2.4, "ok": True}, {"name": "01", "seconds": 10.2, "ok": False}]}},
        "seeds": {"n_seeds": 2, "steps": 3, "threads": 1, "rows": []},
    }
    assert bench.format_table(result) == "\n".join([
        "stn-course bench · D · torch 2.x · 2 thread(s) · clock wall · load average [1.0] → [2.0]",
        "", "### 1. Sampler: reference (eq. 3) / native grid_sample, ms (target: bilinear fwd+bwd ≤ 2.0× on CPU)",
        "", "| device | shape | kernel | pass | reference ms | native ms | ratio [IQR] |",
        "|---|---|---|---|---|---|---|",
        "| cpu: X | S | bilinear | forward | 1.23 [1.00–2.50] | 1.23 [1.00–2.50] | 1.50× [1.25–1.75] |",
        "", "### 2. Transformer overhead: training step (fwd+bwd+Adam), ms (target ≤ 1.25× on CPU)", "",
        "| device | model | batch | CNN ms | ST-CNN ms | ratio [IQR] |", "|---|---|---|---|---|---|",
        "| cuda: G | ST-CNN (native sampler) | 64×1×42×42 | 1.23 [1.00–2.50] | 1.23 [1.00–2.50] | "
        "1.10× [1.00–1.20] |",
        "", "### 3. Distorted-MNIST generation, images/s (cpu: X; source: MNIST train)", "",
        "| distortion | output | images/s (median) | min–max |", "|---|---|---|---|",
        "| R | 1×28×28 | 1234 | 1000–1501 |",
        "", "### 4. Time to 1.5% validation error on RTS MNIST, stopped on the validation split (cpu: X; given)",
        "", "| recipe | s to 1.5% (cap) | steps | val error at 12 s | val error at stop | test error at stop "
            "| ratio |", "|---|---|---|---|---|---|---|",
        "| a | 12 (900) | 10 | 1.20% | 1.20% | 1.30% | 1 |",
        "| b | not reached (60) | 5 | – | 9.00% | 8.00% | > 4.84× |",
        "| c | 30 (60) | 7 | 2.00% | 1.00% | 1.10% | 2.42× |",
        "| d | not reached (60) | 7 | 2.00% | 1.00% | 1.10% | n/a |",
        "", "### 5. The course's notebooks, wall time s (from runs)", "",
        "- smoke: no run.json",
        "- standard (device cpu): 00 2, 01 10 (FAILED); total 13 s",
        "", "### 6. Seeds: 2 seeds × 3 steps, trained vectorized (stnlib.seeds) vs one after another, s "
            "(1 thread(s))", "",
        "| device | model | sequential s | vectorized s | vectorized / sequential [IQR] |", "|---|---|---|---|---|",
    ]) + "\n"


def test_format_table_header_alone_and_a_recipe_without_a_ratio():
    meta = {"date": "D", "torch": "t", "threads": 1, "clock": "cpu", "loadavg_start": None}
    assert bench.format_table({"meta": meta}) == ("stn-course bench · D · torch t · 1 thread(s) · clock cpu · "
                                                  "load average None → None\n")
    course = {"runs_dir": "r", "standard": {"missing": "m"}}
    assert bench.format_table({"meta": meta, "course": course}).splitlines()[1:] == [
        "", "### 5. The course's notebooks, wall time s (from r)", "", "- standard: m"]
    tta = {"target_error": 1.0, "device": "x", "data": "d", "budget_s": 1.0, "ratios": {},
           "recipes": {"a": {"seconds_to_target": 1.0, "time_cap_s": 2.0, "steps": 1, "val_error_at_budget": 1.0,
                             "val_error_at_stop": 1.0, "test_error_at_stop": 1.0},
                       "z": {"seconds_to_target": 1.0, "time_cap_s": 2.0, "steps": 1, "val_error_at_budget": 1.0,
                             "val_error_at_stop": 1.0, "test_error_at_stop": 1.0}}}
    assert bench.format_table({"meta": meta, "time_to_accuracy": tta}).splitlines()[-1].endswith("| n/a |")


def test_ms():
    assert bench._ms({"median_ms": 1.004, "q1_ms": 0.5, "q3_ms": 12.346}) == "1.00 [0.50–12.35]"
    assert bench._ms({"median_ms": 2.0, "q1_ms": 1.0, "q3_ms": 3.0}) == "2.00 [1.00–3.00]"


# --------------------------------------------------------------------------- CLI


def _parser():
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers()
    bench.add_cli(sub)
    return parser, sub.choices["bench"]


def test_the_cli_options():
    parser, p = _parser()
    a = parser.parse_args(["bench"])
    assert (a.quick, a.part, a.out, a.device, a.threads, a.clock, a.runs, a.time_cap, a.time_cap_tutorial,
            a.func) == (False, None, "bench/results.json", None, 2, "wall", None, 900.0, None, bench._cli)
    a = parser.parse_args(["bench", "--quick", "--part", "data", "--part", "seeds", "--out", "o.json",
                           "--device", "cuda", "--threads", "3", "--clock", "cpu", "--runs", "a", "--runs", "b",
                           "--time-cap", "5", "--time-cap-tutorial", "7.5"])
    assert (a.quick, a.part, a.out, a.device, a.threads, a.clock, a.runs, a.time_cap, a.time_cap_tutorial) == (
        True, ["data", "seeds"], "o.json", "cuda", 3, "cpu", ["a", "b"], 5.0, 7.5)
    helps = {act.dest: (act.help, act.metavar, act.choices) for act in p._actions}
    assert helps == {
        "help": ("show this help message and exit", None, None),
        "quick": ("fewer repeats; never time-to-accuracy", None, None),
        "part": ("run only this part (repeatable; default: all but time-to-accuracy)", None, bench.PARTS),
        "out": ("JSON file to write", None, None),
        "device": ("cpu, cuda (default: the CPU, and CUDA too when present)", None, None),
        "threads": ("torch CPU threads (default 2)", None, None),
        "clock": ("wall (default) or cpu: thread CPU time, robust on a shared machine; use with --threads 1",
                  None, ("wall", "cpu")),
        "runs": ("folder holding <budget>/run.json of stn-course run (repeatable; default: runs/ of the "
                 "repository)", None, None),
        "time_cap": ("time-to-accuracy: training time cap per recipe (default 900)", "SECONDS", None),
        "time_cap_tutorial": ("time-to-accuracy: the PyTorch tutorial recipe's own cap (default: --time-cap)",
                              "SECONDS", None)}
    assert p.description == ("Measure the library and the course against their anchors and print a table; "
                             "the figures also go to a JSON file.")
    sub_help = [c.help for c in parser._subparsers._group_actions[0]._choices_actions]
    assert sub_help == ["benchmarks: sampler, transformer overhead, data, course, seeds"]
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--part", "speed"])
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--clock", "process"])


def test_cli_runs_prints_and_reports(monkeypatch, capsys):
    seen = []
    result = {"meta": {"date": "D", "torch": "t", "threads": 1, "clock": "wall", "loadavg_start": None}}
    monkeypatch.setattr(bench, "run_bench", lambda **kw: seen.append(kw) or result)
    parser, _ = _parser()
    args = parser.parse_args(["bench", "--out", "x.json", "--runs", "r", "--device", "cpu", "--threads", "1",
                              "--time-cap", "3", "--time-cap-tutorial", "4", "--clock", "cpu"])
    assert bench._cli(args) == 0
    assert seen[-1] == {"parts": bench.DEFAULT_PARTS, "quick": False, "device": "cpu", "threads": 1,
                        "out": "x.json", "runs_dir": ["r"], "time_cap_s": 3.0, "clock": "cpu",
                        "tutorial_cap_s": 4.0}
    out = capsys.readouterr()
    assert out.out == bench.format_table(result) + "\n(JSON written to x.json)\n" and out.err == ""
    assert bench._cli(parser.parse_args(["bench", "--quick"])) == 0
    assert seen[-1]["parts"] == ("sampler", "overhead", "data", "course") and seen[-1]["quick"] is True
    assert capsys.readouterr().err == ""
    assert bench._cli(parser.parse_args(["bench", "--quick", "--part", "time-to-accuracy", "--part", "data"])) == 0
    assert seen[-1]["parts"] == ["data"]
    assert capsys.readouterr().err == "stn-course bench: --quick leaves out time-to-accuracy\n"
    assert bench._cli(parser.parse_args(["bench", "--part", "time-to-accuracy"])) == 0
    assert seen[-1]["parts"] == ["time-to-accuracy"]

    def refuse(**kw):
        raise ValueError("no such device")

    monkeypatch.setattr(bench, "run_bench", refuse)
    capsys.readouterr()
    assert bench._cli(parser.parse_args(["bench"])) == 2
    out = capsys.readouterr()
    assert out.err == "stn-course bench: error: no such device\n" and out.out == ""


# --------------------------------------------------------------------------- defaults and arguments passed on


def test_bench_sampler_draws_its_inputs_from_seed_0_by_default(T, dev_name, monkeypatch):
    import stnlib.sampler as sampler_lib

    real = F.grid_sample
    seen = []

    def ref(U, grid, *, align_corners, kernel):
        seen.append((U.detach().clone(), grid.detach().clone()))
        T.advance(0.5)
        return real(U, grid, mode=kernel, align_corners=align_corners)

    monkeypatch.setattr(sampler_lib, "grid_sample_reference", ref)
    monkeypatch.setattr(torch.nn.functional, "grid_sample",
                        lambda U, grid, *, mode, align_corners: (T.advance(0.25), real(
                            U, grid, mode=mode, align_corners=align_corners))[1])
    bench.bench_sampler(shapes=(((2, 1, 4, 4), (3, 3)),), kernels=("bilinear",), repeats=1, warmup=0)
    g = torch.Generator().manual_seed(0)
    U = torch.rand(2, 1, 4, 4, generator=g)
    theta = torch.eye(2, 3).expand(2, 2, 3) + 0.15 * torch.randn(2, 2, 3, generator=g)
    grid = F.affine_grid(theta, (2, 1, 3, 3), align_corners=False)
    assert len(seen) == 2 and all(torch.equal(u, U) and torch.equal(gr, grid) for u, gr in seen)


def test_bench_overhead_defaults_batch_64_seed_0_warmup_3_repeats_15(T, dev_name, monkeypatch):
    seen, targets = [], []
    real_ce = F.cross_entropy
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", lambda out, y: targets.append(y) or real_ce(out, y))
    cnn, st = [], []
    models = {"CNN": lambda: Net(T, lambda self: cnn.append(1) or 0.25, 42, seen),
              "ST-CNN": lambda: Net(T, lambda self: st.append(1) or 0.5, 42, seen)}
    rows = bench.bench_overhead(models=models)
    assert len(cnn) == len(st) == 3 + 15  # warm-up rounds, then the timed ones
    assert rows == [{"device": "dev cpu", "model": "ST-CNN (native sampler)", "batch": "64×1×42×42",
                     "cnn": bench.summarize([0.25] * 15), "st_cnn": bench.summarize([0.5] * 15), "ratio": 2.0,
                     "ratio_q1": 2.0, "ratio_q3": 2.0, "target": 1.25}]
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, 42, 42, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    assert len(seen) == len(targets) == 36
    assert all(torch.equal(s, x) for s in seen) and all(torch.equal(t, y) for t in targets)


def test_bench_overhead_times_both_rows_on_the_clock_asked_for(T, dev_name):
    def make_st():
        m = Net(T, lambda self: 1.0 if self.transformer.sampler == "reference" else 0.5, 2, [])
        m.transformer = SimpleNamespace(sampler="native")
        return m

    models = {"CNN": lambda: Net(T, lambda self: 0.25, 2, []), "ST-CNN": make_st}
    rows = bench.bench_overhead(batch_size=2, in_size=2, repeats=2, warmup=0, models=models, clock="cpu")
    # the cpu clock runs at 2t: every figure is twice the wall time
    assert [(r["model"], r["cnn"]["median_ms"], r["st_cnn"]["median_ms"], r["ratio"]) for r in rows] == [
        ("ST-CNN (native sampler)", 500.0, 1000.0, 2.0), ("ST-CNN (reference sampler)", 500.0, 2000.0, 4.0)]


def test_train_to_target_of_a_recipe_that_trains_no_step(T):
    x, zeros, mixed = _data()
    lines = []
    r = bench._train_to_target("z", lambda: Counter(T), FakeRecipe(T, steps=0), (x, zeros), (x, mixed),
                               (x, zeros), cap=10.0, target=0.0, eval_every=2, seed=0, clock="wall",
                               log=lines.append)
    assert r == {"seconds_to_target": None, "steps": 0, "time_cap_s": 10.0,
                 "curve": [{"step": 0, "seconds": 0.0, "wall_s": 0.0, "cpu_s": 0.0, "val_error": 50.0}],
                 "val_error_at_stop": 50.0, "test_error_at_stop": 100.0}
    assert lines == ["z: stopped at step 0, 0 s; test error 100.00%"]


def test_train_to_target_evaluates_a_step_that_lands_exactly_on_its_cap(T):
    x, zeros, mixed = _data()
    lines = []
    # 0.5 s a step on the cpu clock: step 3 ends at 1.5 s, the cap, between two evaluations (every 2)
    r = bench._train_to_target("c", lambda: Counter(T), FakeRecipe(T, steps=10), (x, zeros), (x, zeros),
                               (x, zeros), cap=1.5, target=25.0, eval_every=2, seed=0, clock="cpu",
                               log=lines.append)
    assert r["seconds_to_target"] == 1.5 and r["steps"] == 3  # 25 % at the cap: reached
    assert [(c["step"], c["seconds"], c["val_error"]) for c in r["curve"]] == [(2, 1.0, 50.0), (3, 1.5, 25.0)]
    assert lines == ["c: step 2, 1 s, validation error 50.00%", "c: step 3, 2 s, validation error 25.00%",
                     "c: stopped at step 3, 2 s; test error 25.00%"]


def test_error_evaluates_at_most_1000_inputs_at_a_time():
    sizes = []

    class Sizes(nn.Module):
        def forward(self, x):
            sizes.append(len(x))
            return torch.zeros(len(x), 10)

    assert bench._error(Sizes(), torch.zeros(2001, 1), torch.zeros(2001, dtype=torch.long)) == 0.0
    assert sizes == [1000, 1000, 1]


def test_time_to_accuracy_defaults_reach_each_recipe(T, dev_name, monkeypatch):
    seen = []

    def fake_train(name, make, recipe, train, val, test, **kw):
        seen.append((name, kw))
        return {"seconds_to_target": None, "curve": [], "time_cap_s": kw["cap"]}

    monkeypatch.setattr(bench, "_train_to_target", fake_train)
    x, zeros, mixed = _data()
    t = bench.bench_time_to_accuracy(data=(x, zeros, x, zeros, x, zeros), recipes={"r": (None, None),
                                                                                  "s": (None, None)})
    kw = {"cap": 900.0, "target": 1.5, "eval_every": 200, "seed": 0, "clock": "wall", "log": None}
    assert seen == [("r", kw), ("s", kw)]
    assert (t["time_cap_s"], t["budget_s"], t["target_error"]) == (900.0, 900.0, 1.5)
    assert t["ratios"] == {"s": {"ratio": None, "bound": False}}


def test_time_to_accuracy_holds_out_5000_validation_digits_by_default_and_accepts_one(T, dev_name, monkeypatch):
    import stnlib.data as data_lib

    sizes = {"train": 5001}
    monkeypatch.setattr(data_lib, "load", lambda name, split, *, n, seed: SimpleNamespace(
        images=torch.zeros(sizes.get(split, 2), 1, 1, 1), labels=torch.arange(sizes.get(split, 2))))
    seen = {}

    def fake_train(name, make, recipe, train, val, test, **kw):
        seen.update(train=train[1].tolist(), val=val[1].tolist())
        return {"seconds_to_target": None, "curve": [], "time_cap_s": kw["cap"]}

    monkeypatch.setattr(bench, "_train_to_target", fake_train)
    t = bench.bench_time_to_accuracy(recipes={"r": (None, None)})
    assert seen == {"train": [0], "val": list(range(1, 5001))}
    assert t["data"] == ("mnist-rts: 1 train, 5000 validation (the last training digits, held out), "
                         "2 test images")
    sizes["train"] = 3
    t = bench.bench_time_to_accuracy(n_val=1, recipes={"r": (None, None)})
    assert seen == {"train": [0, 1], "val": [2]}
    assert t["data"].startswith("mnist-rts: 2 train, 1 validation ")


def test_time_to_accuracy_sizes_the_default_recipes_by_the_image_width(T, dev_name, monkeypatch):
    got = []
    monkeypatch.setattr(bench, "_recipes", lambda size, epochs: got.append((size, epochs)) or {
        "only": (lambda: Counter(T), FakeRecipe(T, 1))})
    x = torch.zeros(4, 1, 5, 7)  # N×C×H×W, not square
    zeros = torch.zeros(4, dtype=torch.long)
    bench.bench_time_to_accuracy(data=(x, zeros, x, zeros, x, zeros), eval_every=1)
    assert got == [(7, 4)]


def test_time_to_accuracy_ratios_divide_by_the_first_recipes_time_and_name_each_recipe(T, dev_name):
    x, zeros, mixed = _data()
    recipes = {"first": (lambda: Counter(T), FakeRecipe(T, 10)),             # 50 % after 2 steps: 0.5 s
               "slow": (lambda: Counter(T), FakeRecipe(T, 10, cost=1.0)),    # 2 s
               "never": (lambda: Counter(T), FakeRecipe(T, 1))}              # ends at 75 %
    lines = []
    t = bench.bench_time_to_accuracy(time_cap_s=3.0, target=50.0, eval_every=1,
                                     data=(x, zeros, x, zeros, x, zeros), recipes=recipes, log=lines.append)
    assert [r["seconds_to_target"] for r in t["recipes"].values()] == [0.5, 2.0, None]
    assert t["ratios"] == {"slow": {"ratio": 4.0, "bound": False}, "never": {"ratio": 6.0, "bound": True}}
    assert [recipe.calls[0]["desc"] for _, recipe in recipes.values()] == ["first", "slow", "never"]
    assert lines == ["first: step 1, 0 s, validation error 75.00%", "first: step 2, 0 s, validation error 50.00%",
                     "first: stopped at step 2, 0 s; test error 50.00%",
                     "slow: step 1, 1 s, validation error 75.00%", "slow: step 2, 2 s, validation error 50.00%",
                     "slow: stopped at step 2, 2 s; test error 50.00%",
                     "never: step 1, 0 s, validation error 75.00%",
                     "never: stopped at step 1, 0 s; test error 75.00%"]


def test_time_to_accuracy_counts_a_point_exactly_at_the_budget_tolerance(T, dev_name):
    x, zeros, mixed = _data()
    cap = 0.5 - 1e-9
    assert cap + 1e-9 == 0.5  # the first recipe's cap is the budget; 0.5 s is its edge
    recipes = {"a": (lambda: Counter(T), FakeRecipe(T, 10)), "b": (lambda: Counter(T), FakeRecipe(T, 10))}
    t = bench.bench_time_to_accuracy(time_cap_s=9.0, target=0.0, eval_every=1, time_caps={"a": cap},
                                     data=(x, zeros, x, zeros, x, zeros), recipes=recipes)
    a, b = t["recipes"].values()
    assert t["budget_s"] == cap and a["seconds_to_target"] is None and b["seconds_to_target"] == 1.0
    assert a["curve"][-1]["seconds"] == b["curve"][1]["seconds"] == 0.5
    assert a["val_error_at_budget"] == b["val_error_at_budget"] == 50.0  # the 0.5 s points count


def test_bench_seeds_default_seed_and_what_both_rounds_train_with(T, dev_name, monkeypatch):
    made = _recording_sides(monkeypatch, T, 0.5, 0.25)
    models = {"m": {"build": "B", "shape": (2,), "batch_size": 3, "lr": 0.05}}
    bench.bench_seeds(models=models, n_seeds=2, steps=4, repeats=1)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(12, 2, generator=g), torch.randint(0, 10, (12,), generator=g)
    (wb, warm, *warm_args), (b, data, *args) = made
    assert warm_args == args == [[0, 1], 3, 0.05, torch.device("cpu")] and wb == b == "B"
    assert torch.equal(data[0], x) and torch.equal(data[1], y)
    assert torch.equal(warm[0], x[:6]) and torch.equal(warm[1], y[:6])


def test_format_table_shows_the_overhead_device_before_its_first_comma():
    t = {"median_ms": 1.0, "q1_ms": 0.5, "q3_ms": 2.0}
    meta = {"date": "D", "torch": "t", "threads": 4, "clock": "wall", "loadavg_start": None}
    row = {"device": "cpu: Y, 4 thread(s)", "model": "ST-CNN (native sampler)", "batch": "2×1×3×3", "cnn": t,
           "st_cnn": t, "ratio": 1.0, "ratio_q1": 1.0, "ratio_q3": 1.0}
    assert bench.format_table({"meta": meta, "overhead": [row]}).splitlines()[-1] == (
        "| cpu: Y | ST-CNN (native sampler) | 2×1×3×3 | 1.00 [0.50–2.00] | 1.00 [0.50–2.00] | "
        "1.00× [1.00–1.00] |")


# --------------------------------------------------------------------------- the device asked for
# "meta" stands in for an accelerator (CPU-only machines): tensors and models there keep their device


def test_bench_sampler_samples_on_the_device_asked_for(T, dev_name, monkeypatch):
    import stnlib.sampler as sampler_lib

    seen = []

    def sample(U, grid):
        seen.append((U.device.type, grid.device.type))
        return U[:, :, :2, :2] * grid[..., :1].permute(0, 3, 1, 2)

    monkeypatch.setattr(sampler_lib, "grid_sample_reference",
                        lambda U, grid, *, align_corners, kernel: (T.advance(0.5), sample(U, grid))[1])
    monkeypatch.setattr(torch.nn.functional, "grid_sample",
                        lambda U, grid, *, mode, align_corners: (T.advance(0.25), sample(U, grid))[1])
    rows = bench.bench_sampler(shapes=(((2, 1, 4, 4), (2, 2)),), kernels=("bilinear",), devices=("meta",),
                               repeats=1, warmup=0)
    assert seen == [("meta", "meta")] * 4 and [r["device"] for r in rows] == ["dev meta"] * 2


def test_bench_overhead_trains_on_the_device_asked_for(T, dev_name, monkeypatch):
    targets = []
    real_ce = F.cross_entropy
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", lambda out, y: targets.append(y) or real_ce(out, y))
    seen, built = [], []
    models = {name: (lambda cost=cost: built.append(Net(T, lambda self: cost, 2, seen)) or built[-1])
              for name, cost in (("CNN", 0.25), ("ST-CNN", 0.5))}
    rows = bench.bench_overhead(batch_size=2, in_size=2, repeats=1, warmup=0, models=models, devices=("meta",))
    assert rows[0]["device"] == "dev meta" and rows[0]["ratio"] == 2.0
    assert {x.device.type for x in seen} == {y.device.type for y in targets} == {"meta"}
    assert [m.lin.weight.device.type for m in built] == ["meta", "meta"]


def test_bench_seeds_times_a_cuda_device_with_synchronized_clocks(T, dev_name, monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append(("sync", device)))

    def sides(build, data, seeds, *, batch_size, lr, device):
        return (lambda: events.append("sequential") or T.advance(1.0)), (
            lambda: events.append("vectorized") or T.advance(0.5))

    monkeypatch.setattr(bench, "_seed_sides", sides)
    models = {"m": {"build": "B", "shape": (1,), "batch_size": 1, "lr": 0.1}}
    s = bench.bench_seeds(models=models, n_seeds=1, steps=1, repeats=2, devices=("cuda",))
    cuda = torch.device("cuda")
    warm_up = ["sequential", "vectorized"]
    timed = [("sync", cuda), "sequential", ("sync", cuda), ("sync", cuda), "vectorized", ("sync", cuda)]
    assert events == warm_up + timed * 2
    assert s["rows"][0]["device"] == "dev cuda" and s["rows"][0]["ratio"] == 0.5


def test_run_bench_device_cpu_leaves_out_an_available_cuda(parts, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    r = bench.run_bench(parts=["sampler", "seeds"], device="cpu", out=None)
    assert parts["sampler"][1]["devices"] == parts["seeds"][1]["devices"] == [torch.device("cpu")]
    assert r["meta"]["devices"] == ["dev cpu"]
    r = bench.run_bench(parts=["sampler"], out=None)
    assert parts["sampler"][1]["devices"] == [torch.device("cpu"), torch.device("cuda")]
    assert r["meta"]["devices"] == ["dev cpu", "dev cuda"]


def test_run_bench_flushes_each_time_to_accuracy_line(parts, monkeypatch):
    bench.run_bench(parts=["time-to-accuracy"], out=None)
    events = []
    monkeypatch.setattr(sys, "stderr", SimpleNamespace(write=events.append, flush=lambda: events.append("FLUSH")))
    parts["tta"][1]["log"]("a line")
    assert events == ["a line", "\n", "FLUSH"]  # at once: a notebook's stderr would hold it back
