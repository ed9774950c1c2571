"""stnlib.metrics: values on hand-made outputs, and clear errors."""

import pytest
import torch

from stnlib import metrics


def test_error_and_accuracy_on_known_logits():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 4.0, 0.0]])
    labels = torch.tensor([0, 1, 0, 2])
    assert metrics.error(logits, labels) == 50.0
    assert metrics.accuracy(logits, labels) == 0.5
    assert metrics.error(logits, logits.argmax(1)) == 0.0
    assert metrics.accuracy(logits, (logits.argmax(1) + 1) % 3) == 0.0
    assert metrics.predictions(logits).tolist() == [0, 1, 2, 1]


def test_metrics_refuse_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="targets must be N=2 class indices"):
        metrics.error(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="outputs must"):
        metrics.accuracy(torch.zeros(2), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        metrics.error(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


def test_auc_by_hand_with_ties():
    # positives score 0.9, 0.4, 0.4; negatives 0.4, 0.1: pairs (pos > neg) 2 + 1 + 1, ties 2 × 0.5
    scores = torch.tensor([0.9, 0.4, 0.4, 0.4, 0.1])
    labels = torch.tensor([1, 1, 1, 0, 0])
    assert metrics.auc(scores, labels) == pytest.approx((2 + 1.5 + 1.5) / 6)
    logits = torch.stack([torch.zeros(5), scores], 1)  # N×2 logits: the score is logit₁ − logit₀
    assert metrics.auc(logits, labels) == pytest.approx(5 / 6)
    assert metrics.auc(-scores, labels) == pytest.approx(1 / 6)
    assert metrics.auc(torch.zeros(4), torch.tensor([0, 1, 0, 1])) == 0.5


def test_auc_equals_scikit_learn():
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score  # installed with pyts
    g = torch.Generator().manual_seed(0)
    for n in (7, 50, 301):
        labels = torch.randint(0, 2, (n,), generator=g)
        labels[:2] = torch.tensor([0, 1])
        logits = (torch.randn(n, 2, generator=g) * 3).round() / 2  # many ties
        expected = roc_auc_score(labels.numpy(), (logits[:, 1] - logits[:, 0]).numpy())
        assert metrics.auc(logits, labels) == pytest.approx(expected, abs=1e-12)


def test_auc_refuses_one_class_and_other_tasks():
    with pytest.raises(ValueError, match="both classes"):
        metrics.auc(torch.rand(4), torch.ones(4, dtype=torch.long))
    with pytest.raises(ValueError, match="auc is for two classes"):
        metrics.auc(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="targets of auc must be 0 or 1"):
        metrics.auc(torch.rand(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="targets must be N=3 labels"):
        metrics.auc(torch.rand(3), torch.tensor([0, 1]))
