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
    >>> auc(logits, labels)  # scores logit₁ − logit₀: 2 positives outrank the negative, 1 ties
    0.8333333333333334
"""

from __future__ import annotations

import torch

from . import _validate

__all__ = ["error", "accuracy", "predictions", "auc", "binary_scores"]


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


def binary_scores(outputs: torch.Tensor) -> torch.Tensor:
    """The score of class 1 for every row: ``logit₁ − logit₀`` of N×2 logits (a monotone function
    of the softmax probability of class 1, so it ranks the rows alike), or N scores as they are."""
    _validate.tensor(outputs, "outputs", ndim=(1, 2), layout="N scores or N×2 logits")
    if outputs.dim() == 1:
        return outputs
    if outputs.shape[1] != 2:
        raise ValueError(f"auc is for two classes: outputs must be N scores or N×2 logits, "
                         f"got shape {tuple(outputs.shape)}")
    return outputs[:, 1] - outputs[:, 0]


def auc(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Area under the ROC curve of a binary task, in [0, 1] (0.5: chance; Wang (2018), §5.2).

    The probability that a random positive (target 1) scores higher than a
    random negative (target 0), ties counting one half: the Mann-Whitney U
    statistic divided by n₊·n₋, computed from midranks (as scikit-learn's
    ``roc_auc_score``, which it equals). ``outputs``: N×2 logits (the score is
    ``logit₁ − logit₀``) or N scores; ``targets``: N labels in {0, 1}, both
    classes present.
    """
    scores = binary_scores(outputs).detach().double().cpu()
    if not isinstance(targets, torch.Tensor) or targets.shape != scores.shape:
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets must be N={scores.shape[0]} labels in {{0, 1}}, got {shape}")
    y = targets.detach().cpu()
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError(f"targets of auc must be 0 or 1, got values {sorted(set(y.tolist()))[:5]}")
    n_pos = int((y == 1).sum())
    n_neg = y.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"auc needs both classes among the targets, got {n_pos} positives and "
                         f"{n_neg} negatives")
    order = scores.argsort()
    sorted_scores = scores[order]
    ranks = torch.empty_like(scores)
    # midranks for ties: every member of a group of equal scores gets the group's mean rank
    _, inverse, counts = torch.unique_consecutive(sorted_scores, return_inverse=True,
                                                  return_counts=True)
    ends = counts.cumsum(0).double()
    mid = ends - (counts.double() - 1) / 2
    ranks[order] = mid[inverse]
    u = ranks[y == 1].sum().item() - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)
