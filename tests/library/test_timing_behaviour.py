"""stnlib.timing on a fake clock: exact laps, totals, means, messages and CUDA synchronization.

Every clock a Stopwatch or time_call reads comes from ``timing.CLOCKS`` (bound when the module is
imported, so patching ``time.perf_counter`` itself would not reach it): the tests put a fake clock
there, and the work being timed moves it by exact binary fractions, so each statistic is exact.
"""

import logging
import re
import sys
import time
import types

import pytest
import torch

from stnlib import timing
from stnlib.timing import CLOCKS, Stopwatch, time_call


class FakeClock:
    """A clock that stands still until ``advance`` moves it; counts its readings."""

    def __init__(self, now=100.0):
        self.now = now
        self.readings = 0

    def __call__(self):
        self.readings += 1
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    for name in ("wall", "cpu", "process"):
        monkeypatch.setitem(CLOCKS, name, fake)
    return fake


def test_the_clocks_are_the_standard_ones():
    assert CLOCKS == {"wall": time.perf_counter, "cpu": time.thread_time, "process": time.process_time}


@pytest.mark.parametrize("name", ["wall", "cpu", "process"])
def test_each_clock_name_reads_its_own_clock(monkeypatch, name):
    for other in CLOCKS:
        monkeypatch.setitem(CLOCKS, other, FakeClock(now=0.0))
    mine = FakeClock(now=10.0)
    monkeypatch.setitem(CLOCKS, name, mine)
    sw = Stopwatch(name)
    sw.start()
    mine.advance(0.75)
    assert sw.stop() == 0.75 and mine.readings == 2


def test_laps_and_total_are_exact_on_a_fake_clock(clock):
    sw = Stopwatch("cpu")
    assert (sw.clock, sw.device, sw.laps, sw.seconds, sw.running) == ("cpu", None, [], 0.0, False)
    assert repr(sw) == "Stopwatch('cpu', 0 lap(s), 0 s)"
    with sw:
        assert sw.running
        assert repr(sw) == "Stopwatch('cpu', 0 lap(s), 0 s, running)"
        clock.advance(0.5)
    clock.advance(7.0)  # time between blocks is not counted
    assert sw.start() is sw
    clock.advance(1.25)
    assert sw.stop() == 1.25
    assert sw.laps == [0.5, 1.25] and sw.seconds == 1.75 and not sw.running
    assert repr(sw) == "Stopwatch('cpu', 2 lap(s), 1.75 s)"
    assert clock.readings == 4


def test_repr_rounds_to_six_significant_digits(clock):
    sw = Stopwatch()
    with sw:
        clock.advance(1 / 3)
    assert repr(sw) == "Stopwatch('wall', 1 lap(s), 0.333333 s)"


def test_an_exception_in_the_block_still_ends_the_lap(clock):
    sw = Stopwatch()
    with pytest.raises(KeyError), sw:
        clock.advance(2.0)
        raise KeyError("x")
    assert sw.laps == [2.0] and not sw.running


def test_nested_stopwatches_on_a_fake_clock(clock):
    outer, inner = Stopwatch(), Stopwatch()
    with outer:
        clock.advance(1.0)
        with inner:
            clock.advance(0.25)
        clock.advance(0.5)
    assert (outer.laps, inner.laps) == ([1.75], [0.25])


def test_running_twice_and_stopping_twice_are_refused_word_for_word(clock):
    sw = Stopwatch()
    sw.start()
    with pytest.raises(RuntimeError, match=re.escape(
            "this Stopwatch is already running: stop it first, or use a second Stopwatch for the "
            "inner block")) as err:
        sw.start()
    assert str(err.value) == ("this Stopwatch is already running: stop it first, or use a second "
                              "Stopwatch for the inner block")
    clock.advance(0.5)
    assert sw.stop() == 0.5
    with pytest.raises(RuntimeError) as err:
        sw.stop()
    assert str(err.value) == "this Stopwatch is not running: start() it (or enter it) first"
    assert sw.laps == [0.5]


def test_the_stopwatch_keeps_its_device(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    dev = torch.device("cuda:1")
    assert Stopwatch(device=dev).device is dev
    assert Stopwatch(device="cpu").device == "cpu"
    assert calls == []


def test_cuda_synchronization_around_every_reading(monkeypatch, clock):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append(("sync", device)))

    def read():
        events.append(("read", None))
        return clock.now

    monkeypatch.setitem(CLOCKS, "wall", read)
    sw = Stopwatch(device="cuda:1")
    with sw:
        clock.advance(0.5)
    dev = torch.device("cuda:1")
    assert events == [("sync", dev), ("read", None), ("sync", dev), ("read", None)]
    assert sw.laps == [0.5]


