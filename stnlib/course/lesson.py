"""Start a lesson: resolve its budget and device, seed every random generator.

In a notebook (the companion module ``stnlib.lessons.lNN_*`` passes the lesson's budget
table)::

    from stnlib.lessons import l03_distorted_mnist as L
    ctx = L.start(BUDGET, SEED, DEVICE)
    ctx.budget.epochs, ctx.budget.settings, ctx.device, ctx.progress
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from ..device import resolve_device
from ..train import seed_everything
from . import budgets

#: ``"log"``: training prints one line per epoch instead of drawing progress bars
#: (set by ``stn-course run`` and the tests, so stored outputs stay small and clean)
PROGRESS_ENV = "STN_PROGRESS"


def progress_mode() -> str:
    """How the course's training shows its progress: ``"log"`` when ``$STN_PROGRESS=log``,
    else ``"bar"``; pass it on as ``stnlib.train.train(progress=...)``."""
    return "log" if os.environ.get(PROGRESS_ENV, "").strip() == "log" else "bar"


@dataclasses.dataclass(frozen=True)
class LessonContext:
    """What :func:`start_lesson` decided: lesson, budget, seed, device and how training shows
    its progress (``progress``: ``"bar"`` or ``"log"``, see :func:`progress_mode`)."""

    lesson: str
    budget: budgets.Budget
    seed: int
    device: Any  # torch.device
    progress: str = "bar"


_current: LessonContext | None = None


def lesson_id(lesson) -> str:
    """``"03"`` for ``3``, ``"3"`` or ``"03"``; a clear error for anything else."""
    text = str(lesson).strip()
    if not text.isdigit() or len(text) > 2:
        raise ValueError(f"lesson must be a lesson number such as '00' or 3, got {lesson!r}")
    return text.zfill(2)


def start_lesson(lesson: str | int, *, budget: str | None = None, seed: int = 0,
                 device: str | None = None,
                 changes: Mapping[str, Mapping[str, Any]] | None = None,
                 settings: Mapping[str, Any] | None = None,
                 verbose: bool = True) -> LessonContext:
    """Set a lesson up: resolve budget and device, seed every RNG, remember it for ``record``.

    Args:
        lesson: the lesson number, ``"00"``.
        budget: ``"smoke"``, ``"standard"``, ``"full"`` or ``None`` (see
            :func:`stnlib.course.budgets.resolve_budget`).
        seed: seeds Python, NumPy and PyTorch.
        device: ``"cpu"``, ``"cuda"``... or ``None`` for the default device.
        changes, settings: the lesson's budget table (see
            :func:`stnlib.course.budgets.get_budget`).
    """
    global _current
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    lesson = lesson_id(lesson)
    ctx = LessonContext(lesson, budgets.get_budget(budget, changes=changes, settings=settings),
                        seed, resolve_device(device), progress_mode())
    seed_everything(seed)
    _current = ctx
    if verbose:
        print(f"lesson {lesson} · budget {ctx.budget.name} · device {ctx.device} · seed {seed}")
    return ctx


def current_lesson() -> LessonContext | None:
    """The context of the last :func:`start_lesson` call in this process, if any."""
    return _current
