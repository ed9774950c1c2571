"""Compute budgets: how much every lesson trains, in one place.

Every notebook has a ``parameters`` cell with ``BUDGET``, ``SEED`` and
``DEVICE``; the lesson then asks this module what the budget means::

    b = budgets.get_budget(BUDGET, lesson="00")
    b.epochs, b.n_train, b.n_test, b.batch_size, b.seeds

========== ============================= ==========================================
budget     where                         promise
========== ============================= ==========================================
smoke      CI, 2 CPU cores               each notebook well under 2 minutes; proves
                                         the code paths, not the numbers
standard   a student's laptop CPU        each notebook under about 15 minutes;
                                         numbers close enough to teach from
full       one GPU                       the paper's protocol as far as it is known,
                                         several seeds
========== ============================= ==========================================

When a notebook does not set ``BUDGET``, :func:`resolve_budget` reads the
environment variable ``STN_BUDGET``; when that is unset too, it picks
``full`` on a machine with a CUDA GPU and ``standard`` otherwise. nbval,
papermill and JupyterLab therefore run the same notebook at the budget the
environment asks for.

A lesson that needs other numbers than the defaults adds them to
:data:`LESSON_OVERRIDES` (and only there), e.g. fewer training images in
``smoke`` or more epochs in ``full``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from . import _validate

#: the environment variables this module reads
BUDGET_ENV = "STN_BUDGET"
DEVICE_ENV = "STN_DEVICE"

BUDGET_NAMES = ("smoke", "standard", "full")


@dataclasses.dataclass(frozen=True)
class Budget:
    """What one budget means for one lesson.

    Attributes:
        name: ``"smoke"``, ``"standard"`` or ``"full"``.
        epochs: training epochs per model.
        n_train: training images (``None``: the whole training split).
        n_test: test images (``None``: the whole test split).
        batch_size: mini-batch size for training and evaluation.
        seeds: the seeds each experiment is repeated with; results are
            reported as mean (± std when there are several).
        lr: peak learning rate of the one-cycle schedule.
        cell_timeout: seconds ``stn-course run`` allows one notebook cell: a net for
            hung cells, generous so that a slow or busy machine still finishes.
        extra: lesson-specific knobs (see :data:`LESSON_OVERRIDES`).
    """

    name: str
    epochs: int
    n_train: int | None
    n_test: int | None
    batch_size: int
    seeds: tuple[int, ...]
    lr: float = 3e-3
    cell_timeout: int = 600
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """``budget["key"]``: a field or a lesson-specific knob from ``extra``."""
        if key in self.extra:
            return self.extra[key]
        if key in {f.name for f in dataclasses.fields(self)}:
            return getattr(self, key)
        raise KeyError(f"budget {self.name!r} has no setting {key!r}; "
                       f"known: {', '.join(sorted(self.as_dict()))}")

    def as_dict(self) -> dict[str, Any]:
        """All settings as one flat dict (``extra`` merged in), for printing and results."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        d.update(self.extra)
        return d


#: the defaults every lesson starts from
BUDGETS: dict[str, Budget] = {
    "smoke": Budget("smoke", epochs=1, n_train=1024, n_test=512, batch_size=64, seeds=(0,),
                    cell_timeout=600),
    "standard": Budget("standard", epochs=4, n_train=None, n_test=None, batch_size=64, seeds=(0,),
                       cell_timeout=4 * 3600),
    "full": Budget("full", epochs=30, n_train=None, n_test=None, batch_size=128, seeds=(0, 1, 2),
                   lr=2e-3, cell_timeout=24 * 3600),
}

#: per lesson, per budget: settings that differ from :data:`BUDGETS`
#: (a key that is not a :class:`Budget` field lands in ``Budget.extra``)
LESSON_OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    # lesson 00: ST-CNN vs CNN on RTS MNIST. standard = the calibration in
    # COURSE.md (4 epochs of the 60k digits: about 4 % vs 1.4 % test error).
    "00": {},
}


def resolve_budget(budget: str | None = None) -> str:
    """The budget name to use: ``budget`` if given, else ``$STN_BUDGET``, else by hardware.

    Without either, ``full`` when a CUDA GPU is present and ``standard`` otherwise.
    """
    if budget is not None and budget != "":
        return _validate.choice(budget, "budget", BUDGET_NAMES)
    env = os.environ.get(BUDGET_ENV, "").strip()
    if env:
        if env not in BUDGET_NAMES:
            raise ValueError(f"environment variable {BUDGET_ENV}={env!r} is not a budget; "
                             f"expected one of {', '.join(map(repr, BUDGET_NAMES))}")
        return env
    import torch

    return "full" if torch.cuda.is_available() else "standard"


def get_budget(budget: str | Budget | None = None, *, lesson: str | None = None) -> Budget:
    """The :class:`Budget` for ``budget`` (resolved by :func:`resolve_budget`) and ``lesson``.

    ``lesson`` is the two-digit lesson number (``"00"``); its entries in
    :data:`LESSON_OVERRIDES` replace the defaults.
    """
    if isinstance(budget, Budget):
        return budget
    name = resolve_budget(budget)
    base = BUDGETS[name]
    if lesson is None:
        return base
    overrides = dict(LESSON_OVERRIDES.get(str(lesson), {}).get(name, {}))
    fields = {f.name for f in dataclasses.fields(Budget)}
    known = {k: overrides.pop(k) for k in list(overrides) if k in fields}
    if "seeds" in known:
        known["seeds"] = tuple(known["seeds"])
    return dataclasses.replace(base, **known, extra={**base.extra, **overrides})


def default_device() -> str:
    """``$STN_DEVICE`` if set, else ``"cuda"`` when a GPU is present, else ``"cpu"``."""
    env = os.environ.get(DEVICE_ENV, "").strip()
    if env:
        return env
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device: str | None = None):
    """``device`` as a ``torch.device``; ``None``, ``""`` or ``"auto"``: :func:`default_device`.

    Raises a clear error for a device this machine does not have (``cuda``
    without a GPU), instead of PyTorch's failure at the first tensor moved.
    """
    import torch

    if device is None or device == "" or device == "auto":
        device = default_device()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto', "
                         f"got {device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but PyTorch sees no CUDA GPU here; "
                         "use device='cpu' (or leave DEVICE empty to choose automatically)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was asked for, but MPS is not available here")
    return dev
