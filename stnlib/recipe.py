"""A training recipe: everything :func:`stnlib.train.train` needs besides the model and the data.

A :class:`Recipe` holds the optimizer, the learning-rate schedule, the peak
learning rate, the batch size, the epochs and the learning-rate factors of
the localization nets, so that two models compared in a table are trained the
same way by construction, and a change of recipe is one visible line::

    >>> r = Recipe(epochs=2, lr=1e-3)
    >>> r.replace(loc_lr_scale=0.1).loc_lr_scale
    0.1

:meth:`Recipe.lr_scale` finds every :class:`~stnlib.localization.LocalizationNet`
inside a model, whatever the model calls it, and gives its body
``loc_lr_scale`` × the rate and its θ head ``head_lr_scale`` × the rate
(the last, zero-initialized layer, which regresses θ); a model without a
transformer gets one rate for everything. :meth:`Recipe.fit` trains with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from torch import nn

from .localization import LocalizationNet
from .train import OPTIMIZERS, SCHEDULES, History, train


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a model is trained.

    Attributes:
        epochs: passes over the training data (≥ 1).
        lr: the peak learning rate.
        batch_size: mini-batch size.
        optimizer: ``"adam"`` or ``"sgd"`` (see :data:`stnlib.train.OPTIMIZERS`).
        schedule: ``"onecycle"``, ``"constant"`` or ``"step"`` (:data:`stnlib.train.SCHEDULES`).
        momentum: SGD's momentum (Adam ignores it).
        weight_decay: the optimizer's L2 penalty.
        loc_lr_scale: the localization nets' learning rate, as a factor of ``lr``.
        head_lr_scale: the θ heads' factor; ``None``: the same as ``loc_lr_scale``.
    """

    epochs: int = 4
    lr: float = 3e-3
    batch_size: int = 64
    optimizer: str = "adam"
    schedule: str = "onecycle"
    momentum: float = 0.0
    weight_decay: float = 0.0
    loc_lr_scale: float = 1.0
    head_lr_scale: float | None = None

    def __post_init__(self):
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")
        for name in ("lr", "loc_lr_scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.head_lr_scale is not None and (
                isinstance(self.head_lr_scale, bool) or not isinstance(self.head_lr_scale, (int, float))
                or not self.head_lr_scale > 0):
            raise ValueError(f"head_lr_scale must be a positive number or None, got {self.head_lr_scale!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, "
                             f"got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(map(repr, SCHEDULES))}, "
                             f"got {self.schedule!r}")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")

    def replace(self, **changes: Any) -> Recipe:
        """A copy with ``changes`` (field names of :class:`Recipe`); unknown names are an error."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            verb = "is not a recipe field" if len(unknown) == 1 else "are not recipe fields"
            raise ValueError(f"{', '.join(map(repr, unknown))} {verb}; the fields are "
                             f"{', '.join(f.name for f in dataclasses.fields(self))}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for a results note or a cache key)."""
        return dataclasses.asdict(self)

    def lr_scale(self, model: nn.Module) -> dict[str, float] | None:
        """Learning-rate factors per parameter-name prefix for :func:`stnlib.train.train`.

        Every :class:`~stnlib.localization.LocalizationNet` in ``model`` gets
        ``loc_lr_scale`` for its body and ``head_lr_scale`` (default: the same)
        for its θ head; ``None`` when the model has no localization net, or
        when both factors are 1.

        Example:
            >>> from stnlib.models import build_model
            >>> Recipe(loc_lr_scale=0.1, head_lr_scale=10.0).lr_scale(build_model("ST-CNN Aff"))
            {'transformer.loc.0.head': 10.0, 'transformer.loc.0': 0.1}
        """
        head = self.loc_lr_scale if self.head_lr_scale is None else self.head_lr_scale
        nets = [(name, m) for name, m in model.named_modules() if isinstance(m, LocalizationNet)]
        if not nets or (head == 1 and self.loc_lr_scale == 1):
            return None
        scales: dict[str, float] = {}
        for name, net in nets:  # the head first: train() gives a parameter its first matching prefix
            prefix = f"{name}." if name else ""
            scales[f"{prefix}head"] = float(head)
            if any(True for _ in net.body.parameters()):  # a blind_body has no parameter to scale
                scales[name] = float(self.loc_lr_scale)
        return scales

    def fit(self, model: nn.Module, train_data, *, seed: int = 0, device=None, val_data=None,
            loss=None, metrics: Mapping | None = None, on_step=None, checkpoint=None,
            progress=True, desc: str = "train", max_seconds: float | None = None) -> History:
        """Train ``model`` on ``train_data`` with this recipe: :func:`stnlib.train.train`.

        Args:
            model: the model, already built (seed the RNGs before building it
                for reproducible initial weights).
            train_data: a ``Dataset`` or an ``(inputs, targets)`` pair.
            seed: seeds the batches' order.
            device, val_data, loss, metrics, on_step, checkpoint, progress, desc,
                max_seconds: as :func:`stnlib.train.train`.

        Returns:
            the :class:`~stnlib.train.History`, one row per epoch.
        """
        return train(model, train_data, epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                     device=device, seed=seed, val_data=val_data, weight_decay=self.weight_decay,
                     schedule=self.schedule, lr_scale=self.lr_scale(model), optimizer=self.optimizer,
                     momentum=self.momentum, loss=loss, metrics=metrics, on_step=on_step,
                     checkpoint=checkpoint, progress=progress, desc=desc, max_seconds=max_seconds)


__all__ = ["Recipe"]
