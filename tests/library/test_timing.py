"""stnlib.timing: the one stopwatch and the one micro-benchmark."""

import subprocess
import sys
import time

import pytest
import torch

from stnlib import timing
from stnlib.timing import Stopwatch, time_call


def test_a_stopwatch_around_a_sleep_measures_at_least_the_sleep():
    sw = Stopwatch()
    with sw:
        time.sleep(0.05)
    assert len(sw.laps) == 1 and 0.05 <= sw.seconds < 5
    assert not sw.running


def test_reuse_adds_up_and_keeps_every_lap():
    sw = Stopwatch()
    for pause in (0.02, 0.03):
        with sw:
            time.sleep(pause)
    assert len(sw.laps) == 2 and sw.laps[0] >= 0.02 and sw.laps[1] >= 0.03
    assert sw.seconds == pytest.approx(sum(sw.laps))
    assert sw.start() is sw and sw.running
    assert sw.stop() == sw.laps[-1] and len(sw.laps) == 3


def test_an_outer_stopwatch_contains_the_inner_one():
    outer, inner = Stopwatch(), Stopwatch()
    with outer:
        time.sleep(0.01)
        with inner:
            time.sleep(0.02)
    assert outer.seconds >= inner.seconds + 0.01 and inner.seconds >= 0.02


def test_one_stopwatch_cannot_run_inside_itself_or_stop_twice():
    sw = Stopwatch()
    with sw, pytest.raises(RuntimeError, match="already running"):
        with sw:
            pass
    assert len(sw.laps) == 1  # the outer block still counted once
    with pytest.raises(RuntimeError, match="not running"):
        sw.stop()


def test_the_cpu_clocks_do_not_count_a_sleep():
    wall, cpu, process = Stopwatch("wall"), Stopwatch("cpu"), Stopwatch("process")
    with wall, cpu, process:
        time.sleep(0.1)
    assert wall.seconds >= 0.1
    assert cpu.seconds < 0.05 and process.seconds < 0.05


def test_a_cpu_clock_counts_work():
    cpu = Stopwatch("cpu")
    with cpu:
        x = 0
        for i in range(300_000):
            x += i
    assert cpu.seconds > 0


def test_unknown_clock_is_named():
    with pytest.raises(ValueError, match="clock must be one of 'wall', 'cpu', 'process', got 'sundial'"):
        Stopwatch("sundial")
    with pytest.raises(ValueError, match="clock must be one of"):
        time_call(lambda: None, clock="sundial")


def test_on_the_cpu_nothing_is_synchronized(monkeypatch):
    def fail(*args):
        raise AssertionError("synchronize called for a CPU device")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    with Stopwatch(device="cpu"):
        pass
    timing.synchronize("cpu")
    timing.synchronize(None)
    assert time_call(lambda: None, number=2, device=torch.device("cpu")) > 0


def test_a_cuda_device_synchronizes_before_each_reading(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    sw = Stopwatch(device="cuda:0")  # no GPU needed: only the synchronization is checked
    with sw:
        pass
    assert calls == [torch.device("cuda:0")] * 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_work_is_waited_for():
    a = torch.randn(2048, 2048, device="cuda")
    torch.cuda.synchronize()
    sw = Stopwatch(device="cuda")
    with sw:
        for _ in range(20):
            a = a @ a / 2048
    start = time.perf_counter()
    torch.cuda.synchronize()
    assert time.perf_counter() - start < 0.5 * sw.seconds + 1e-3  # nothing left queued


def test_time_call_gives_seconds_per_call_after_a_warm_up():
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.01)

    per_call = time_call(slow, number=3)
    assert 0.01 <= per_call < 1
    assert len(calls) == 2 + 3  # two warm-up calls, then the timed ones


def test_time_call_keeps_the_torch_threads():
    threads = torch.get_num_threads()
    seen = []
    time_call(lambda: seen.append(torch.get_num_threads()), number=2)
    assert set(seen) == {threads} and torch.get_num_threads() == threads


@pytest.mark.parametrize("number", [0, -1, 1.5, True])
def test_time_call_rejects_a_bad_number(number):
    with pytest.raises(ValueError, match="number must be a positive int"):
        time_call(lambda: None, number=number)


def test_time_call_writes_nothing_to_stderr_in_a_fresh_interpreter():
    # torch.utils.benchmark imports torch.utils.cpp_extension, which logs "No CUDA runtime is
    # found" on a machine with a CUDA toolkit but no GPU; a notebook would store that line
    run = subprocess.run([sys.executable, "-c", "from stnlib.timing import time_call\n"
                          "print(time_call(lambda: None, number=3) > 0)"],
                         capture_output=True, text=True, timeout=300)
    assert (run.returncode, run.stdout, run.stderr) == (0, "True\n", "")
