"""stnlib.metrics, behaviour the first tests left open (issue 25's mutation run): the edges of every
range check (a probability of exactly 0, thresholds 0 and 1, one positive for the AUC), the float64
results of tensor counts, the single-pixel denominators, recall and FPR by hand, and the full text of
each error (it names the argument, the expected layout and what came)."""

import re

import pytest
import torch

from stnlib import metrics

L = torch.long


def _raises(message, exc=ValueError):
    """pytest.raises for exactly this message (not a part of it)."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def test_recall_and_fpr_by_hand_on_pooled_counts():
    # 2 images: TP 3, FP 1, FN 2, TN 4 pooled
    p = torch.tensor([[[0.9, 0.8, 0.6, 0.7, 0.1]], [[0.2, 0.3, 0.1, 0.4, 0.0]]])
    y = torch.tensor([[[1, 1, 1, 0, 0]], [[1, 1, 0, 0, 0]]])
    assert metrics.pixel_counts(p, y) == {"tp": 3, "fp": 1, "fn": 2, "tn": 4}
    assert metrics.recall(p, y) == pytest.approx(60.0)
    assert metrics.fpr(p, y) == pytest.approx(20.0)
    assert metrics.precision(p, y) == pytest.approx(75.0)
    assert metrics.f1(p, y) == pytest.approx(600 / 9)
    # recall and FPR swap roles when the masks are inverted and the probabilities mirrored
    assert metrics.recall(1 - p, 1 - y) == pytest.approx(100 * 4 / 5)


def test_scores_of_tensor_counts_are_float64_and_exact_at_a_denominator_of_one():
    # TP 1, FP 0: precision 100, not 0 (denominator 1 is > 0) nor 50 (denominator clamped to 2)
    s = metrics.scores_from_counts(torch.tensor([1, 1]), torch.tensor([0, 2]), torch.tensor([0, 1]),
                                   torch.tensor([1, 0]))
    for v in s.values():
        assert v.dtype == torch.float64
    assert s["precision"].tolist() == [100.0, 100 / 3]
    assert s["recall"].tolist() == [100.0, 50.0]
    assert s["fpr"].tolist() == [0.0, 100.0]
    assert s["f1"].tolist() == [100.0, 200 / 5]
    # integer counts give float64 scores equal to the plain-number ones
    plain = metrics.scores_from_counts(1, 2, 1, 0)
    assert {k: v[1].item() for k, v in s.items()} == plain


def test_the_ranges_include_their_ends():
    y = torch.tensor([[[1, 0]]])
    # a road probability of exactly 0 (or 1) is a probability
    assert metrics.pixel_counts(torch.tensor([[[1.0, 0.0]]]), y) == {"tp": 1, "fp": 0, "fn": 0, "tn": 1}
    p = torch.tensor([[[0.3, 0.0]]])
    # threshold 0: every pixel is road; threshold 1: only probability 1 is
    assert metrics.image_counts(p, y, threshold=0).tolist() == [[1, 1, 0, 0]]
    assert metrics.image_counts(torch.tensor([[[1.0, 0.9]]]), y, threshold=1.0).tolist() == [[1, 0, 0, 1]]
    assert metrics.pixel_counts(p, y, threshold=0.0) == {"tp": 1, "fp": 1, "fn": 0, "tn": 0}
    # one positive is enough for the AUC
    assert metrics.auc(torch.tensor([0.9, 0.1, 0.5]), torch.tensor([1, 0, 0])) == 1.0
    assert metrics.auc(torch.tensor([0.2, 0.1, 0.5]), torch.tensor([1, 0, 0])) == 0.5


def test_thresholds_must_be_strictly_increasing_and_one_dimensional():
    p, y = torch.rand(1, 2, 2), torch.zeros(1, 2, 2, dtype=L)
    message = "thresholds must be a non-empty 1-D increasing sequence of probabilities"
    for bad in ([0.5, 0.5], [0.2, 0.5, 0.3], [[0.2, 0.5]], []):
        with _raises(message):
            metrics.counts_over_thresholds(p, y, bad)


def test_classification_errors_name_the_argument_and_what_came():
    with _raises("outputs must be a 2-D tensor N×K logits, got shape (2,)"):
        metrics.error(torch.zeros(2), torch.zeros(2, dtype=L))
    with _raises("targets must be N=2 class indices, got list"):
        metrics.error(torch.zeros(2, 3), [0, 1])
    with _raises("targets must be N=2 class indices, got (3,)"):
        metrics.accuracy(torch.zeros(2, 3), torch.zeros(3, dtype=L))
    with _raises("cannot score an empty set of outputs"):
        metrics.error(torch.zeros(0, 3), torch.zeros(0, dtype=L))
    with _raises("outputs must be a 1-D or 2-D tensor N scores or N×2 logits, got shape (2, 2, 2)"):
        metrics.auc(torch.zeros(2, 2, 2), torch.zeros(2, dtype=L))
    with _raises("targets must be N=3 labels in {0, 1}, got list"):
        metrics.auc(torch.zeros(3), [0, 1, 0])
    with _raises("targets must be N=3 labels in {0, 1}, got (2,)"):
        metrics.auc(torch.zeros(3), torch.tensor([0, 1]))
    with _raises("targets of auc must be 0 or 1, got values [0, 1, 2, 3, 4]"):  # the first five
        metrics.auc(torch.rand(8), torch.arange(8))


def test_segmentation_errors_name_the_argument_and_what_came():
    with _raises("outputs must be a 3-D or 4-D tensor N×2×H×W logits or N×H×W road probabilities, "
                 "got shape (2, 2)"):
        metrics.f1(torch.zeros(2, 2), torch.zeros(2, 2, dtype=L))
    with _raises("targets must be N×H×W = (1, 2, 2) masks (1 road, 0 not), got list"):
        metrics.f1(torch.zeros(1, 2, 2), [[0]])
    with _raises("targets must be N×H×W = (1, 2, 2) masks (1 road, 0 not), got (1, 2)"):
        metrics.f1(torch.zeros(1, 2, 2), torch.zeros(1, 2, dtype=L))
    with _raises("N×H×W outputs are road probabilities and must lie in [0, 1]; pass N×2×H×W logits "
                 "to have them turned into probabilities"):
        metrics.f1(torch.full((1, 2, 2), -0.1), torch.zeros(1, 2, 2, dtype=L))
    with _raises("cannot score an empty set of outputs"):
        metrics.f1(torch.zeros(0, 2, 2), torch.zeros(0, 2, 2, dtype=L))
    with _raises("targets must be integer masks with values 0 (not road) and 1 (road)"):
        metrics.f1(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2))
    with _raises("counts must be a 2-D tensor K×4 (TP, FP, FN, TN per image), got shape (4,)"):
        metrics.pooled_f1(torch.zeros(4, dtype=L))
    for name, args in (("tp", (-1, 0, 0, 0)), ("fn", (0, 0, -1, 0)), ("tn", (0, 0, 0, -1))):
        with _raises(f"{name} is a pixel count and must be >= 0, got -1"):
            metrics.scores_from_counts(*args)
