"""Timing: one stopwatch for stretches of work, and one micro-benchmark for a function.

Every figure in seconds that the library, the benchmarks and the lessons report
is taken here, so each one reads the same clocks the same way:

* :class:`Stopwatch`: a context manager that adds the time of each ``with``
  block to its total (``seconds``) and keeps every block's time (``laps``);
  for "seconds per epoch", "training time until the target", several sides
  of a comparison timed in alternation.
* :func:`time_call`: seconds per call of a function, averaged over ``number``
  calls after a warm-up, measured by :class:`torch.utils.benchmark.Timer`;
  for the cost of one training step.

The clocks (:data:`CLOCKS`): ``"wall"`` is elapsed time (what a user waits);
``"cpu"`` is this thread's CPU time, which a busy neighbour on a shared machine
disturbs far less (meaningful with one torch thread); ``"process"`` is the CPU
time of every thread of the process. On CUDA, work is queued and runs later,
so with a CUDA ``device`` the clock is read only after
``torch.cuda.synchronize`` (and should then be ``"wall"``: a CPU clock does not
count the GPU's work)::

    >>> import time
    >>> sw = Stopwatch()
    >>> with sw:
    ...     time.sleep(0.01)
    >>> with sw:
    ...     time.sleep(0.01)
    >>> len(sw.laps), sw.seconds >= 0.02
    (2, True)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch

#: the clocks a :class:`Stopwatch` and :func:`time_call` read, by name
CLOCKS: dict[str, Callable[[], float]] = {
    "wall": time.perf_counter,
    "cpu": time.thread_time,
    "process": time.process_time,
}


def _clock(clock: str) -> Callable[[], float]:
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(map(repr, CLOCKS))}, got {clock!r}")
    return CLOCKS[clock]


def _cuda(device) -> torch.device | None:
    """``device`` as a ``torch.device`` when it is a CUDA one, else ``None``."""
    if device is None:
        return None
    dev = torch.device(device)
    return dev if dev.type == "cuda" else None


def _benchmark_timer():
    """``torch.utils.benchmark.Timer``, imported without the warning "No CUDA runtime is found"
    that its import of ``torch.utils.cpp_extension`` logs on a machine with a CUDA toolkit and
    no GPU (it would land in a notebook's stored output)."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils.benchmark import Timer
    finally:
        logger.setLevel(level)
    return Timer


def synchronize(device=None) -> None:
    """Wait for the work queued on ``device`` when it is a CUDA device; nothing otherwise."""
    dev = _cuda(device)
    if dev is not None:
        torch.cuda.synchronize(dev)


class Stopwatch:
    """Adds up the time of ``with`` blocks on one clock.

    Args:
        clock: ``"wall"`` (default), ``"cpu"`` (this thread's CPU time) or
            ``"process"`` (all threads' CPU time), see :data:`CLOCKS`.
        device: with a CUDA device, queued GPU work is waited for before the
            clock is read at the start and at the end of every block.

    Attributes:
        seconds: the total of all finished blocks.
        laps: each finished block's seconds, in order.

    A stopwatch is reused by entering it again (its total grows); it cannot
    be entered while it runs (that would count the inner block twice), but
    two stopwatches may run at once, one inside the other, e.g. one on the
    wall clock and one on the CPU clock around the same work::

        >>> wall, cpu = Stopwatch("wall"), Stopwatch("cpu")
        >>> with wall, cpu:
        ...     _ = sum(range(10_000))
        >>> wall.laps[0] > 0 and cpu.laps[0] >= 0
        True

    :meth:`start` and :meth:`stop` do the same without a ``with`` block.
    """

    def __init__(self, clock: str = "wall", *, device=None):
        self.clock = clock
        self._read = _clock(clock)
        self.device = device
        self._cuda = _cuda(device)
        self.laps: list[float] = []
        self.seconds = 0.0
        self._started: float | None = None

    @property
    def running(self) -> bool:
        """Whether a block has started and not stopped."""
        return self._started is not None

    def start(self) -> Stopwatch:
        """Start a block (after waiting for queued CUDA work); returns the stopwatch."""
        if self._started is not None:
            raise RuntimeError("this Stopwatch is already running: stop it first, or use a second "
                               "Stopwatch for the inner block")
        if self._cuda is not None:
            torch.cuda.synchronize(self._cuda)
        self._started = self._read()
        return self

    def stop(self) -> float:
        """End the block (after waiting for queued CUDA work); returns its seconds."""
        if self._started is None:
            raise RuntimeError("this Stopwatch is not running: start() it (or enter it) first")
        if self._cuda is not None:
            torch.cuda.synchronize(self._cuda)
        lap = self._read() - self._started
        self._started = None
        self.laps.append(lap)
        self.seconds += lap
        return lap

    def __enter__(self) -> Stopwatch:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"Stopwatch({self.clock!r}, {len(self.laps)} lap(s), {self.seconds:.6g} s"
                f"{', running' if self.running else ''})")


def time_call(fn: Callable[[], object], *, number: int = 10, device=None, clock: str = "wall") -> float:
    """Seconds per call of ``fn()``: the mean of ``number`` calls, after a warm-up.

    Measured by :class:`torch.utils.benchmark.Timer` (``timeit``: ``max(2,
    number // 100)`` warm-up calls first, garbage collection paused while
    timing) at the current number of torch threads.

    Args:
        fn: the work, called without arguments.
        number: timed calls (≥ 1).
        device: with a CUDA device, queued GPU work is waited for before each
            reading of the clock.
        clock: ``"wall"``, ``"cpu"`` or ``"process"`` (:data:`CLOCKS`).

    Returns:
        Seconds per call (a float > 0).

    >>> time_call(lambda: sum(range(1000)), number=5) > 0
    True
    """
    timer_class = _benchmark_timer()
    if not callable(fn):
        raise TypeError(f"fn must be a function called without arguments, got {type(fn).__name__}")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValueError(f"number must be a positive int, got {number!r}")
    read, cuda = _clock(clock), _cuda(device)

    def timer() -> float:
        if cuda is not None:
            torch.cuda.synchronize(cuda)
        return read()

    t = timer_class(stmt="fn()", globals={"fn": fn}, timer=timer, num_threads=torch.get_num_threads())
    return t.timeit(number).mean
