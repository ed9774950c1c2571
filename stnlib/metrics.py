"""Metrics: what :func:`stnlib.train.train` and :func:`stnlib.train.evaluate` report.

A metric is a function ``metric(outputs, targets) -> float`` of a whole data
set's outputs (logits, N×K) and targets (N,), so that scores that are not
averages of per-batch scores (AUC, pooled pixel counts) are computed right.
The lessons add theirs here.

Example:
    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 4.0]])
    >>> labels = torch.tensor([0, 1, 1, 1])
    >>> error(logits, labels), accuracy(logits, labels)
    (25.0, 0.75)
"""

from __future__ import annotations

import torch

from . import _validate

__all__ = ["error", "accuracy", "predictions"]


def _check(outputs: torch.Tensor, targets: torch.Tensor) -> None:
    _validate.tensor(outputs, "outputs", ndim=2, layout="N×K logits")
    if not isinstance(targets, torch.Tensor) or targets.shape != outputs.shape[:1]:
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets must be N={outputs.shape[0]} class indices, got {shape}")
    if outputs.shape[0] == 0:
        raise ValueError("cannot score an empty set of outputs")


def predictions(outputs: torch.Tensor) -> torch.Tensor:
    """The predicted class of every row of N×K logits (N,)."""
    return outputs.argmax(1)


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is the target class, in [0, 1]."""
    _check(outputs, targets)
    return (predictions(outputs) == targets.to(outputs.device)).double().mean().item()


def error(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Classification error in %: 100 × the fraction of misclassified rows."""
    _check(outputs, targets)
    wrong = (predictions(outputs) != targets.to(outputs.device)).sum().item()
    return 100.0 * wrong / targets.numel()
