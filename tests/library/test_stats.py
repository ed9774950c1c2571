"""stnlib.stats: intervals, paired comparisons and their verdicts, bootstrap intervals."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from stnlib.stats import Comparison, bootstrap_interval, compare, mean_interval


def test_mean_interval_is_students_t():
    x = [2.0, 3.5, 1.0, 4.0, 2.5]
    m, lo, hi = mean_interval(x)
    ref = sps.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=sps.sem(x))
    assert m == pytest.approx(np.mean(x))
    assert (lo, hi) == pytest.approx(ref)
    m90, lo90, hi90 = mean_interval(x, level=0.9)
    assert lo < lo90 < m90 < hi90 < hi  # a lower level, a narrower interval


def test_one_value_has_no_interval():
    m, lo, hi = mean_interval([3.0])
    assert m == 3.0 and math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("bad, match", [([], "at least one"), ([1.0, float("nan")], "finite"),
                                        ("abc", "sequence of numbers")])
def test_mean_interval_rejects_bad_values(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mean_interval(bad)


def test_level_must_be_a_probability():
    with pytest.raises(ValueError, match="level"):
        mean_interval([1.0, 2.0], level=1.5)


def test_compare_lower_is_better():
    c = compare([2.1, 2.3, 2.0], [3.0, 3.4, 2.9], names=("ST", "CNN"), higher_is_better=False, unit="%")
    assert isinstance(c, Comparison)
    assert c.verdict == "ahead" and c.separable
    assert c.diff[0] == pytest.approx(np.mean([-0.9, -1.1, -0.9]))
    assert c.diff[2] < 0  # the whole interval below 0
    # the same numbers the other way round
    assert compare([3.0, 3.4, 2.9], [2.1, 2.3, 2.0], higher_is_better=False).verdict == "behind"


def test_compare_higher_is_better_flips_the_words():
    assert compare([95.0, 96.0, 95.5], [90.0, 91.0, 90.2], higher_is_better=True).verdict == "ahead"
    assert compare([95.0, 96.0, 95.5], [90.0, 91.0, 90.2], higher_is_better=False).verdict == "behind"


def test_compare_is_paired():
    # the means' intervals overlap widely, but every seed moves the same way: paired, it separates
    a = [10.0, 20.0, 30.0, 40.0]
    b = [10.5, 20.4, 30.6, 40.5]
    c = compare(a, b, higher_is_better=False)
    assert c.a[1] < c.b[0] < c.a[2]  # b's mean lies inside a's interval
    assert c.verdict == "ahead"


def test_an_interval_that_includes_zero_is_not_separable():
    c = compare([1.0, 2.0, 3.0], [2.0, 1.0, 3.1], higher_is_better=True)
    assert c.diff[1] < 0 < c.diff[2]
    assert c.verdict == "not separable at 3 seeds" and not c.separable
    one = compare([1.0], [5.0], higher_is_better=True)
    assert one.verdict == "not separable at 1 seed"


def test_compare_prints_means_intervals_and_verdict():
    c = compare([2.1, 2.3, 2.0], [3.0, 3.4, 2.9], names=("ST", "CNN"), higher_is_better=False, unit="%")
    text = str(c)
    assert text.startswith("ST 2.13 % [")
    assert "vs CNN 3.10 %" in text and "difference -0.97" in text
    assert text.endswith("(paired, 3 seeds): ST ahead")
    assert str(compare([1.0], [2.0], names=("a", "b"), higher_is_better=True)) == (
        "a 1.00 vs b 2.00; difference -1.00 (1 seed, no interval): not separable at 1 seed")


def test_compare_errors():
    with pytest.raises(ValueError, match="one score per seed"):
        compare([1.0, 2.0], [1.0], higher_is_better=True)
    with pytest.raises(TypeError, match="higher_is_better"):
        compare([1.0], [2.0], higher_is_better=None)
    with pytest.raises(TypeError, match="names"):
        compare([1.0], [2.0], names=("a",), higher_is_better=True)


def test_bootstrap_interval_covers_the_mean_and_is_seeded():
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 1.0, 200)
    lo, hi = bootstrap_interval(lambda i: x[i].mean(), len(x), resamples=400)
    assert lo < x.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * x.std() / math.sqrt(len(x)), rel=0.3)
    assert bootstrap_interval(lambda i: x[i].mean(), len(x), resamples=400) == (lo, hi)
    assert bootstrap_interval(lambda i: x[i].mean(), len(x), resamples=400, seed=2) != (lo, hi)


def test_bootstrap_interval_errors():
    with pytest.raises(ValueError, match="n_items"):
        bootstrap_interval(lambda i: 0.0, 1)
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_interval(lambda i: 0.0, 5, resamples=3)


def test_values_may_be_tensors_or_nested_and_errors_name_the_argument():
    import torch

    assert mean_interval(torch.tensor([1.0, 2.0, 3.0])) == pytest.approx(mean_interval([1.0, 2.0, 3.0]))
    assert mean_interval(np.array([[1.0], [2.0], [3.0]])) == pytest.approx(mean_interval([1.0, 2.0, 3.0]))
    c = compare(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.5]), higher_is_better=True)
    assert c.diff[0] == pytest.approx(1.25)
    with pytest.raises(ValueError, match="^values must hold"):
        mean_interval([])
    with pytest.raises(ValueError, match="^a must be finite"):
        compare([float("inf")], [1.0], higher_is_better=True)
    with pytest.raises(ValueError, match="^b must be finite"):
        compare([1.0], [float("nan")], higher_is_better=True)


@pytest.mark.parametrize("level", [0.0, 1.0, 2.0, -0.5])
def test_levels_outside_the_open_unit_interval_are_refused(level):
    with pytest.raises(ValueError, match="level must be in"):
        mean_interval([1.0, 2.0], level=level)
    with pytest.raises(ValueError, match=r"^level must be in \(0, 1\)"):
        bootstrap_interval(lambda i: 0.0, 5, level=level)


def test_two_seeds_give_an_interval_and_can_separate():
    m, lo, hi = mean_interval([1.0, 3.0])
    assert (m, lo, hi) == pytest.approx((2.0, 2.0 - 12.706 * 1.0, 2.0 + 12.706 * 1.0), abs=1e-3)
    c = compare([2.0, 3.0], [1.0, 2.0], names=("A", "B"), higher_is_better=True)
    assert c.verdict == "ahead" and c.n == 2 and c.higher_is_better is True
    assert str(c) == "A 2.50 [-3.85, 8.85] vs B 1.50 [-4.85, 7.85]; difference +1.00 [1.00, 1.00] (paired, 2 seeds): A ahead"


def test_a_difference_whose_interval_straddles_zero_is_not_separable_even_when_it_is_small():
    c = compare([0.9, 1.1, 1.05], [1.0, 1.0, 1.0], names=("A", "B"), higher_is_better=True)
    assert c.diff[1] < 0 < c.diff[2] < 1
    assert str(c).endswith("(paired, 3 seeds): not separable at 3 seeds")


def test_the_level_reaches_every_interval():
    a, b = [1.0, 2.0, 4.0], [0.0, 0.5, 2.0]
    wide, narrow = compare(a, b, higher_is_better=True), compare(a, b, higher_is_better=True, level=0.5)
    for key in ("a", "b", "diff"):
        w, n = getattr(wide, key), getattr(narrow, key)
        assert w[0] == n[0] and w[1] < n[1] < n[2] < w[2]
    assert narrow.a == pytest.approx(mean_interval(a, level=0.5))


def test_bootstrap_draws_every_item_and_uses_both_tails_of_the_level():
    seen = set()

    def statistic(i):
        seen.update(i.tolist())
        return float(np.asarray([0.0, 1.0, 2.0, 3.0])[i].mean())

    lo, hi = bootstrap_interval(statistic, 4, resamples=200, level=0.8, seed=5)
    assert seen == {0, 1, 2, 3}
    rng = np.random.default_rng(5)
    draws = [np.asarray([0.0, 1.0, 2.0, 3.0])[rng.integers(0, 4, 4)].mean() for _ in range(200)]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(draws, [0.1, 0.9])))
    assert bootstrap_interval(lambda i: 1.0, 2, resamples=10) == (1.0, 1.0)  # the smallest sizes allowed
    assert bootstrap_interval(statistic, 4) == bootstrap_interval(statistic, 4, resamples=1000, seed=0)


def test_values_are_flattened_and_detached_before_pairing():
    import torch

    grad = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)  # numpy refuses a tensor that needs grad
    assert mean_interval(grad) == pytest.approx(mean_interval([1.0, 2.0, 3.0]))
    column = np.array([[1.0], [2.0], [3.0]])  # a column: flattened, so pairs match by position
    c = compare(column, [0.0, 0.0, 1.0], higher_is_better=True)
    assert c.diff == pytest.approx(mean_interval([1.0, 2.0, 2.0]))  # three pairs, not nine


def test_the_default_bootstrap_is_a_thousand_draws_from_seed_zero():
    x = np.random.default_rng(7).normal(size=50)
    default = bootstrap_interval(lambda i: x[i].mean(), 50)
    assert default == bootstrap_interval(lambda i: x[i].mean(), 50, resamples=1000, seed=0)
    assert default != bootstrap_interval(lambda i: x[i].mean(), 50, resamples=1001, seed=0)
