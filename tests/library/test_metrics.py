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
