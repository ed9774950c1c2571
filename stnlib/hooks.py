"""Hooks for :func:`stnlib.train.train`: θ statistics during training, and a stop on collapse.

A model with a spatial transformer keeps the θ (and output V) of its last
forward pass in ``model.last_theta`` (``model.last_output``). Pass a
:class:`ThetaMonitor` as ``on_step`` and it summarizes them every ``every``
steps with :func:`stnlib.diagnostics.theta_stats`, keeps the rows for a plot,
and hands them to a :class:`~stnlib.diagnostics.CollapseDetector`, which
stops training with a :class:`~stnlib.diagnostics.ThetaCollapseError` that
says what degenerated::

    monitor = ThetaMonitor("affine", every=20)
    train(model, data, epochs=3, on_step=monitor)
    monitor.rows[-1]        # {'step': 460, 'epoch': 3, 'det_mean': 0.83, 'scale_mean': ...}
"""

from __future__ import annotations

from typing import Any

from . import _validate
from .diagnostics import CollapseDetector, theta_stats


class ThetaMonitor:
    """An ``on_step`` hook: θ statistics every ``every`` steps, collapse detection.

    Args:
        transform: the transformer's transform (``"affine"``, ``"projective"``,
            ``"tps"``, ...), or ``None`` to read ``model.transform_name``.
        every: check every this many optimizer steps (≥ 1).
        detector: a :class:`~stnlib.diagnostics.CollapseDetector`; ``None``
            builds the default one; ``False`` logs without ever stopping.
            Its ``patience`` counts *checks*, not steps.

    Attributes:
        rows: one dict per check: ``step``, ``epoch`` (1-based), ``loss`` and
            the statistics of :func:`~stnlib.diagnostics.theta_stats`.
    """

    def __init__(self, transform: str | None = None, *, every: int = 20,
                 detector: CollapseDetector | bool | None = None):
        _validate.size(every, "every", 1)
        self.transform = transform
        self.every = every
        if detector is None or detector is True:
            detector = CollapseDetector(patience=5)
        self.detector = detector or None
        self.rows: list[dict[str, Any]] = []

    def __call__(self, info) -> None:
        if info.step % self.every:
            return
        theta = getattr(info.model, "last_theta", None)
        if theta is None:
            raise ValueError(f"ThetaMonitor: {type(info.model).__name__} has no last_theta; the "
                             "monitor needs a model with a spatial transformer that keeps the θ "
                             "of its last forward pass (e.g. stnlib.models.STClassifier)")
        transform = self.transform or getattr(info.model, "transform_name", "affine")
        stats = theta_stats(theta, transform, output=getattr(info.model, "last_output", None))
        self.rows.append({"step": info.step, "epoch": info.epoch + 1, "loss": info.loss, **stats})
        if self.detector is not None:
            self.detector.update(stats)

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one statistic, for a plot."""
        if self.rows and key not in self.rows[0]:
            raise KeyError(f"no statistic {key!r}; there are {', '.join(self.rows[0])}")
        return [r["step"] for r in self.rows], [r[key] for r in self.rows]
