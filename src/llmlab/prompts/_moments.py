"""Means with intervals from (n, sum, sum of squares), and the difference of two means.

The online report aggregates in SQL and never loads every call, so its intervals come
from moments: a normal approximation (Welch for differences), fine at the sample sizes
where an online verdict means anything. Paired offline comparisons use
``llmlab.evals`` statistics instead.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from llmlab.evals import Interval

__all__ = ["MeanEstimate", "mean_difference"]

_Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class MeanEstimate:
    """A mean over ``n`` values with its 95% interval and standard error."""

    n: int
    mean: float
    low: float
    high: float
    se: float

    @classmethod
    def of(
        cls, moments: tuple[int, float, float], *, lower: float = -math.inf, upper: float = math.inf
    ) -> MeanEstimate:
        """The mean of ``(n, sum, sum of squares)`` with a normal 95% interval, kept inside
        [``lower``, ``upper``], the values' possible range (a score in [0, 1] has no
        interval below 0)."""
        n, total, squares = moments
        if n == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        mean = total / n
        if n == 1:
            # one value gives no spread: the interval is unknown on both sides
            return cls(1, mean, math.nan, math.nan, math.inf)
        var = max(0.0, (squares - n * mean * mean) / (n - 1))
        se = math.sqrt(var / n)
        half = _Z95 * se
        return cls(n, mean, max(lower, mean - half), min(upper, mean + half), se)

    def to_dict(self) -> dict[str, float | int | None]:
        def clean(x: float) -> float | None:
            return None if math.isnan(x) or math.isinf(x) else x

        return {
            "n": self.n,
            "mean": clean(self.mean),
            "low": clean(self.low),
            "high": clean(self.high),
        }


def mean_difference(a: MeanEstimate, b: MeanEstimate) -> tuple[Interval, float] | None:
    """Interval of ``mean(b) - mean(a)`` (Welch, normal) and its two-sided p-value.

    None when either side has fewer than two values.
    """
    if a.n < 2 or b.n < 2:
        return None
    diff = b.mean - a.mean
    se = math.sqrt(a.se**2 + b.se**2)
    if se == 0:
        p = 1.0 if diff == 0 else 0.0
        return Interval(diff, diff, diff), p
    p = 2 * (1 - statistics.NormalDist().cdf(abs(diff) / se))
    return Interval(diff, diff - _Z95 * se, diff + _Z95 * se), p
