"""Lesson 00's companion module: its budget table, the validation split and the digit centres."""

import pytest
import torch

from stnlib.course import budgets
from stnlib.data.samples import Samples
from stnlib.lessons import l00_stn_in_ten_minutes as L


def test_budget_table_changes_only_standard_epochs_and_holds_out_validation_digits():
    b = budgets.get_budget("standard", changes=L.BUDGET_CHANGES, settings=L.SETTINGS)
    assert b.epochs == 2 and b.n_train is None and b.settings.n_val == 5000
    assert budgets.get_budget("smoke", changes=L.BUDGET_CHANGES, settings=L.SETTINGS).epochs == 1


def test_split_validation_holds_out_the_last_digits_disjointly():
    s = Samples(images=torch.arange(10.0).view(10, 1, 1, 1), labels=torch.arange(10))
    train, val = L.split_validation(s, 3)
    assert train.labels.tolist() == list(range(7)) and val.labels.tolist() == [7, 8, 9]
    for bad in (0, 10, 2.5, True):
        with pytest.raises(ValueError, match="n_val"):
            L.split_validation(s, bad)


def test_digit_centres_in_normalized_coordinates():
    x = torch.zeros(3, 1, 4, 6)
    x[0, 0, 0, 0] = 1.0  # top-left pixel: centre at (-1 + 1/6, -1 + 1/4)
    x[1, 0, :, :] = 1.0  # uniform: the canvas centre
    x[1, 0, 3, 5] = 0.0
    x[1, 0, 0, 0] = 0.0  # still symmetric about the centre
    centres = L.digit_centres(x)
    torch.testing.assert_close(centres[0], torch.tensor([-1 + 1 / 6, -1 + 1 / 4]))
    torch.testing.assert_close(centres[1], torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(centres[2], torch.zeros(2))  # empty image
    with pytest.raises(ValueError, match="N×C×H×W"):
        L.digit_centres(torch.zeros(4, 6))
