"""Lesson 05's companion module: exercise checks (right and wrong answers), budgets, experiment helpers."""

import re

import pytest
import torch
from checks import assert_check

from stnlib.course.budgets import BUDGET_NAMES
from stnlib.lessons import l05_several_objects as L
from stnlib.models.addition import ADDITION_MODELS, LEFT_RIGHT_BIAS, SharedDigitBody
from stnlib.stats import compare
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
    if name != "smoke":  # issue 24: >= 3 seeds per addition model, 5 per two-digit row (a claim about spread)
        assert len(S.add_seeds) >= 3 and len(B.seeds) >= 5
        assert {"FCN", "CNN", "ST-FCN", "2×ST-FCN"} <= set(S.add_models)  # the paper's four
        assert {"left-right/zeros", "identity/zeros", "random/zeros", "CNN"} <= set(S.two_configs)
        assert S.add_classifier == "shared"
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
    # issue 24: the paper column gets what Wang's report prints; his repository's means are labelled apart
    assert L.WANG_ADDITION_REPORT == {"Wang ST": 6.5, "Wang CNN": 47.3}
    assert L.WANG_ADDITION_MEAN_ERROR == {"Wang ST": 24.05, "Wang CNN": 35.5}


@pytest.fixture(scope="module")
def smoke():
    ctx = L.start("smoke", 0, "cpu")
    return ctx, L.addition_experiment(ctx), L.two_digit_experiment(ctx)


def test_experiments_use_the_budgets_recipe_and_wangs_test_protocol(smoke):
    ctx, add, two = smoke
    B, S = ctx.budget, ctx.budget.settings
    for exp, epochs, batch in ((add, S.add_epochs, S.add_batch_size), (two, S.two_epochs, B.batch_size)):
        r = exp.recipe
        assert (r.epochs, r.lr, r.batch_size, r.schedule, r.loc_lr_scale) == (
            epochs, B.lr, batch, S.schedule, S.loc_lr_scale)
    # addition: the test error, flagged against always answering the most frequent sum
    assert add.primary == "error" and not add.higher_is_better
    counts = torch.bincount(add.test_data.labels)
    assert add.trivial == pytest.approx(100 * (1 - counts.max().item() / len(add.test_data)))
    # two digits: accuracy on Wang's undistorted test pairs (the same pairs and sums, not rotated)
    wang = L.test_pairs(B, "mnist-two-digits", undistorted=True)
    assert len(wang) == len(two.test_data) == B.n_test
    assert torch.equal(wang.labels, two.test_data.labels)
    assert wang.params["angle"].abs().max() == 0 and two.test_data.params["angle"].abs().max() > 0
    assert two.primary == "accuracy_wang" and two.higher_is_better
    assert two.trivial == pytest.approx(100 * torch.bincount(wang.labels).max().item() / len(wang))
    # each seed draws its own training pairs; a seed gives the same draw again
    assert torch.equal(two.training_data(1).images, two.training_data(1).images)
    assert not torch.equal(two.training_data(0).images, two.training_data(1).images)
    assert len(two.training_data(0)) == S.two_n_train
    with pytest.raises(ValueError, match="only the two-digit test pairs"):
        L.test_pairs(B, "mnist-addition", undistorted=True)


def test_models_of_the_tables():
    S = L.start("full", 0, "cpu").budget.settings
    cnn = L.build_two_digits("CNN", S)
    assert cnn.transformer is None
    lr = L.build_two_digits("left-right/border", S)
    assert lr.transformer.padding_mode == "border"
    torch.manual_seed(0)
    a = L.build_two_digits("random/zeros", S)
    torch.manual_seed(0)
    b = L.build_two_digits("random/zeros", S)
    torch.manual_seed(1)
    c = L.build_two_digits("random/zeros", S)
    head = [m.transformer.loc[0].head.bias for m in (a, b, c)]
    assert torch.equal(head[0], head[1]) and not torch.equal(head[0], head[2])  # the seed draws θ₀
    assert torch.equal(lr.transformer.loc[0].head.bias.detach(), LEFT_RIGHT_BIAS)
    with pytest.raises(ValueError, match="config must be one of"):
        L.build_two_digits("left/zeros", S)
    assert L.build_addition("Wang CNN", S).transformer is None
    for name in ("FCN", "CNN", "ST-FCN", "2×ST-FCN"):
        model = L.build_addition(name, S)
        n = sum(p.numel() for p in model.parameters())
        assert abs(n - S.add_params) < 0.03 * S.add_params
        assert isinstance(model.body, SharedDigitBody) and model.body.kind == name[-3:].lower()


