"""Statistics of one run: intervals, trials (pass@k, pass^k), flip rate, consistency."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Interval",
    "bootstrap_mean_ci",
    "consistency",
    "flip_rate",
    "pass_at_k",
    "pass_hat_k",
    "reduce_epochs",
    "standard_error",
    "wilson_interval",
    "z_value",
]

REDUCERS = ("mean", "median", "majority", "pass_at_k", "pass_hat_k")


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float = 0.95


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (1.96 for 0.95)."""
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion (no continuity correction)."""
    if n <= 0:
        return Interval(0.0, 0.0, 1.0, confidence)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, {n}], not {successes}")
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # Rounding can leave the bound a hair inside p at 0/n and n/n; the interval holds p.
    low = min(p, max(0.0, centre - half))
    high = max(p, min(1.0, centre + half))
    return Interval(p, low, high, confidence)


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean (sample standard deviation / sqrt(n)); 0 below n = 2."""
    if len(values) < 2:
        return 0.0
    return statistics.stdev(values) / math.sqrt(len(values))


def bootstrap_mean_ci(
    values: Sequence[float],
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of the mean (seeded: the same data, the same answer)."""
    if not values:
        return Interval(0.0, 0.0, 0.0, confidence)
    if min(values) == max(values):
        # Every resample of a constant sample has its mean: no need for numpy, whose
        # import (about 0.1 s of CPU) a run that all passed (or all failed) skips.
        mean = float(values[0])
        return Interval(mean, mean, mean, confidence)
    import numpy as np

    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    # In chunks, so 10,000 cases x 2,000 resamples stays within a few MB.
    chunk = max(1, 200_000 // data.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, data.size, size=(stop - start, data.size))
        means[start:stop] = data[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(mean, float(low), float(high), confidence)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of the chance that at least one of k trials passes.

    ``n`` trials were run, ``c`` passed: 1 - C(n-c, k) / C(n, k) (Chen et al., 2021).
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of the chance that all of k trials pass: C(c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    return math.comb(c, k) / math.comb(n, k)


def flip_rate(outcomes: Sequence[bool]) -> float:
    """The share of pairs of trials of one case that disagree (0: always the same)."""
    n = len(outcomes)
    if n < 2:
        return 0.0
    c = sum(outcomes)
    return 2 * c * (n - c) / (n * (n - 1))


def consistency(per_case: Sequence[Sequence[bool]]) -> float:
    """The share of cases whose trials all agree (pass every time or fail every time)."""
    cases = [o for o in per_case if o]
    if not cases:
        return 1.0
    return sum(1 for o in cases if all(o) or not any(o)) / len(cases)


def reduce_epochs(
    scores: Sequence[float],
    passed: Sequence[bool],
    reducer: str,
    *,
    threshold: float,
    k: int | None = None,
) -> tuple[float, bool]:
    """One case's score and verdict from its trials, by ``reducer``.

    mean / median: the score reduced, passed when it reaches ``threshold``; majority:
    passed when most trials passed (score = share passed); pass_at_k / pass_hat_k: the
    unbiased estimate for ``k`` (default: every trial), passed when it reaches the
    threshold.
    """
    n = len(passed)
    if n == 0:
        return 0.0, False
    if reducer == "mean":
        value = statistics.fmean(scores)
        return value, value >= threshold
    if reducer == "median":
        value = float(statistics.median(scores))
        return value, value >= threshold
    c = sum(passed)
    if reducer == "majority":
        return c / n, c * 2 > n
    kk = min(k or n, n)
    if reducer == "pass_at_k":
        value = pass_at_k(n, c, kk)
    elif reducer == "pass_hat_k":
        value = pass_hat_k(n, c, kk)
    else:
        raise ValueError(f"unknown reducer {reducer!r}; use one of {', '.join(REDUCERS)}")
    return value, value >= threshold
