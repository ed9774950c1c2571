"""``stn-course bench``: the library and the course measured against their anchors, in one run.

Parts (``--part``, default: all but ``time-to-accuracy``):

1. ``sampler``: :func:`stnlib.sampler.grid_sample_reference` vs
   ``torch.nn.functional.grid_sample``, forward and forward+backward, for
   nearest / bilinear / bicubic at the course's shapes; ratio reference / native.
   Target: bilinear forward+backward within 2× on CPU.
2. ``overhead``: one training step (forward, backward, Adam) of the ST-CNN
   (:func:`stnlib.models.st_cnn`) vs the same CNN without the transformer
   (:class:`stnlib.models.CNN`) on 42×42 inputs; ratio. Target ≤ 1.25× on CPU.
   Also the ST-CNN with the reference sampler.
3. ``data``: distorted-MNIST generation throughput (images/s) for the paper's
   R, RTS, P, E and TC distortions (:mod:`stnlib.data.distortions`).
4. ``time-to-accuracy`` (long; only when asked for, with a time cap): the
   course's ST-CNN recipe and the PyTorch STN tutorial's recipe
   (:func:`stnlib.models.tutorial_net`, SGD lr 0.01, batch 64) trained on the same
   RTS-distorted MNIST on the CPU; training time until each reaches 1.5% error on
   a validation split held out from the training digits (the test set chooses
   nothing: its error is reported at the moment each recipe stops), the ratios,
   and each one's validation error after the same training time.
5. ``course``: the wall time of every notebook at ``smoke`` and ``standard``,
   read from ``stn-course run``'s ``runs/<budget>/run.json``.
6. ``seeds``: 5 seeds of one small model trained at once as one vectorized
   model (:func:`stnlib.seeds.train_seeds`) vs one after another
   (:func:`stnlib.train.train`), same data and steps: lesson 03's ST-CNN on
   28×28 and lesson 06's 1-D ST-CNN; ratio vectorized / sequential
   (:func:`bench_seeds`).

Noise control: threads pinned (``--threads``, default 2), warm-up runs, the
two sides of a ratio timed in alternation (so a busy neighbour slows both),
each timing repeated; tables show the median and the spread (IQR, min-max
in the JSON). Every timing is a :class:`stnlib.timing.Stopwatch` (CUDA
timings synchronize before reading the clock). Every figure records the
device it was taken on; the JSON also records the load average before and
after, since a shared machine skews absolute times.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .._io import write_text
from ..kernels import KERNELS
from ..timing import Stopwatch
from .paths import course_root

PARTS = ("sampler", "overhead", "data", "time-to-accuracy", "course", "seeds")
DEFAULT_PARTS = ("sampler", "overhead", "data", "course", "seeds")
#: (N, C, H, W) of U and (H', W') of V: the course's feature maps
SAMPLER_SHAPES = (((256, 1, 28, 28), (28, 28)), ((256, 1, 42, 42), (28, 28)),
                  ((64, 3, 64, 64), (64, 64)), ((16, 64, 128, 128), (128, 128)))
DISTORTIONS = ("R", "RTS", "P", "E", "TC")
SAMPLER_TARGET = 2.0
OVERHEAD_TARGET = 1.25
TARGET_ERROR = 1.5  # % validation error, part 4
SCHEMA = 1
#: the name of the PyTorch tutorial's recipe in part 4 (``--time-cap-tutorial`` sets its own cap)
TUTORIAL_RECIPE = "PyTorch tutorial STN (SGD 0.01, batch 64)"


# --------------------------------------------------------------------------- timing


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    v = sorted(values)
    if len(v) == 1:
        return v[0], v[0], v[0]
    q1, q2, q3 = statistics.quantiles(v, n=4, method="inclusive")
    return q1, q2, q3


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, min and max of a list of timings, in milliseconds."""
    ms = [1e3 * s for s in seconds]
    q1, median, q3 = _quartiles(ms)
    return {"median_ms": median, "q1_ms": q1, "q3_ms": q3, "min_ms": min(ms), "max_ms": max(ms),
            "n": len(ms)}


#: the clocks ``--clock`` offers: ``wall``, elapsed time (what a user waits); ``cpu``, this
#: thread's CPU time, which a busy neighbour on a shared machine disturbs far less
#: (meaningful with one thread, CPU only; see :data:`stnlib.timing.CLOCKS`)
BENCH_CLOCKS = ("wall", "cpu")


def _check_clock(clock: str) -> str:
    if clock not in BENCH_CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(BENCH_CLOCKS)}, got {clock!r}")
    return clock


