"""Metrics: what :func:`stnlib.train.train` and :func:`stnlib.train.evaluate` report.

A metric is a function ``metric(outputs, targets) -> float`` of a whole data
set's outputs (logits, N×K) and targets (N,), so that scores that are not
averages of per-batch scores (AUC, pooled pixel counts) are computed right.
The lessons add theirs here.

Segmentation (lesson 08) is scored as KITTI road's devkit does (Fritsch, Kühnl & Geiger 2013):
the pixel counts TP, FP, FN, TN are *pooled over all images* of a split, then turned into
precision, recall, false-positive rate and F1 (not a mean of per-image scores); MaxF is the
best F1 over thresholds of the road probability (:func:`max_f`), where the threshold should be
chosen on a validation split and then applied to the test split.

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

import math

import torch

from . import _validate

__all__ = ["error", "accuracy", "dtw_distances", "one_nn_error", "predictions", "auc", "binary_scores",
           "road_probability",
           "pixel_counts", "image_counts", "pooled_f1", "scores_from_counts", "segmentation_scores",
           "precision", "recall",
           "fpr", "f1", "SEGMENTATION_METRICS", "KITTI_THRESHOLDS", "counts_over_thresholds",
           "max_f"]


def _check(outputs: torch.Tensor, targets: torch.Tensor) -> None:
    _validate.tensor(outputs, "outputs", ndim=2, layout="N×K logits")
    if not isinstance(targets, torch.Tensor) or targets.shape != outputs.shape[:1]:
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets must be N={outputs.shape[0]} class indices, got {shape}")
    if outputs.shape[0] == 0:
        raise ValueError("cannot score an empty set of outputs")


def predictions(outputs: torch.Tensor) -> torch.Tensor:
    """The predicted class of every row of N×K logits (N,).

    ``outputs``: N×K logits (or probabilities); ties go to the first class.
    """
    return outputs.argmax(1)


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is the target class, in [0, 1].

    ``outputs``: N×K logits (or scores); ``targets``: int64 N class indices in 0..K-1.
    """
    _check(outputs, targets)
    return (predictions(outputs) == targets.to(outputs.device)).double().mean().item()


