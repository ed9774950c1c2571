"""Statistics behind every comparison: means with 95 % intervals, paired differences, a verdict.

A replication compares models trained with the same seeds. :func:`compare`
takes one score per seed for each of two models and says, from the numbers
alone, whether the first is *ahead*, *behind*, or *not separable* from the
second::

    >>> c = compare([2.1, 2.3, 2.0], [3.0, 3.4, 2.9], names=("ST-CNN", "CNN"),
    ...             higher_is_better=False, unit="%")
    >>> c.verdict
    'ahead'
    >>> print(c)  # doctest: +NORMALIZE_WHITESPACE
    ST-CNN 2.13 % [1.75, 2.51] vs CNN 3.10 % [2.44, 3.76]; difference -0.97 [-1.25, -0.68]
    (paired, 3 seeds): ST-CNN ahead

The intervals are Student-t intervals over seeds (:func:`mean_interval`);
the difference is paired, seed by seed, so the seed-to-seed variation the two
models share (the same data order, the same initial weights of the shared
layers) cancels. With one seed there is no interval, and the verdict is
"not separable at 1 seed". :func:`bootstrap_interval` gives an interval over
test items instead (for a statistic pooled over a test set, such as F1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

#: the confidence level of every interval
LEVEL = 0.95


def _values(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a sequence of numbers (one per seed), got {x!r}") from err
    if a.size == 0:
        raise ValueError(f"{name} must hold at least one number (one per seed), got none")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite numbers, got {a.tolist()}")
    return a


def mean_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its Student-t interval at ``level``.

    Args:
        values: one number per seed (at least one).
        level: the confidence level, in (0, 1).

    Returns:
        the mean and the interval's ends; with one value the ends are NaN (no
        interval can be had from one seed).

    Example:
        >>> m, lo, hi = mean_interval([1.0, 2.0, 3.0])
        >>> round(m, 3), round(lo, 3), round(hi, 3)
        (2.0, -0.484, 4.484)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    a = _values(values, "values")
    mean = float(a.mean())
    if a.size < 2:
        return mean, math.nan, math.nan
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
    return mean, mean - half, mean + half


def bootstrap_interval(statistic: Callable[[np.ndarray], float], n_items: int, *,
                       resamples: int = 1000, level: float = LEVEL, seed: int = 0
                       ) -> tuple[float, float]:
    """A percentile-bootstrap interval of ``statistic`` over ``n_items`` test items.

    Args:
        statistic: ``statistic(index)`` → float, computed on the items at
            ``index`` (an int array of length ``n_items``, drawn with replacement).
        n_items: how many items the test set has (≥ 2).
        resamples: bootstrap draws.
        level: the confidence level.
        seed: seeds the draws (the same seed gives the same interval).

    Returns:
        ``(low, high)``.

    Example:
        >>> x = np.arange(10.0)
        >>> lo, hi = bootstrap_interval(lambda i: x[i].mean(), 10, resamples=500)
        >>> bool(lo < 4.5 < hi)
        True
    """
    if not isinstance(n_items, int) or n_items < 2:
        raise ValueError(f"n_items must be an int >= 2, got {n_items!r}")
    if not isinstance(resamples, int) or resamples < 10:
        raise ValueError(f"resamples must be an int >= 10, got {resamples!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    draws = np.array([float(statistic(rng.integers(0, n_items, n_items))) for _ in range(resamples)])
    low, high = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2])
    return float(low), float(high)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Two models over the same seeds: what :func:`compare` returns.

    Attributes:
        names: the two models' names (first, second).
        a, b: ``(mean, low, high)`` of each model's scores (:func:`mean_interval`).
        diff: ``(mean, low, high)`` of the paired difference first − second.
        n: the number of seeds.
        higher_is_better: the direction of the score.
        verdict: ``"ahead"`` (the first is better: the difference's interval
            excludes 0 on the better side), ``"behind"``, or
            ``"not separable at n seeds"``.
        unit: the score's unit, for printing.
    """

    names: tuple[str, str]
    a: tuple[float, float, float]
    b: tuple[float, float, float]
    diff: tuple[float, float, float]
    n: int
    higher_is_better: bool
    verdict: str
    unit: str = ""

    @property
    def separable(self) -> bool:
        """Whether the difference's interval excludes 0."""
        return self.verdict in ("ahead", "behind")

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        (m1, l1, h1), (m2, l2, h2), (d, dl, dh) = self.a, self.b, self.diff
        if self.n < 2:  # one seed: no interval to show
            return (f"{self.names[0]} {m1:.2f}{unit} vs {self.names[1]} {m2:.2f}{unit}; difference {d:+.2f} "
                    f"(1 seed, no interval): {self.verdict}")
        return (f"{self.names[0]} {m1:.2f}{unit} [{l1:.2f}, {h1:.2f}] vs {self.names[1]} "
                f"{m2:.2f}{unit} [{l2:.2f}, {h2:.2f}]; difference {d:+.2f} [{dl:.2f}, {dh:.2f}] "
                f"(paired, {self.n} seeds): {self.names[0] + ' ' if self.separable else ''}{self.verdict}")


def compare(a: Sequence[float], b: Sequence[float], *, names: tuple[str, str] = ("A", "B"),
            higher_is_better: bool, unit: str = "", level: float = LEVEL) -> Comparison:
    """Compare two models trained with the same seeds: means, intervals, paired difference, verdict.

    Args:
        a, b: one score per seed for each model, in the same seed order (the
            pairs are matched by position).
        names: the models' names, for printing.
        higher_is_better: ``True`` for accuracy or F1, ``False`` for an error.
        unit: the score's unit (``"%"``), for printing.
        level: the intervals' confidence level.

    Returns:
        a :class:`Comparison`; ``str()`` of it is the one line a lesson prints.
        The verdict is computed from the paired difference's interval: "ahead"
        or "behind" when it excludes 0, else "not separable at n seeds" (always
        so with one seed).

    Example:
        >>> compare([90.0, 91.0], [90.5, 90.4], names=("ST", "CNN"), higher_is_better=True).verdict
        'not separable at 2 seeds'
    """
    if not isinstance(higher_is_better, bool):
        raise TypeError(f"higher_is_better must be True or False, got {higher_is_better!r}")
    if len(names) != 2 or not all(isinstance(x, str) for x in names):
        raise TypeError(f"names must be two strings, got {names!r}")
    va, vb = _values(a, "a"), _values(b, "b")
    if va.size != vb.size:
        raise ValueError(f"a and b must hold one score per seed for the same seeds; a has {va.size}, "
                         f"b has {vb.size}")
    d = mean_interval(va - vb, level)
    n = int(va.size)
    if n >= 2 and (d[1] > 0 or d[2] < 0):
        first_better = (d[0] > 0) == higher_is_better
        verdict = "ahead" if first_better else "behind"
    else:
        verdict = f"not separable at {n} seed{'s' if n != 1 else ''}"
    return Comparison(names=(names[0], names[1]), a=mean_interval(va, level),
                      b=mean_interval(vb, level), diff=d, n=n, higher_is_better=higher_is_better,
                      verdict=verdict, unit=unit)


__all__ = ["LEVEL", "Comparison", "bootstrap_interval", "compare", "mean_interval"]