def time_pair(fa: Callable[[], object], fb: Callable[[], object], *, repeats: int, warmup: int,
              device: torch.device, clock: str = "wall") -> tuple[list[float], list[float]]:
    """Time ``fa`` and ``fb`` in alternation: ``warmup`` untimed rounds, then ``repeats`` timed ones.

    ``clock`` (:data:`BENCH_CLOCKS`) is read on the CPU; a CUDA device is timed on the wall clock.
    Returns the seconds of every timed call of ``fa`` and of ``fb``.
    """
    clock = "wall" if device.type == "cuda" else _check_clock(clock)
    for _ in range(warmup):
        fa()
        fb()
    sa, sb = Stopwatch(clock, device=device), Stopwatch(clock, device=device)
    for _ in range(repeats):
        for f, sw in ((fa, sa), (fb, sb)):
            with sw:
                f()
    return sa.laps, sb.laps


def ratio_stats(ta: Sequence[float], tb: Sequence[float]) -> dict[str, float]:
    """Ratio of the medians, and the IQR of the per-round ratios ``a / b``."""
    q1, _, q3 = _quartiles([a / b for a, b in zip(ta, tb)])
    return {"ratio": statistics.median(ta) / statistics.median(tb), "ratio_q1": q1, "ratio_q3": q3}


def _devices(device: str | None) -> list[torch.device]:
    """``None`` or ``"all"``: the CPU, and CUDA when present; else the one named."""
    if device in (None, "all"):
        return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    try:
        d = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}: {err}") from None
    if d.type not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu or cuda, got {device!r}")
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but CUDA is not available")
    return [d]


