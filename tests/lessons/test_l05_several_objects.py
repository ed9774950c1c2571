"""Lesson 05's companion module: exercise checks (right and wrong answers), budgets, experiment helpers."""

import re

import pytest
import torch
from checks import assert_check

from stnlib.course.budgets import BUDGET_NAMES
from stnlib.lessons import l05_several_objects as L
from stnlib.models.addition import ADDITION_MODELS, LEFT_RIGHT_BIAS
from stnlib.transformer import SpatialTransformer


def right_bias():
    return torch.tensor([0.5, 0, -0.5, 0, 1, 0, 0.5, 0, 0.5, 0, 1, 0])


def bias(*values):
    return lambda: torch.tensor(values, dtype=torch.float32)


def test_left_right_bias_check_accepts_the_solution_and_names_the_mistakes():
    run = assert_check(L.check_left_right_bias, right_bias, name="left_right_bias", mistakes=[
        (bias(0.5, 0, 0.5, 0, 1, 0, 0.5, 0, -0.5, 0, 1, 0), "windows are swapped"),
        (bias(0.5, 0, -0.5, 0, 1, 0, 0.5, 0, -0.5, 0, 1, 0), "misprint in Wang's report"),
        (bias(0.5, 0, -14, 0, 1, 0, 0.5, 0, 14, 0, 1, 0), "shifts look like pixels"),
        (bias(0.5, 0, -1, 0, 1, 0, 0.5, 0, 1, 0, 1, 0), "centre on the image's edge"),
        (bias(2, 0, -0.5, 0, 1, 0, 2, 0, 0.5, 0, 1, 0), re.compile("θ₁₁ = 0.5 .*not 2")),
        (bias(1, 0, -0.5, 0, 1, 0, 1, 0, 0.5, 0, 1, 0), "whole width"),
        (bias(0.5, 0, -0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0), "full height"),
        # wrong types and shapes, and a function that raises
        (lambda: right_bias().tolist(), "torch.Tensor, got list (use torch.tensor"),
        (lambda: right_bias().view(2, 2, 3), "one flat tensor"),
        (lambda: torch.tensor([1, 0, -1, 0, 1, 0, 1, 0, 1, 0, 1, 0]), "float tensor"),
        (lambda: 1 / 0, "raised ZeroDivisionError"),
    ])
    assert "✓ left_right_bias is correct" in run.passed
    assert torch.equal(L.left_right_bias_reference(), LEFT_RIGHT_BIAS)


def good_transformers():
    return (SpatialTransformer(2, align_corners=False, out_size=28, per_channel=True),
            SpatialTransformer(2, align_corners=False, out_size=28, n_transformers=2))


def not_the_identity():
    per, par = good_transformers()
    with torch.no_grad():
        par.loc[1].head.bias[2] = 0.3
    return per, par


def test_addition_transformers_check_accepts_the_solution_and_names_the_mistakes():
    per, par = good_transformers()
    run = assert_check(L.check_addition_transformers, good_transformers,
                       name="addition_transformers", mistakes=[
        (lambda: (par, per), "swapped"),
        (lambda: (SpatialTransformer(2, align_corners=False, out_size=28), par), "per_channel=True"),
        (lambda: (per, SpatialTransformer(2, align_corners=False, out_size=28, n_transformers=3)),
         re.compile("n_transformers=2.*got n_transformers=3")),
        (lambda: (SpatialTransformer(2, align_corners=False, per_channel=True), par),
         "42×42 windows: pass out_size=28"),
        (lambda: (SpatialTransformer(2, align_corners=True, out_size=28, per_channel=True), par),
         "align_corners=True"),
        (lambda: (SpatialTransformer(1, align_corners=False, out_size=28, per_channel=True), par),
         "2 (pass in_channels=2)"),
        (lambda: per, "a pair"),
        (not_the_identity, "parallel does not start as the identity"),
    ])
    assert "one θ per channel" in run.passed


