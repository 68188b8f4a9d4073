"""The tool's own recomputation of lab 6's answers."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

from llmlab.evals import wilson_interval


def _two_proportion_p(k1: int, k2: int, n: int) -> float:
    pooled = (k1 + k2) / (2 * n)
    se = math.sqrt(pooled * (1 - pooled) * 2 / n)
    z = abs(k1 / n - k2 / n) / se
    return 2 * (1 - NormalDist().cdf(z))


def _cases_needed(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int:
    za = NormalDist().inv_cdf(1 - alpha / 2)
    zb = NormalDist().inv_cdf(power)
    mean = (p1 + p2) / 2
    top = za * math.sqrt(2 * mean * (1 - mean)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(top**2 / (p1 - p2) ** 2)


def expected(lab_dir: Path) -> dict[str, object]:
    a, b = wilson_interval(7, 10), wilson_interval(5, 10)
    c, d = wilson_interval(70, 100), wilson_interval(50, 100)
    return {
        "a_low": a.low,
        "a_high": a.high,
        "b_low": b.low,
        "b_high": b.high,
        "p_value": _two_proportion_p(7, 5, 10),
        "a_better": False,
        "big_a_low": c.low,
        "big_b_high": d.high,
        "big_a_better": _two_proportion_p(70, 50, 100) < 0.05,
        "cases_needed": _cases_needed(0.7, 0.8),
    }