def fake_run(exp, name, seed, value, spread=0.1):
    """Put a trained run of two-digit accuracy ``value`` (Wang's test pairs) into ``exp``."""
    from stnlib.course.experiment import Run
    from stnlib.train import History

    scores = {"accuracy": value - 10, "accuracy_wang": value}
    exp.runs[name, seed] = Run(name, seed, torch.nn.Identity(), History([]), scores, 1.0, spread,
                               exp.is_at_chance(value))


def test_tables_report_flagged_seeds_beside_wangs():
    two = L.two_digit_experiment(L.start("smoke", 0, "cpu"))  # a fresh one: runs are injected below
    fake_run(two, "random/zeros", 0, 70.0)
    fake_run(two, "random/zeros", 1, 10.0)  # Wang's collapsed runs: 9.9 %, the most frequent sum
    fake_run(two, "CNN", 0, 60.0, spread=None)
    fake_run(two, "CNN", 1, 64.0, spread=None)
    assert two.runs["random/zeros", 1].collapsed and not two.runs["random/zeros", 0].at_chance
    table = two.table(["random/zeros", "CNN"], paper={k: m for k, (m, _) in L.WANG_TABLE1.items()})
    assert "| random/zeros | 40.00 [" in table and "| 70.00, 10.00 |" in table  # reported, not dropped
    assert "collapsed | 33.55 |" in table and "| – | – | 84.99 |" in table
    assert two.flag_lines() == ["collapsed: random/zeros (seed 1)"]
    assert "not separable at 2 seeds" in str(two.compare("random/zeros", "CNN"))


@pytest.mark.slow
def test_a_two_digit_row_trains_once_and_is_scored_on_both_test_sets(smoke):
    ctx, _, two = smoke
    run = two.run("left-right/zeros", lambda: L.build_two_digits("left-right/zeros", ctx.budget.settings), 0)
    assert two.run("left-right/zeros", lambda: None, 0) is run  # trained once
    assert set(run.scores) == {"accuracy", "accuracy_wang"}
    assert all(0 <= v <= 100 for v in run.scores.values())
    assert run.at_chance == (run.scores["accuracy_wang"] - two.trivial < 0.1 * (100 - two.trivial))
    assert run.spread is not None and len(run.history) == ctx.budget.settings.two_epochs


def test_same_direction_says_yes_no_or_not_separable():
    # errors: lower is better; the paper has a ahead of b (18.5 < 47.7)
    ahead = compare([60.0, 61.0, 59.0], [70.0, 72.0, 71.0], names=("ST-FCN", "FCN"), higher_is_better=False)
    behind = compare([70.0, 72.0, 71.0], [60.0, 61.0, 59.0], names=("ST-FCN", "FCN"), higher_is_better=False)
    tie = compare([60.0, 70.0, 65.0], [66.0, 64.0, 65.5], names=("ST-FCN", "FCN"), higher_is_better=False)
    assert (ahead.verdict, behind.verdict) == ("ahead", "behind") and not tie.separable
    assert L.same_direction(ahead, 18.5, 47.7) == "yes"
    assert L.same_direction(behind, 18.5, 47.7) == "no"
    assert L.same_direction(tie, 18.5, 47.7) == "not separable"
    assert L.same_direction(ahead, None, 47.7) == "no paper value"
    # accuracies: higher is better; Wang has left-right (91.4) ahead of identity (87.97)
    acc = compare([40.0, 42.0, 41.0], [30.0, 31.0, 29.0], higher_is_better=True)
    assert L.same_direction(acc, 91.4, 87.97) == "yes" and L.same_direction(acc, 87.97, 91.4) == "no"


def test_two_digit_comparisons_cover_the_rows_trained():
    standard = L.start("standard", 0, "cpu").budget.settings.two_configs
    pairs = L.two_digit_comparisons(standard)
    for pair in (("left-right/zeros", "identity/zeros"), ("identity/zeros", "random/zeros"),
                 ("left-right/zeros", "CNN"), ("identity/zeros", "CNN"), ("random/zeros", "CNN")):
        assert pair in pairs
    assert all(a in standard and b in standard for a, b in pairs)
    every = L.two_digit_comparisons(L.TWO_DIGIT_CONFIGS)
    assert ("left-right/border", "identity/border") in every and ("random/border", "random/zeros") in every
    assert len(every) == 6 + 3 + 6
    assert L.two_digit_comparisons(["CNN"]) == []


def test_addition_comparisons_hold_the_papers_order():
    pairs = dict.fromkeys(L.ADDITION_COMPARISONS)
    for pair in (("ST-FCN", "FCN"), ("2×ST-FCN", "ST-FCN"), ("2×ST-FCN", "FCN")):
        assert pair in pairs and L.PAPER_ADDITION[pair[0]] < L.PAPER_ADDITION[pair[1]]
    assert all(a in ADDITION_MODELS and b in ADDITION_MODELS for a, b in L.ADDITION_COMPARISONS)
