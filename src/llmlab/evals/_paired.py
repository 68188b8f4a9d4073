"""Paired comparison of two runs on the same cases: McNemar, paired bootstrap, Holm."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from llmlab.evals._stats import Interval, z_value

__all__ = [
    "PairedTest",
    "holm",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_test",
    "paired_tests",
    "sample_size_mcnemar",
    "sample_size_paired_mean",
]


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts.

    ``b``: pairs A passed and B failed; ``c``: A failed and B passed. Under the null
    hypothesis min(b, c) ~ Binomial(b + c, 1/2).
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be >= 0")
    n = b + c
    if n == 0:
        return 1.0
    # sum of C(n, i) for i <= min(b, c), each term from the last: exact integers (the same
    # tail math.comb would give) in one multiply and divide per term instead of a comb.
    term = tail = 1
    for i in range(min(b, c)):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, float(2 * tail / (1 << n)))


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[Interval, float]:
    """Percentile bootstrap interval of mean(b - a) over paired cases, and a p-value.

    The p-value is the two-sided bootstrap share of resampled means on the other side
    of zero (at least 1/resamples when the interval is clear of zero).
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError("paired samples must have the same length")
    return _bootstraps([y - x], confidence, resamples=resamples, seed=seed)[0]


def _bootstraps(
    diffs: Sequence[np.ndarray], confidence: float, *, resamples: int = 2000, seed: int = 0
) -> list[tuple[Interval, float]]:
    """:func:`paired_bootstrap` of each paired difference, the resampled indices drawn once
    for every difference of the same length (the same seed draws the same indices, so each
    result is what its own bootstrap gives, at a fraction of the random draws)."""
    results: list[tuple[Interval, float] | None] = [None] * len(diffs)
    by_size: dict[int, list[int]] = {}
    for i, diff in enumerate(diffs):
        if diff.size == 0:
            results[i] = (Interval(0.0, 0.0, 0.0, confidence), 1.0)
            continue
        mean = float(diff.mean())
        if float(diff.min()) == float(diff.max()):
            results[i] = (Interval(mean, mean, mean, confidence), (1.0 if mean == 0 else 0.0))
            continue
        by_size.setdefault(diff.size, []).append(i)
    alpha = (1 - confidence) / 2
    for size, members in by_size.items():
        rng = np.random.default_rng(seed)
        means = [np.empty(resamples) for _ in members]
        # In chunks, so 10,000 cases x 2,000 resamples stays within a few MB.
        chunk = max(1, 200_000 // size)
        for start in range(0, resamples, chunk):
            stop = min(resamples, start + chunk)
            idx = rng.integers(0, size, size=(stop - start, size))
            for i, out in zip(members, means, strict=True):
                out[start:stop] = diffs[i][idx].mean(axis=1)
        for i, out in zip(members, means, strict=True):
            low, high = np.quantile(out, [alpha, 1 - alpha])
            below = float(np.mean(out <= 0))
            above = float(np.mean(out >= 0))
            p = min(1.0, max(2 * min(below, above), 1 / resamples))
            estimate = float(diffs[i].mean())
            results[i] = (Interval(estimate, float(low), float(high), confidence), p)
    return [r for r in results if r is not None]


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def sample_size_mcnemar(
    p10: float, p01: float, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Pairs needed for McNemar to detect discordant rates p10 vs p01 (Connor, 1987)."""
    d = abs(p10 - p01)
    psi = p10 + p01
    if d == 0 or psi <= 0:
        return None
    za, zb = z_value(1 - alpha), statistics_z(power)
    n = (za * math.sqrt(psi) + zb * math.sqrt(max(psi - d * d, 0.0))) ** 2 / (d * d)
    return math.ceil(n)


def sample_size_paired_mean(
    mean_diff: float, sd_diff: float, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Cases needed to detect a mean paired difference with the observed spread."""
    if mean_diff == 0 or sd_diff <= 0:
        return None
    za, zb = z_value(1 - alpha), statistics_z(power)
    return math.ceil(((za + zb) * sd_diff / abs(mean_diff)) ** 2)


def statistics_z(power: float) -> float:
    """The one-sided normal quantile for ``power`` (0.84 for 0.8)."""
    return z_value(2 * power - 1)


@dataclass(frozen=True, slots=True)
class PairedTest:
    """One paired comparison (of pass/fail, or of one scorer's values)."""

    metric: str
    n: int
    a_mean: float
    b_mean: float
    difference: Interval
    p_value: float
    p_adjusted: float
    a_only: int | None = None
    """Cases A passed and B failed (pass/fail metric only)."""
    b_only: int | None = None
    needed_n: int | None = None

    @property
    def significant(self) -> bool:
        return self.p_adjusted < 0.05

    def verdict(self) -> str:
        """The result in words."""
        if self.n == 0:
            return "no cases in common"
        if self.significant:
            better = "B" if self.difference.estimate > 0 else "A"
            return (
                f"{better} better on {self.metric} (difference {self.difference.estimate:+.3f}, "
                f"p={self.p_adjusted:.3g}, n={self.n})"
            )
        need = (
            f"; about {self.needed_n} cases would be needed to detect a difference this size"
            if self.needed_n
            else ""
        )
        return f"no detectable difference on {self.metric} at n={self.n} cases{need}"


def paired_test(
    metric: str,
    a: Sequence[float],
    b: Sequence[float],
    *,
    binary: bool,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedTest:
    """Compare paired values: McNemar when ``binary`` (0/1 values), bootstrap otherwise."""
    return paired_tests([(metric, a, b, binary)], confidence=confidence, seed=seed)[0]


def paired_tests(
    comparisons: Sequence[
        tuple[str, Sequence[float] | np.ndarray, Sequence[float] | np.ndarray, bool]
    ],
    *,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[PairedTest]:
    """:func:`paired_test` of each ``(metric, a, b, binary)``, in order (not yet
    Holm-adjusted: ``p_adjusted`` is the raw p-value). Comparisons over the same number of
    cases share the bootstrap's random draws; each result equals its own
    :func:`paired_test`."""
    pairs = []
    for _, a, b, _ in comparisons:
        x = np.asarray(a, dtype=float)
        y = np.asarray(b, dtype=float)
        if x.shape != y.shape:
            raise ValueError("paired samples must have the same length")
        pairs.append((x, y))
    boots = _bootstraps([y - x for x, y in pairs], confidence, seed=seed)
    tests = []
    for (metric, _, _, binary), (x, y), (interval, p_boot) in zip(
        comparisons, pairs, boots, strict=True
    ):
        n = x.size
        a_mean = float(np.mean(x)) if n else 0.0
        b_mean = float(np.mean(y)) if n else 0.0
        if binary:
            a_only = int(np.count_nonzero((x >= 0.5) & (y < 0.5)))
            b_only = int(np.count_nonzero((y >= 0.5) & (x < 0.5)))
            p = mcnemar_exact(a_only, b_only)
            needed = sample_size_mcnemar(a_only / n, b_only / n) if n else None
            tests.append(
                PairedTest(metric, n, a_mean, b_mean, interval, p, p, a_only, b_only, needed)
            )
            continue
        sd = float((y - x).std(ddof=1)) if n > 1 else 0.0
        needed = sample_size_paired_mean(interval.estimate, sd)
        tests.append(
            PairedTest(metric, n, a_mean, b_mean, interval, p_boot, p_boot, needed_n=needed)
        )
    return tests