def device_name(device: torch.device) -> str:
    """A human-readable name of the device a figure was taken on."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu: {cpu}, {torch.get_num_threads()} thread(s)"


# --------------------------------------------------------------------------- 1. sampler


def bench_sampler(*, shapes=SAMPLER_SHAPES, kernels=tuple(KERNELS), devices=("cpu",), repeats: int = 7,
                  warmup: int = 2, seed: int = 0, clock: str = "wall") -> list[dict]:
    """Reference vs native sampler; one row per device × shape × kernel × pass."""
    from ..sampler import grid_sample_reference

    rows = []
    for dev in map(torch.device, devices):
        for (n, c, h, w), (ho, wo) in shapes:
            g = torch.Generator().manual_seed(seed)
            U = torch.rand(n, c, h, w, generator=g).to(dev).requires_grad_()
            # a mild random affine warp per sample: taps land everywhere, some outside
            theta = torch.eye(2, 3).expand(n, 2, 3) + 0.15 * torch.randn(n, 2, 3, generator=g)
            grid = F.affine_grid(theta, (n, c, ho, wo), align_corners=False).to(dev).requires_grad_()
            for kernel in kernels:
                def ref(U=U, grid=grid, kernel=kernel):
                    return grid_sample_reference(U, grid, align_corners=False, kernel=kernel)

                def nat(U=U, grid=grid, kernel=kernel):
                    return F.grid_sample(U, grid, mode=kernel, align_corners=False)

                for pass_ in ("forward", "forward+backward"):
                    fa, fb = (_no_grad(ref), _no_grad(nat)) if pass_ == "forward" else \
                        (_fwd_bwd(ref), _fwd_bwd(nat))
                    ta, tb = time_pair(fa, fb, repeats=repeats, warmup=warmup, device=dev,
                                       clock=clock)
                    rows.append({"device": device_name(dev), "shape": f"{n}×{c}×{h}×{w}→{ho}×{wo}",
                                 "kernel": kernel, "pass": pass_, "reference": summarize(ta),
                                 "native": summarize(tb), **ratio_stats(ta, tb)})
    return rows


def _no_grad(f):
    def run():
        with torch.no_grad():
            return f()
    return run


def _fwd_bwd(f):
    def run():
        V = f()
        V.backward(torch.ones_like(V))
    return run


# --------------------------------------------------------------------------- 2. overhead


def bench_overhead(*, devices=("cpu",), batch_size: int = 64, in_size: int = 42, repeats: int = 15,
                   warmup: int = 3, seed: int = 0, models: dict | None = None,
                   clock: str = "wall") -> list[dict]:
    """Training-step time of the ST-CNN vs the CNN alone (and the ST-CNN with the reference sampler).

    ``models`` (tests): ``{"CNN": factory, "ST-CNN": factory}``; default
    :func:`stnlib.models.cnn` and :func:`stnlib.models.st_cnn` for 1×in_size×in_size inputs.
    """
    if models is None:
        from ..models import cnn, st_cnn

        models = {"CNN": lambda: cnn(1, in_size), "ST-CNN": lambda: st_cnn(1, in_size)}
    rows = []
    for dev in map(torch.device, devices):
        g = torch.Generator().manual_seed(seed)
        x = torch.rand(batch_size, 1, in_size, in_size, generator=g).to(dev)
        y = torch.randint(0, 10, (batch_size,), generator=g).to(dev)
        torch.manual_seed(seed)
        cnn, stcnn = models["CNN"]().to(dev), models["ST-CNN"]().to(dev)
        steps = {name: _train_step(m, x, y) for name, m in (("CNN", cnn), ("ST-CNN", stcnn))}
        tc, ts = time_pair(steps["CNN"], steps["ST-CNN"], repeats=repeats, warmup=warmup, device=dev,
                           clock=clock)
        rows.append({"device": device_name(dev), "model": "ST-CNN (native sampler)",
                     "batch": f"{batch_size}×1×{in_size}×{in_size}", "cnn": summarize(tc),
                     "st_cnn": summarize(ts), **ratio_stats(ts, tc), "target": OVERHEAD_TARGET})
        stn = getattr(stcnn, "transformer", None)
        if stn is not None and hasattr(stn, "sampler"):
            stn.sampler = "reference"
            tc, ts = time_pair(steps["CNN"], steps["ST-CNN"], repeats=repeats, warmup=warmup,
                               device=dev, clock=clock)
            stn.sampler = "native"
            rows.append({"device": device_name(dev), "model": "ST-CNN (reference sampler)",
                         "batch": f"{batch_size}×1×{in_size}×{in_size}", "cnn": summarize(tc),
                         "st_cnn": summarize(ts), **ratio_stats(ts, tc), "target": None})
    return rows


def _train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


# --------------------------------------------------------------------------- 3. data


def _source_digits(n: int, seed: int) -> tuple[torch.Tensor, str]:
    """``n`` MNIST training digits as float N×1×28×28, or synthetic strokes where MNIST is absent."""
    try:
        from ..data import datasets

        images, _ = datasets.raw_digits("train")
        index = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
        return datasets.as_float(images[index]), "MNIST train"
    except Exception as err:  # noqa: BLE001 - any missing-data error: fall back, and say so
        g = torch.Generator().manual_seed(seed)
        x = torch.zeros(n, 1, 28, 28)
        rows = torch.randint(8, 20, (n,), generator=g)
        for i, r in enumerate(rows.tolist()):
            x[i, 0, r - 4:r + 4, 10:18] = 1.0  # a blob of ink in the middle, like a digit
        return x, f"synthetic blobs (MNIST unavailable: {type(err).__name__})"


def bench_data(*, n: int = 2000, distortions=DISTORTIONS, repeats: int = 3, seed: int = 0) -> dict:
    """Images per second of each paper distortion (CPU, ``n`` source digits per call)."""
    from ..data import catalog
    from ..data import distortions as D

    x, source = _source_digits(n, seed)
    rows = []
    for name in distortions:
        spec = catalog.spec_of(f"mnist-{name.lower()}")
        fn = (lambda g, spec=spec: D.clutter(x, spec, g)) if isinstance(spec, D.Clutter) else \
            (lambda g, spec=spec: D.distort(x, spec, g))
        fn(torch.Generator().manual_seed(seed))  # warm-up
        sw = Stopwatch()
        for r in range(repeats):
            g = torch.Generator().manual_seed(seed + 1 + r)
            with sw:
                out, _ = fn(g)
        per_s = sorted(n / t for t in sw.laps)
        rows.append({"distortion": name, "output": "×".join(map(str, out.shape[1:])),
                     "images_per_s": statistics.median(per_s), "min_images_per_s": per_s[0],
                     "max_images_per_s": per_s[-1], "n": n, "repeats": repeats})
    return {"device": device_name(torch.device("cpu")), "source": source, "rows": rows}


# --------------------------------------------------------------------------- 4. time to accuracy


def _recipes(in_size: int, epochs_planned: int) -> dict:
    """name → (model factory, :class:`~stnlib.recipe.Recipe`).

    The course's ST-CNN twice, with its default (cheap) localization net and with the
    full-resolution one of earlier versions (Adam, one-cycle over ``epochs_planned``
    epochs: a recipe stops at the schedule's end at the latest), then the PyTorch
    tutorial's recipe (SGD 0.01, constant: it runs until its target or its time cap).
    """
    from ..models import st_cnn, tutorial_net
    from ..recipe import Recipe

    course = Recipe(epochs=epochs_planned, lr=3e-3, batch_size=64)
    tutorial = Recipe(epochs=10 ** 6, lr=0.01, batch_size=64, optimizer="sgd", schedule="constant")
    text = f"Adam 3e-3, one-cycle over {epochs_planned} epochs, batch 64"
    return {
        f"course ST-CNN, loc net pools 2 first (default; {text})": (lambda: st_cnn(1, in_size), course),
        f"course ST-CNN, full-resolution loc net ({text})": (
            lambda: st_cnn(1, in_size, loc_downsample=1, loc_channels=16), course),
        TUTORIAL_RECIPE: (lambda: tutorial_net(in_size), tutorial),
    }


def _error(model, x, y, batch: int = 1000) -> float:
    """% misclassified of ``model`` on ``(x, y)``, in eval mode (back to train mode after)."""
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            wrong += (model(x[i:i + batch]).argmax(1) != y[i:i + batch]).sum().item()
    model.train()
    return 100.0 * wrong / len(x)


def _curve_point(step: int, val_error: float, timed: Stopwatch, wall: Stopwatch, cpu: Stopwatch
                 ) -> dict:
    return {"step": step, "seconds": timed.seconds, "wall_s": wall.seconds, "cpu_s": cpu.seconds,
            "val_error": val_error}


def _split_data(data: tuple) -> tuple:
    if not (isinstance(data, tuple) and len(data) == 6):
        raise ValueError("data must be (x_train, y_train, x_val, y_val, x_test, y_test), got "
                         f"{type(data).__name__} of length {len(data) if hasattr(data, '__len__') else '?'}")
    return data


def _train_to_target(name: str, make_model, recipe, train_data, val_data, test_data, *, cap: float,
                     target: float, eval_every: int, seed: int, clock: str, log) -> dict:
    """One recipe of :func:`bench_time_to_accuracy`, trained by :meth:`Recipe.fit` (the course's one loop).

    A hook after every step stops the clocks, evaluates the validation split every
    ``eval_every`` steps, and ends training (:class:`~stnlib.train.StopTraining`) at the
    target or the time cap; the clocks run only while the loop trains.
    """
    from ..train import StopTraining, seed_everything

    x_va, y_va = val_data
    seed_everything(seed)
    model = make_model()
    # training time only: the bench's clock, the wall clock and the process's CPU time
    watches = timed, wall, cpu = Stopwatch(clock), Stopwatch("wall"), Stopwatch("process")
    curve, state = [], {"step": 0, "reached": None}

    def watch(info) -> None:
        for sw in watches:
            sw.stop()
        state["step"] = step = info.step + 1
        if step % eval_every == 0 or timed.seconds >= cap:
            err = _error(info.model, x_va, y_va)
            curve.append(_curve_point(step, err, timed, wall, cpu))
            if log is not None:
                log(f"{name}: step {step}, {timed.seconds:.0f} s, validation error {err:.2f}%")
            if err <= target:
                state["reached"] = timed.seconds
        if state["reached"] is not None or timed.seconds >= cap:
            raise StopTraining
        for sw in watches:
            sw.start()

    for sw in watches:
        sw.start()
    try:
        recipe.fit(model, train_data, seed=seed, on_step=watch, progress=False, desc=name)
    finally:
        for sw in watches:
            if sw.running:
                sw.stop()
    step = state["step"]
    if not curve or curve[-1]["step"] != step:
        curve.append(_curve_point(step, _error(model, x_va, y_va), timed, wall, cpu))
    test_error = _error(model, *test_data)  # once, at the moment the recipe stopped
    if log is not None:
        log(f"{name}: stopped at step {step}, {timed.seconds:.0f} s; test error {test_error:.2f}%")
    return {"seconds_to_target": state["reached"], "steps": step, "time_cap_s": cap, "curve": curve,
            "val_error_at_stop": curve[-1]["val_error"], "test_error_at_stop": test_error}


def bench_time_to_accuracy(*, time_cap_s: float = 900.0, target: float = TARGET_ERROR,
                           n_train: int | None = None, n_val: int = 5000, n_test: int = 2000,
                           eval_every: int = 200, epochs_planned: int = 4, seed: int = 0,
                           data: tuple | None = None, recipes: dict | None = None,
                           time_caps: dict | None = None, log=None, clock: str = "wall") -> dict:
    """Train each recipe on the same RTS data until ``target`` % *validation* error or its time cap.

    The stopping time is chosen on a validation split held out from the training
    digits (the last ``n_val`` of the ``n_train`` loaded, never trained on); the
    test set chooses nothing: its error is measured once, at the moment a recipe
    stops (``test_error_at_stop``). Every ``eval_every`` steps the validation error
    is appended to the recipe's ``curve`` with the training time so far.

    The clock counts training only (evaluation is excluded): ``seconds`` on
    ``clock`` (wall, or this thread's CPU time with ``--clock cpu``), plus
    ``wall_s`` and ``cpu_s`` (the process's CPU time, all threads) in every curve
    row. ``time_caps``: name → cap for single recipes (default ``time_cap_s``).
    ``data`` (tests): ``(x_train, y_train, x_val, y_val, x_test, y_test)``.
    ``recipes``: name → ``(model factory, stnlib.recipe.Recipe)``; each trains through
    :meth:`Recipe.fit` (the course's one loop), ending at its target, its cap or its epochs.
    ``log``: a callable given one line per evaluation (progress).
    """
    if data is None:
        from .. import data as D

        train = D.load("mnist-rts", "train", n=n_train, seed=seed)
        test = D.load("mnist-rts", "test", n=n_test, seed=seed)
        if not 0 < n_val < len(train.labels):
            raise ValueError(f"n_val must be in 1..{len(train.labels) - 1}, got {n_val!r}")
        k = len(train.labels) - n_val
        data = (train.images[:k], train.labels[:k], train.images[k:], train.labels[k:],
                test.images, test.labels)
        source = (f"mnist-rts: {k} train, {n_val} validation (the last training digits, held "
                  f"out), {len(test.labels)} test images")
    else:
        data = _split_data(data)
        source = f"given: {len(data[1])} train, {len(data[3])} validation, {len(data[5])} test images"
    x_tr, y_tr, x_va, y_va, x_te, y_te = data
    recipes = recipes or _recipes(x_tr.shape[-1], epochs_planned)
    caps = {name: float((time_caps or {}).get(name, time_cap_s)) for name in recipes}
    clock = _check_clock(clock)
    results = {}
    for name, (make_model, recipe) in recipes.items():
        results[name] = _train_to_target(name, make_model, recipe, (x_tr, y_tr), (x_va, y_va), (x_te, y_te),
                                         cap=caps[name], target=target, eval_every=eval_every, seed=seed,
                                         clock=clock, log=log)
    names = list(results)
    budget = results[names[0]]["seconds_to_target"] or caps[names[0]]
    for r in results.values():
        seen = [c for c in r["curve"] if c["seconds"] <= budget + 1e-9]
        r["val_error_at_budget"] = seen[-1]["val_error"] if seen else None
    first = results[names[0]]["seconds_to_target"]
    ratios = {}
    for n in names[1:]:
        other = results[n]["seconds_to_target"]
        if first and other:
            ratios[n] = {"ratio": other / first, "bound": False}
        elif first:  # not reached within its cap: the ratio is at least cap / first
            ratios[n] = {"ratio": results[n]["time_cap_s"] / first, "bound": True}
        else:
            ratios[n] = {"ratio": None, "bound": False}
    return {"device": device_name(torch.device("cpu")), "data": source, "target_error": target,
            "stopped_on": "validation", "time_cap_s": time_cap_s, "budget_s": budget,
            "recipes": results, "ratios": ratios,
            "note": f"each recipe stops at its first validation error <= {target}% (or its cap); "
                    "test_error_at_stop is the test error at that moment. ratios: each recipe's "
                    f"time to the target / that of {names[0]!r}; bound: true where the recipe did "
                    "not reach it within its cap (the ratio is then a lower bound)"}


# --------------------------------------------------------------------------- 5. course


def read_run(folder: str | os.PathLike) -> dict | None:
    """Per-notebook wall times of one ``stn-course run`` folder (its ``run.json``), or ``None``
    if it has none or an unreadable one."""
    js = Path(folder) / "run.json"
    if not js.exists():
        return None
    try:
        data = json.loads(js.read_text(encoding="utf-8"))
        notebooks = [{"name": nb["name"], "seconds": float(nb["seconds"]), "ok": bool(nb["ok"])}
                     for nb in data.get("notebooks", [])]
        device = data.get("device")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return {"folder": str(folder), "device": device, "notebooks": notebooks,
            "total_s": sum(nb["seconds"] for nb in notebooks),
            "all_ok": all(nb["ok"] for nb in notebooks)}


def bench_course(runs_dir: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                 budgets: Sequence[str] = ("smoke", "standard")) -> dict:
    """The notebooks' wall times per budget from ``<runs_dir>/<budget>/``; absent runs say so.

    ``runs_dir`` may be several folders (e.g. partial runs from several
    checkouts): a notebook is taken from the first folder that has it.
    """
    if runs_dir is None:
        runs_dir = course_root() / "runs"
    dirs = [Path(runs_dir)] if isinstance(runs_dir, (str, os.PathLike)) else [Path(d) for d in runs_dir]
    out: dict = {"runs_dir": ", ".join(map(str, dirs))}
    for b in budgets:
        runs = [r for r in (read_run(d / b) for d in dirs) if r is not None]
        if not runs:
            out[b] = {"missing": f"no run.json in {' or '.join(str(d / b) for d in dirs)}: "
                                 f"run `stn-course run --budget {b}` first"}
            continue
        seen, notebooks = set(), []
        for r in runs:
            for nb in r["notebooks"]:
                if nb["name"] not in seen:
                    seen.add(nb["name"])
                    notebooks.append({**nb, "folder": r["folder"]})
        notebooks.sort(key=lambda nb: nb["name"])
        out[b] = {"folder": ", ".join(r["folder"] for r in runs),
                  "device": ", ".join(sorted({str(r["device"] or "default") for r in runs})),
                  "notebooks": notebooks, "total_s": sum(nb["seconds"] for nb in notebooks),
                  "all_ok": all(nb["ok"] for nb in notebooks)}
    return out


# --------------------------------------------------------------------------- driver


# --------------------------------------------------------------------------- 6. seeds

#: the seeds each side of the ``seeds`` part trains
SEEDS_N = 5
#: optimizer steps of each seed (one epoch of ``steps × batch_size`` inputs)
SEEDS_STEPS = 50


def seeds_models() -> dict[str, dict]:
    """name → ``{"build", "shape", "batch_size", "lr"}``: lesson 03's ST-CNN and lesson 06's 1-D ST-CNN."""
    from ..models import build_model, timeseries

    return {
        "lesson 03 ST-CNN Aff, 1×28×28, batch 64": {
            "build": lambda: build_model("ST-CNN Aff", in_size=28), "shape": (1, 28, 28),
            "batch_size": 64, "lr": 3e-3},
        "lesson 06 1-D ST-CNN (time warp + amplitude), 1×40, batch 100": {
            "build": lambda: timeseries.st_cnn(40), "shape": (1, 40), "batch_size": 100, "lr": 1e-2},
    }


def _seed_sides(build: Callable[[], nn.Module], data, seeds: list[int], *, batch_size: int, lr: float,
           device: torch.device):
    from ..seeds import train_seeds
    from ..train import seed_everything, train

    def sequential():
        for seed in seeds:
            seed_everything(seed)
            train(build(), data, epochs=1, lr=lr, batch_size=batch_size, seed=seed, device=device,
                  progress=False)

    def vectorized():
        train_seeds(build, data, seeds=seeds, epochs=1, lr=lr, batch_size=batch_size, device=device,
                    progress=False)

    return sequential, vectorized


def bench_seeds(*, models: Mapping[str, dict] | None = None, n_seeds: int = SEEDS_N, steps: int = SEEDS_STEPS,
                devices=("cpu",), repeats: int = 3, seed: int = 0) -> dict:
    """Training time of ``n_seeds`` seeds vectorized vs one after another; one row per device × model.

    Args:
        models: name → ``{"build": () -> nn.Module, "shape": input shape without N,
            "batch_size": int, "lr": float}``; default :func:`seeds_models`.
        n_seeds: seeds on each side (0 … n_seeds − 1).
        steps: optimizer steps per seed.
        devices: where to train.
        repeats: timed rounds per side (after one untimed warm-up round of 2 steps).
        seed: seeds the random inputs.

    Returns:
        ``{"n_seeds", "steps", "threads", "rows"}``; each row has ``device``, ``model``,
        ``batch_size``, ``sequential_s`` and ``vectorized_s`` (median seconds of a
        round: all seeds trained), ``sequential`` / ``vectorized`` (:func:`summarize`,
        ms) and ``ratio`` (vectorized / sequential; ``ratio_q1`` … ``ratio_q3``
        over the rounds).
    """
    if not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    models = seeds_models() if models is None else models
    seeds = list(range(n_seeds))
    rows = []
    for dev in map(torch.device, devices):
        for name, spec in models.items():
            bs = spec["batch_size"]
            g = torch.Generator().manual_seed(seed)
            n = steps * bs
            data = (torch.rand(n, *spec["shape"], generator=g), torch.randint(0, 10, (n,), generator=g))
            warm = (data[0][:2 * bs], data[1][:2 * bs])
            for side in _seed_sides(spec["build"], warm, seeds, batch_size=bs, lr=spec["lr"], device=dev):
                side()  # warm-up: allocations, kernel choices
            sequential, vectorized = _seed_sides(spec["build"], data, seeds, batch_size=bs, lr=spec["lr"],
                                            device=dev)
            sw_seq, sw_vec = Stopwatch(device=dev), Stopwatch(device=dev)
            for _ in range(repeats):
                for side, sw in ((sequential, sw_seq), (vectorized, sw_vec)):
                    with sw:
                        side()
            rows.append({"device": device_name(dev), "model": name, "batch_size": bs,
                         "sequential_s": statistics.median(sw_seq.laps),
                         "vectorized_s": statistics.median(sw_vec.laps),
                         "sequential": summarize(sw_seq.laps), "vectorized": summarize(sw_vec.laps),
                         **ratio_stats(sw_vec.laps, sw_seq.laps)})
    return {"n_seeds": n_seeds, "steps": steps, "threads": torch.get_num_threads(), "rows": rows,
            "note": "ratio = vectorized / sequential training time of all seeds (below 1: "
                    "vectorized wins); both sides build the models and their batches"}


def format_seeds(s: dict) -> list[str]:
    """The part's Markdown table, as lines."""
    lines = ["", f"### 6. Seeds: {s['n_seeds']} seeds × {s['steps']} steps, trained vectorized "
             f"(stnlib.seeds) vs one after another, s ({s['threads']} thread(s))", "",
             "| device | model | sequential s | vectorized s | vectorized / sequential [IQR] |",
             "|---|---|---|---|---|"]
    for r in s["rows"]:
        lines.append(f"| {r['device'].split(',')[0]} | {r['model']} | {r['sequential_s']:.2f} | "
                     f"{r['vectorized_s']:.2f} | {r['ratio']:.2f}× "
                     f"[{r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}] |")
    return lines


def run_bench(*, parts: Sequence[str] = DEFAULT_PARTS, quick: bool = False, device: str | None = None,
              threads: int = 2, out: str | os.PathLike | None = "bench/results.json",
              runs_dir=None, time_cap_s: float = 900.0, sampler_shapes=SAMPLER_SHAPES,
              overhead_models: dict | None = None, data_n: int | None = None,
              tta_kwargs: dict | None = None, repeats: int | None = None, clock: str = "wall",
              tutorial_cap_s: float | None = None, seeds_kwargs: dict | None = None) -> dict:
    """Run the chosen parts; write the JSON (atomically) to ``out`` unless ``None``; return it.

    ``seeds_kwargs`` (tests, other sizes): passed to :func:`bench_seeds`.
    """
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown part(s) {sorted(unknown)}; expected some of {', '.join(PARTS)}")
    _check_clock(clock)
    devices = _devices(device)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    total = Stopwatch().start()
    result = {"schema": SCHEMA, "meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "stn-course bench " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["bench"] else None,
        "quick": quick, "parts": list(parts), "threads": threads,
        "clock": clock + ("" if clock == "wall" else " (CPU figures; CUDA figures stay wall-clock)"),
        "devices": [device_name(d) for d in devices], "torch": torch.__version__,
        "python": platform.python_version(), "platform": platform.platform(),
        "loadavg_start": _loadavg()}}
    try:
        if "sampler" in parts:
            result["sampler"] = bench_sampler(
                shapes=sampler_shapes, devices=devices, repeats=repeats or (3 if quick else 9),
                warmup=1 if quick else 2, clock=clock)
        if "overhead" in parts:
            result["overhead"] = bench_overhead(
                devices=devices, repeats=repeats or (5 if quick else 41), warmup=1 if quick else 3,
                models=overhead_models, clock=clock)
        if "data" in parts:
            result["data"] = bench_data(n=data_n or (500 if quick else 2000),
                                        repeats=repeats or (2 if quick else 5))
        if "time-to-accuracy" in parts:
            kwargs = {"log": lambda line: print(line, file=sys.stderr, flush=True), "clock": clock,
                      **({"time_caps": {TUTORIAL_RECIPE: tutorial_cap_s}} if tutorial_cap_s else {}),
                      **(tta_kwargs or {})}
            result["time_to_accuracy"] = bench_time_to_accuracy(time_cap_s=time_cap_s, **kwargs)
        if "course" in parts:
            result["course"] = bench_course(runs_dir)
        if "seeds" in parts:
            result["seeds"] = bench_seeds(**{"devices": devices, **({"steps": 10, "repeats": 1} if quick
                                                                   else {}), **(seeds_kwargs or {})})
    finally:
        torch.set_num_threads(old_threads)
    result["meta"]["loadavg_end"] = _loadavg()
    result["meta"]["seconds"] = total.stop()
    if out is not None:
        write_text(out, json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return result


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _ms(s: dict) -> str:
    return f"{s['median_ms']:.2f} [{s['q1_ms']:.2f}–{s['q3_ms']:.2f}]"


def format_table(result: dict) -> str:
    """The results as Markdown tables (median [IQR]; ratios: median of medians [IQR of rounds])."""
    lines = [f"stn-course bench · {result['meta']['date']} · torch {result['meta']['torch']} · "
             f"{result['meta']['threads']} thread(s) · clock {result['meta']['clock']} · "
             f"load average {result['meta']['loadavg_start']}"
             f" → {result['meta'].get('loadavg_end')}"]
    if "sampler" in result:
        lines += ["", "### 1. Sampler: reference (eq. 3) / native grid_sample, ms "
                  f"(target: bilinear fwd+bwd ≤ {SAMPLER_TARGET}× on CPU)", "",
                  "| device | shape | kernel | pass | reference ms | native ms | ratio [IQR] |",
                  "|---|---|---|---|---|---|---|"]
        for r in result["sampler"]:
            lines.append(f"| {r['device'].split(',')[0]} | {r['shape']} | {r['kernel']} | {r['pass']} | "
                         f"{_ms(r['reference'])} | {_ms(r['native'])} | "
                         f"{r['ratio']:.2f}× [{r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}] |")
    if "overhead" in result:
        lines += ["", f"### 2. Transformer overhead: training step (fwd+bwd+Adam), ms "
                  f"(target ≤ {OVERHEAD_TARGET}× on CPU)", "",
                  "| device | model | batch | CNN ms | ST-CNN ms | ratio [IQR] |",
                  "|---|---|---|---|---|---|"]
        for r in result["overhead"]:
            lines.append(f"| {r['device'].split(',')[0]} | {r['model']} | {r['batch']} | "
                         f"{_ms(r['cnn'])} | {_ms(r['st_cnn'])} | "
                         f"{r['ratio']:.2f}× [{r['ratio_q1']:.2f}–{r['ratio_q3']:.2f}] |")
    if "data" in result:
        d = result["data"]
        lines += ["", f"### 3. Distorted-MNIST generation, images/s ({d['device']}; source: {d['source']})",
                  "", "| distortion | output | images/s (median) | min–max |", "|---|---|---|---|"]
        for r in d["rows"]:
            lines.append(f"| {r['distortion']} | {r['output']} | {r['images_per_s']:.0f} | "
                         f"{r['min_images_per_s']:.0f}–{r['max_images_per_s']:.0f} |")
    if "time_to_accuracy" in result:
        t = result["time_to_accuracy"]
        lines += ["", f"### 4. Time to {t['target_error']}% validation error on RTS MNIST, stopped on "
                  f"the validation split ({t['device']}; {t['data']})", "",
                  f"| recipe | s to {t['target_error']}% (cap) | steps | val error at {t['budget_s']:.0f} s "
                  "| val error at stop | test error at stop | ratio |", "|---|---|---|---|---|---|---|"]
        for i, (name, r) in enumerate(t["recipes"].items()):
            s = "not reached" if r["seconds_to_target"] is None else f"{r['seconds_to_target']:.0f}"
            at = "–" if r["val_error_at_budget"] is None else f"{r['val_error_at_budget']:.2f}%"
            q = t["ratios"].get(name)
            ratio = "1" if i == 0 else ("n/a" if q is None or q["ratio"] is None else
                                        f"{'> ' if q['bound'] else ''}{q['ratio']:.2f}×")
            lines.append(f"| {name} | {s} ({r['time_cap_s']:.0f}) | {r['steps']} | {at} | "
                         f"{r['val_error_at_stop']:.2f}% | {r['test_error_at_stop']:.2f}% | {ratio} |")
    if "course" in result:
        c = result["course"]
        lines += ["", f"### 5. The course's notebooks, wall time s (from {c['runs_dir']})", ""]
        for b in ("smoke", "standard"):
            run = c.get(b)
            if run is None:
                continue
            if "missing" in run:
                lines.append(f"- {b}: {run['missing']}")
                continue
            nbs = ", ".join(f"{nb['name']} {nb['seconds']:.0f}{'' if nb['ok'] else ' (FAILED)'}"
                            for nb in run["notebooks"])
            lines.append(f"- {b} (device {run['device']}): {nbs}; total {run['total_s']:.0f} s")
    if "seeds" in result:
        lines += format_seeds(result["seeds"])
    return "\n".join(lines) + "\n"


def _cli(args: argparse.Namespace) -> int:
    parts = args.part or (DEFAULT_PARTS if not args.quick else ("sampler", "overhead", "data", "course"))
    if args.quick and "time-to-accuracy" in parts:
        print("stn-course bench: --quick leaves out time-to-accuracy", file=sys.stderr)
        parts = [p for p in parts if p != "time-to-accuracy"]
    try:
        result = run_bench(parts=parts, quick=args.quick, device=args.device, threads=args.threads,
                           out=args.out, runs_dir=args.runs, time_cap_s=args.time_cap,
                           clock=args.clock, tutorial_cap_s=args.time_cap_tutorial)
    except ValueError as err:
        print(f"stn-course bench: error: {err}", file=sys.stderr)
        return 2
    print(format_table(result), end="")
    print(f"\n(JSON written to {args.out})")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks: sampler, transformer overhead, data, course, seeds",
                       description="Measure the library and the course against their anchors "
                       "and print a table; the figures also go to a JSON file.")
    p.add_argument("--quick", action="store_true", help="fewer repeats; never time-to-accuracy")
    p.add_argument("--part", action="append", choices=PARTS, default=None,
                   help="run only this part (repeatable; default: all but time-to-accuracy)")
    p.add_argument("--out", default="bench/results.json", help="JSON file to write")
    p.add_argument("--device", default=None,
                   help="cpu, cuda (default: the CPU, and CUDA too when present)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--clock", choices=BENCH_CLOCKS, default="wall",
                   help="wall (default) or cpu: thread CPU time, robust on a shared machine; "
                   "use with --threads 1")
    p.add_argument("--runs", action="append", default=None,
                   help="folder holding <budget>/run.json of stn-course run (repeatable; "
                   "default: runs/ of the repository)")
    p.add_argument("--time-cap", type=float, default=900.0, metavar="SECONDS",
                   help="time-to-accuracy: training time cap per recipe (default 900)")
    p.add_argument("--time-cap-tutorial", type=float, default=None, metavar="SECONDS",
                   help="time-to-accuracy: the PyTorch tutorial recipe's own cap (default: --time-cap)")
    p.set_defaults(func=_cli)