@pytest.mark.parametrize("name", BUDGET_NAMES)
def test_budgets(name):
    ctx = L.start(name, 0, "cpu")
    B, S = ctx.budget, ctx.budget.settings
    assert set(S.add_models) <= set(ADDITION_MODELS)
    assert set(S.two_configs) <= set(L.WANG_TABLE1)
    if name == "smoke":
        assert S.add_n_train <= 512 and S.two_n_train <= 512 and B.n_test <= 512
    if name == "full":
        assert S.two_configs == L.TWO_DIGIT_CONFIGS and len(B.seeds) == 5
        assert S.add_models == ADDITION_MODELS and S.dropout and S.schedule == "constant"
        assert B.lr == 1e-3 and B.batch_size == 64 and S.two_epochs == 10  # Wang's recipe


def test_published_numbers_match_their_sources():
    # Wang's notebook prints the mean of his five addition runs: 75.9477973899 (ST), 64.5032251613 (CNN)
    st, cnn = L.WANG_ADDITION_RUNS["ST"], L.WANG_ADDITION_RUNS["CNN"]
    assert sum(st) / 5 == pytest.approx(75.948, abs=0.01)
    assert sum(cnn) / 5 == pytest.approx(64.503, abs=0.01)
    assert L.PAPER_ADDITION == {"FCN": 47.7, "CNN": 14.7, "ST-FCN": 18.5, "2×ST-FCN": 5.8}
    assert L.WANG_TABLE1["left-right/zeros"] == (91.4, 0.51) and len(L.WANG_TABLE1) == 7


def test_collapse_and_spread_helpers():
    labels = torch.tensor([9] * 10 + list(range(19)) * 2)  # the sum 9 is the most frequent
    assert L.majority_rate(labels) == pytest.approx(100 * 12 / 48)
    assert L.is_collapsed(25.0, labels) and L.is_collapsed(29.9, labels)
    assert not L.is_collapsed(30.1, labels)
    assert L.mean_std([1.0]) == (1.0, None)
    m, s = L.mean_std([1.0, 3.0])
    assert m == 2.0 and s == pytest.approx(2 ** 0.5)


@pytest.mark.slow
def test_experiments_train_once_and_test_on_wangs_undistorted_pairs():
    ctx = L.start("smoke", 0, "cpu")
    ex = L.Experiments(ctx)
    run = ex.fit_two_digits("left-right/zeros", 0)
    assert ex.fit_two_digits("left-right/zeros", 0) is run  # trained once
    assert 0 <= run["accuracy"] <= 100 and 0 <= run["accuracy_wang"] <= 100
    test = ex.dataset("mnist-two-digits", "test", undistorted=True)
    assert run["collapsed"] == L.is_collapsed(run["accuracy_wang"], test.labels)
    assert test.params["angle"].abs().max() == 0  # Wang's test pairs are not distorted
    table = L.two_digit_markdown(ex, [0], ["left-right/zeros", "CNN"])
    assert "| STN | left-right | zeros |" in table and "91.4 ± 0.51" in table
    assert "| CNN |" not in table  # not trained: no row
    with pytest.raises(ValueError, match="config must be one of"):
        ex.fit_two_digits("left/zeros", 0)


def test_tables_report_collapsed_seeds_and_the_spread():
    ctx = L.start("smoke", 0, "cpu")
    ex = L.Experiments(ctx)
    ex.trained["two", "random/zeros", 0] = dict(accuracy=60.0, accuracy_wang=70.0, collapsed=False)
    ex.trained["two", "random/zeros", 1] = dict(accuracy=9.0, accuracy_wang=10.0, collapsed=True)
    table = L.two_digit_markdown(ex, [0, 1], ["random/zeros"])
    assert "70.0, 10.0 (collapsed)" in table  # reported, not dropped
    assert "40.0 ± 42.4" in table and "33.55 ± 20.73" in table
    ex.trained["addition", "2×ST-FCN", 0] = dict(error=12.0)
    ex.trained["addition", "ST-FCN per channel", 0] = dict(error=30.0)
    table = L.addition_markdown(ex, [0], ["2×ST-FCN", "ST-FCN per channel", "CNN"])
    assert "| 2×ST-FCN | 12.0 | 12.0 | 5.8 |" in table
    assert "| ST-FCN per channel | 30.0 | 30.0 | – |" in table and "| CNN |" not in table
