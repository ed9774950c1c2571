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

A lesson that needs other numbers than the defaults says so in its
companion module (``stnlib.lessons.lNN_*``), and only there: a dict
``BUDGET_CHANGES`` of the :class:`Budget` fields it changes per budget, and
``SETTINGS``, one frozen dataclass of its own knobs per budget, which the
lesson reads as ``budget.settings``::

    ctx = course.start_lesson("03", budget=BUDGET, changes=BUDGET_CHANGES, settings=SETTINGS)
    ctx.budget.epochs, ctx.budget.settings.table1
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from .. import _validate

#: the environment variable this module reads
BUDGET_ENV = "STN_BUDGET"

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
        settings: the lesson's own knobs (a frozen dataclass of its companion
            module), or ``None`` for a lesson that has none.
    """

    name: str
    epochs: int
    n_train: int | None
    n_test: int | None
    batch_size: int
    seeds: tuple[int, ...]
    lr: float = 3e-3
    cell_timeout: int = 600
    settings: Any = None

    def recipe(self, **changes: Any):
        """This budget's training recipe (epochs, lr, batch size; Adam, one-cycle), with ``changes``.

        A lesson says only how its recipe differs: ``budget.recipe(loc_lr_scale=0.1)``.
        Returns a :class:`stnlib.recipe.Recipe`.

        Example:
            >>> get_budget("smoke").recipe(optimizer="sgd", momentum=0.9).optimizer
            'sgd'
        """
        from ..recipe import Recipe

        return Recipe(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size).replace(**changes)

    def as_dict(self) -> dict[str, Any]:
        """Every field as one flat dict (the lesson's settings merged in), for printing."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
             if f.name != "settings"}
        if dataclasses.is_dataclass(self.settings):
            d.update(dataclasses.asdict(self.settings))
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

_FIELDS = frozenset(f.name for f in dataclasses.fields(Budget)) - {"name", "settings"}


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


def get_budget(budget: str | Budget | None = None, *,
               changes: Mapping[str, Mapping[str, Any]] | None = None,
               settings: Mapping[str, Any] | None = None) -> Budget:
    """The :class:`Budget` for ``budget`` (resolved by :func:`resolve_budget`).

    Args:
        budget: a name, ``None`` (see :func:`resolve_budget`) or a ready :class:`Budget`.
        changes: a lesson's ``BUDGET_CHANGES``: per budget name, the fields of
            :class:`Budget` that differ from :data:`BUDGETS` (``{"smoke": {"n_train": 256}}``).
        settings: a lesson's ``SETTINGS``: per budget name, its own knobs
            (one object, usually a frozen dataclass), stored as ``Budget.settings``.

    Example:
        >>> get_budget("smoke", changes={"smoke": {"epochs": 2}}).epochs
        2
    """
    if isinstance(budget, Budget):
        return budget
    name = resolve_budget(budget)
    own = dict((changes or {}).get(name, {}))
    unknown = sorted(set(own) - _FIELDS)
    if unknown:
        raise ValueError(f"changes[{name!r}] names {', '.join(map(repr, unknown))}, which are not "
                         f"budget fields ({', '.join(sorted(_FIELDS))}); a lesson's own knobs "
                         "belong in its SETTINGS")
    if "seeds" in own:
        own["seeds"] = tuple(own["seeds"])
    lesson_settings = None
    if settings is not None:
        if name not in settings:
            raise ValueError(f"settings has no entry for budget {name!r}; "
                             f"it has {', '.join(map(repr, settings))}")
        lesson_settings = settings[name]
    return dataclasses.replace(BUDGETS[name], **own, settings=lesson_settings)