def test_synchronize_waits_only_for_a_cuda_device(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    timing.synchronize("cuda:1")
    timing.synchronize(torch.device("cuda", 0))
    timing.synchronize("cpu")
    timing.synchronize()
    assert calls == [torch.device("cuda:1"), torch.device("cuda:0")]


def test_unknown_clock_message_word_for_word():
    with pytest.raises(ValueError) as err:
        Stopwatch("sundial")
    assert str(err.value) == "clock must be one of 'wall', 'cpu', 'process', got 'sundial'"


def test_time_call_is_the_exact_mean_on_a_fake_clock(clock):
    calls = []

    def work():
        calls.append(1)
        clock.advance(0.25)

    assert time_call(work, number=4) == 0.25
    assert len(calls) == 2 + 4  # two warm-up calls, then the timed ones


def test_time_call_warms_up_with_number_over_100(clock):
    calls = []

    def work():
        calls.append(1)
        clock.advance(0.5 if len(calls) > 3 else 64.0)  # the three warm-up calls are slow

    assert time_call(work, number=300, clock="process") == 0.5
    assert len(calls) == 3 + 300


def test_time_call_default_is_ten_calls_after_two(clock):
    calls = []

    def work():
        calls.append(1)
        clock.advance(0.125)

    assert time_call(work) == 0.125
    assert len(calls) == 12


def test_time_call_accepts_a_single_call(clock):
    calls = []

    def work():
        calls.append(1)
        clock.advance(2.0)

    assert time_call(work, number=1) == 2.0 and len(calls) == 3


def test_time_call_runs_at_the_current_number_of_threads(clock):
    threads = torch.get_num_threads()
    seen = []
    try:
        torch.set_num_threads(2)
        time_call(lambda: seen.append(torch.get_num_threads()), number=2)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(threads)
    assert seen == [2] * 4 and after == 2


def test_time_call_with_a_cuda_device_synchronizes_before_each_reading(monkeypatch, clock):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))

    def work():
        clock.advance(0.5)

    assert time_call(work, number=3, device="cuda:1") == 0.5
    # the warm-up and the timed run each read the clock twice
    assert calls == [torch.device("cuda:1")] * 4 and clock.readings == 4


def test_time_call_on_the_cpu_does_not_synchronize(monkeypatch, clock):
    def fail(*args):
        raise AssertionError("synchronize called for a CPU device")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    assert time_call(lambda: clock.advance(1.0), number=2, device="cpu") == 1.0


@pytest.mark.parametrize("fn, name", [(5, "int"), (None, "NoneType"), ("fn()", "str")])
def test_time_call_rejects_what_cannot_be_called_word_for_word(fn, name):
    with pytest.raises(TypeError) as err:
        time_call(fn)
    assert str(err.value) == f"fn must be a function called without arguments, got {name}"


@pytest.mark.parametrize("number", [0, -3, 2.0, False, True, "5"])
def test_time_call_rejects_a_bad_number_word_for_word(number):
    with pytest.raises(ValueError) as err:
        time_call(lambda: None, number=number)
    assert str(err.value) == f"number must be a positive int, got {number!r}"


def test_time_call_names_an_unknown_clock():
    with pytest.raises(ValueError) as err:
        time_call(lambda: None, clock="Wall")
    assert str(err.value) == "clock must be one of 'wall', 'cpu', 'process', got 'Wall'"


def _fake_benchmark(seen, fail=False):
    """A stand-in for torch.utils.benchmark that records the logger levels while it is imported."""
    module = types.ModuleType("torch.utils.benchmark")

    def __getattr__(name):
        if name != "Timer":
            raise AttributeError(name)
        seen.append((logging.getLogger("torch.utils.cpp_extension").level, logging.getLogger().level))
        if fail:
            raise ImportError("no benchmark here")
        return "the Timer class"

    module.__getattr__ = __getattr__
    return module


def test_the_benchmark_timer_is_imported_with_the_cpp_extension_warnings_silenced(monkeypatch):
    seen = []
    monkeypatch.setitem(sys.modules, "torch.utils.benchmark", _fake_benchmark(seen))
    logger, root = logging.getLogger("torch.utils.cpp_extension"), logging.getLogger()
    monkeypatch.setattr(logger, "level", logging.INFO)
    monkeypatch.setattr(root, "level", logging.WARNING)
    assert timing._benchmark_timer() == "the Timer class"
    assert seen == [(logging.ERROR, logging.WARNING)]  # only that logger, and only meanwhile
    assert (logger.level, root.level) == (logging.INFO, logging.WARNING)


def test_the_logger_level_comes_back_when_the_import_fails(monkeypatch):
    seen = []
    monkeypatch.setitem(sys.modules, "torch.utils.benchmark", _fake_benchmark(seen, fail=True))
    logger = logging.getLogger("torch.utils.cpp_extension")
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    with pytest.raises(ImportError):
        timing._benchmark_timer()
    assert seen == [(logging.ERROR, logging.getLogger().level)] and logger.level == logging.DEBUG


def test_the_real_benchmark_timer_is_torchs():
    from torch.utils.benchmark import Timer

    assert timing._benchmark_timer() is Timer