def error(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The classification error in %: 100 × the fraction of misclassified rows.

    ``outputs``: N×K logits (or scores); ``targets``: int64 N class indices in 0..K-1.
    """
    _check(outputs, targets)
    wrong = (predictions(outputs) != targets.to(outputs.device)).sum().item()
    return 100.0 * wrong / targets.numel()


def binary_scores(outputs: torch.Tensor) -> torch.Tensor:
    """The score of class 1 for every row: ``logit₁ − logit₀`` of N×2 logits (a monotone function
    of the softmax probability of class 1, so it ranks the rows alike), or N scores as they are.

    ``outputs``: N×2 logits or N scores.
    """
    _validate.tensor(outputs, "outputs", ndim=(1, 2), layout="N scores or N×2 logits")
    if outputs.dim() == 1:
        return outputs
    if outputs.shape[1] != 2:
        raise ValueError(f"auc is for two classes: outputs must be N scores or N×2 logits, "
                         f"got shape {tuple(outputs.shape)}")
    return outputs[:, 1] - outputs[:, 0]


def auc(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The area under the ROC curve of a binary task, in [0, 1] (0.5: chance; Wang (2018), §5.2).

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


# --------------------------------------------------------------------------------------
# Segmentation: pooled pixel counts, as KITTI road's devkit scores
# --------------------------------------------------------------------------------------

#: the devkit's thresholds of the road probability: k / 255, k = 0 … 255
KITTI_THRESHOLDS = torch.arange(256, dtype=torch.float64) / 255


def road_probability(outputs: torch.Tensor) -> torch.Tensor:
    """The probability of class 1 (road) per pixel: softmax of N×2×H×W logits, or N×H×W
    probabilities (in [0, 1]) as they are. Returns N×H×W.

    ``outputs``: N×2×H×W logits, or N×H×W probabilities.
    """
    _validate.tensor(outputs, "outputs", ndim=(3, 4),
                     layout="N×2×H×W logits or N×H×W road probabilities")
    if outputs.dim() == 3:
        if bool(((outputs < 0) | (outputs > 1)).any()):
            raise ValueError("N×H×W outputs are road probabilities and must lie in [0, 1]; "
                             "pass N×2×H×W logits to have them turned into probabilities")
        return outputs
    if outputs.shape[1] != 2:
        raise ValueError(f"segmentation scores are for two classes: outputs must be N×2×H×W "
                         f"logits, got shape {tuple(outputs.shape)}")
    return outputs.detach().float().softmax(1)[:, 1]


def _masks(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = road_probability(outputs)
    if not isinstance(targets, torch.Tensor) or targets.shape != p.shape:
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets must be N×H×W = {tuple(p.shape)} masks (1 road, 0 not), "
                         f"got {shape}")
    if p.numel() == 0:
        raise ValueError("cannot score an empty set of outputs")
    y = targets.detach().to(p.device)
    if y.is_floating_point() or not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("targets must be integer masks with values 0 (not road) and 1 (road)")
    return p, y.bool()


def pixel_counts(outputs: torch.Tensor, targets: torch.Tensor, *,
                 threshold: float = 0.5) -> dict[str, int]:
    """The TP, FP, FN, TN pixel counts pooled over every image.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not). ``threshold``: the road probability from which a pixel counts as predicted road.

    A pixel is predicted road where its road probability (:func:`road_probability`) is
    ``>= threshold`` (the devkit's convention). Returns ``{"tp", "fp", "fn", "tn"}`` (ints).

    Example:
        >>> probs = torch.tensor([[[0.9, 0.2], [0.6, 0.1]]])   # one 2×2 image
        >>> masks = torch.tensor([[[1, 1], [0, 0]]])
        >>> pixel_counts(probs, masks)
        {'tp': 1, 'fp': 1, 'fn': 1, 'tn': 1}
    """
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a road probability in [0, 1], got {threshold!r}")
    p, y = _masks(outputs, targets)
    pred = p.double() >= threshold  # in float64, as counts_over_thresholds and max_f compare
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    return {"tp": tp, "fp": fp, "fn": fn, "tn": y.numel() - tp - fp - fn}


def image_counts(outputs: torch.Tensor, targets: torch.Tensor, *,
                 threshold: float = 0.5) -> torch.Tensor:
    """The TP, FP, FN, TN pixel counts of every image: an N×4 int64 tensor.

    The same rule as :func:`pixel_counts` (whose counts are these summed over the images), kept
    per image so that a split can be resampled by images: a bootstrap over test scenes sums the
    rows of a resampled index and scores the pooled counts (:func:`pooled_f1`).

    Args:
        outputs: N×2×H×W logits or N×H×W road probabilities.
        targets: N×H×W integer masks (1 road, 0 not).
        threshold: the road probability from which a pixel counts as predicted road (>=).

    Returns:
        N×4 (TP, FP, FN, TN per image), int64, on the CPU.

    Example:
        >>> probs = torch.tensor([[[0.9, 0.2], [0.6, 0.1]], [[0.9, 0.9], [0.9, 0.9]]])  # two 2×2 images
        >>> masks = torch.tensor([[[1, 1], [0, 0]], [[1, 1], [1, 1]]])
        >>> image_counts(probs, masks).tolist()
        [[1, 1, 1, 1], [4, 0, 0, 0]]
    """
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a road probability in [0, 1], got {threshold!r}")
    p, y = _masks(outputs, targets)
    pred = (p.double() >= threshold).flatten(1)
    y = y.flatten(1)
    tp, fp, fn = (pred & y).sum(1), (pred & ~y).sum(1), (~pred & y).sum(1)
    return torch.stack([tp, fp, fn, y.shape[1] - tp - fp - fn], 1).long().cpu()


def pooled_f1(counts: torch.Tensor) -> float:
    """F1 in % of the counts of :func:`image_counts` pooled over their rows (images).

    Args:
        counts: K×4 (TP, FP, FN, TN per image), e.g. a resampled subset of :func:`image_counts`.

    Returns:
        2TP / (2TP + FP + FN) in %, from the summed rows; 0 when there is no road in either
        prediction or label (TP + FP + FN = 0).

    Example:
        >>> pooled_f1(torch.tensor([[1, 1, 1, 1], [4, 0, 0, 0]]))
        83.33333333333333
    """
    _validate.tensor(counts, "counts", ndim=2, layout="K×4 (TP, FP, FN, TN per image)", floating=False)
    if counts.shape[1] != 4:
        raise ValueError(f"counts must be K×4 (TP, FP, FN, TN per image), got shape {tuple(counts.shape)}")
    tp, fp, fn = (float(v) for v in counts[:, :3].sum(0).tolist())
    denominator = 2 * tp + fp + fn
    return 0.0 if denominator == 0 else 200 * tp / denominator


def scores_from_counts(tp, fp, fn, tn) -> dict[str, float]:
    """The precision, recall, false-positive rate and F1 in % from pooled pixel counts.

    ``tp``, ``fp``, ``fn``, ``tn``: the true / false positive and false / true negative pixel
    counts. Returns ``{"precision", "recall", "fpr", "f1"}``.

    precision = TP / (TP + FP), recall = TP / (TP + FN), FPR = FP / (FP + TN),
    F1 = 2 TP / (2 TP + FP + FN) (the harmonic mean of precision and recall). A score whose
    denominator is 0 is 0 (scikit-learn's ``zero_division=0``). Counts may be numbers or
    tensors of equal shape (one entry per threshold); the scores then are tensors too.
    """
    def ratio(a, b):
        if isinstance(b, torch.Tensor):
            return torch.where(b > 0, 100.0 * a / b.clamp_min(1), torch.zeros_like(b, dtype=torch.float64))
        return 100.0 * a / b if b > 0 else 0.0

    for name, v in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn)):
        if (v < 0).any() if isinstance(v, torch.Tensor) else v < 0:
            raise ValueError(f"{name} is a pixel count and must be >= 0, got {v!r}")
    tensors = any(isinstance(v, torch.Tensor) for v in (tp, fp, fn, tn))
    if tensors:
        tp, fp, fn, tn = (torch.as_tensor(v, dtype=torch.float64) for v in (tp, fp, fn, tn))
    return {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn),
            "fpr": ratio(fp, fp + tn), "f1": ratio(2 * tp, 2 * tp + fp + fn)}


def segmentation_scores(outputs: torch.Tensor, targets: torch.Tensor, *,
                        threshold: float = 0.5) -> dict[str, float]:
    """The precision, recall, FPR and F1 in % of the pooled counts (:func:`pixel_counts`).

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not).
    ``threshold``: the road probability from which a pixel counts as predicted road.
    Returns ``{"precision", "recall", "fpr", "f1"}`` (floats).
    """
    return scores_from_counts(**pixel_counts(outputs, targets, threshold=threshold))


def precision(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The pooled pixel precision in %, road probability thresholded at 0.5.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not).
    """
    return segmentation_scores(outputs, targets)["precision"]


def recall(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The pooled pixel recall in %, road probability thresholded at 0.5.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not).
    """
    return segmentation_scores(outputs, targets)["recall"]


def fpr(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The pooled pixel false-positive rate in %, road probability thresholded at 0.5.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not).
    """
    return segmentation_scores(outputs, targets)["fpr"]


def f1(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The pooled pixel F1 in %, road probability thresholded at 0.5.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not).
    """
    return segmentation_scores(outputs, targets)["f1"]


#: the metrics :func:`stnlib.train.train` reports for a road segmentation
SEGMENTATION_METRICS = {"f1": f1, "precision": precision, "recall": recall, "fpr": fpr}


def counts_over_thresholds(outputs: torch.Tensor, targets: torch.Tensor,
                           thresholds: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Pooled TP, FP, FN, TN at every threshold (default :data:`KITTI_THRESHOLDS`) at once.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not). ``thresholds``: T increasing probabilities.

    Returns ``{"thresholds", "tp", "fp", "fn", "tn"}``, tensors of T entries; entry j counts
    a pixel as predicted road where its probability is ``>= thresholds[j]``, as
    :func:`pixel_counts` does.
    """
    t = KITTI_THRESHOLDS if thresholds is None else torch.as_tensor(thresholds, dtype=torch.float64)
    if t.dim() != 1 or t.numel() == 0 or bool((t[1:] <= t[:-1]).any()):
        raise ValueError("thresholds must be a non-empty 1-D increasing sequence of probabilities")
    p, y = _masks(outputs, targets)
    p = p.double().cpu().flatten()
    y = y.cpu().flatten()
    # index i = how many thresholds are <= p: the pixel is predicted road at thresholds 0 … i-1
    idx = torch.searchsorted(t, p, right=True)
    T = t.numel()

    def above(mask):
        c = torch.bincount(idx[mask], minlength=T + 1)
        return c.sum() - c.cumsum(0)[:T]  # pixels with index > j

    tp, fp = above(y), above(~y)
    n_pos, n_neg = int(y.sum()), y.numel() - int(y.sum())
    return {"thresholds": t, "tp": tp, "fp": fp, "fn": n_pos - tp, "tn": n_neg - fp}


def max_f(outputs: torch.Tensor, targets: torch.Tensor,
          thresholds: torch.Tensor | None = None) -> tuple[float, float]:
    """``(MaxF in %, its threshold)``: the best pooled F1 over ``thresholds`` (default the
    devkit's k / 255). Choose the threshold on a validation split and score the test split
    at it with :func:`segmentation_scores`; the smallest best threshold wins a tie.

    ``outputs``: N×2×H×W logits or N×H×W road probabilities; ``targets``: N×H×W integer masks
    (1 road, 0 not). ``thresholds``: T increasing probabilities.
    """
    c = counts_over_thresholds(outputs, targets, thresholds)
    f = scores_from_counts(c["tp"], c["fp"], c["fn"], c["tn"])["f1"]
    j = int(torch.argmax(f))
    return float(f[j]), float(c["thresholds"][j])


# --------------------------------------------------------------------------- time-series baselines


def dtw_distances(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Unconstrained dynamic time warping distances between every row of A (n×L) and B (m×L').

    D[i, j] = (a_i − b_j)² + min(D[i−1, j], D[i, j−1], D[i−1, j−1]), returned as √D[L, L']
    (n×m), with no warping window: the classic DTW of ``pyts.metrics.dtw`` (squared
    differences), for every pair at once, one loop over both time axes.

    Args:
        A: n×L series, one per row.
        B: m×L' series.

    Returns:
        n×m distances (float64).

    Example:
        >>> a = torch.tensor([[0.0, 1, 2, 1, 0]])
        >>> dtw_distances(a, a.roll(1, 1)).item()   # one step late: only the wrapped-around end costs
        1.0
    """
    if A.dim() != 2 or B.dim() != 2:
        raise ValueError(f"A and B must be n×L and m×L' (one series per row), got shapes "
                         f"{tuple(A.shape)} and {tuple(B.shape)}")
    A, B = A.double(), B.double()
    n, L = A.shape
    m, M = B.shape
    inf = torch.full((n, m), math.inf, dtype=torch.float64)
    prev = [torch.zeros(n, m, dtype=torch.float64)] + [inf] * M  # row 0: D[0, 0] = 0
    for i in range(L):
        cost = (A[:, i, None, None] - B[None]) ** 2  # n×m×M
        cur = [inf]
        for j in range(M):
            best = torch.minimum(torch.minimum(prev[j + 1], prev[j]), cur[j])
            cur.append(cost[:, :, j] + best)
        prev = cur
    return prev[M].sqrt()


def one_nn_error(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                 test_y: torch.Tensor, *, distance: str = "euclidean") -> float:
    """Test error (a fraction, as the UCR archive reports it) of the 1-nearest-neighbour classifier.

    Args:
        train_x, test_x: series N×1×L (or N×L).
        train_y, test_y: their class indices (N).
        distance: ``"euclidean"`` or ``"dtw"`` (:func:`dtw_distances`).

    Returns:
        the fraction of test series whose nearest training series has another label;
        ties go to the first training series, as ``argmin`` does.
    """
    if distance not in ("euclidean", "dtw"):
        raise ValueError(f"distance must be 'euclidean' or 'dtw', got {distance!r}")
    a, b = train_x.reshape(len(train_x), -1), test_x.reshape(len(test_x), -1)
    d = torch.cdist(b.double(), a.double()) if distance == "euclidean" else dtw_distances(b, a)
    predicted = train_y[d.argmin(1)]
    return (predicted != test_y).double().mean().item()
