"""A run's summary from its stored results: pass rate, intervals, trials, tags, cost."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from llmlab.evals._stats import (
    bootstrap_mean_ci,
    consistency,
    flip_rate,
    pass_at_k,
    pass_hat_k,
    reduce_epochs,
    standard_error,
    wilson_interval,
)

__all__ = ["CaseOutcome", "reduce_cases", "summarize"]

SUMMARY_VERSION = 1


@dataclass(slots=True)
class CaseOutcome:
    """One case's trials reduced to a score and a verdict."""

    case_id: str
    score: float
    passed: bool
    errored: bool
    trials: list[bool] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    weight: float = 1.0


def reduce_cases(
    rows: Iterable[Mapping[str, Any]],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    k: int | None = None,
) -> dict[str, CaseOutcome]:
    """Group result rows by case and reduce their trials (errored trials score 0)."""
    by_case: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_case[str(row["case_id"])].append(row)
    outcomes: dict[str, CaseOutcome] = {}
    for case_id, trials in by_case.items():
        scores = [0.0 if r["errored"] or r["score"] is None else float(r["score"]) for r in trials]
        passed = [bool(r["passed"]) for r in trials]
        value, ok = reduce_epochs(scores, passed, reducer, threshold=threshold, k=k)
        parts: dict[str, list[float]] = defaultdict(list)
        for r in trials:
            for name, part in (r.get("scores") or {}).items():
                if part is not None:
                    parts[name].append(float(part))
        first = trials[0]
        outcomes[case_id] = CaseOutcome(
            case_id=case_id,
            score=value,
            passed=ok,
            errored=all(bool(r["errored"]) for r in trials),
            trials=passed,
            parts={name: statistics.fmean(v) for name, v in parts.items()},
            tags=list(first.get("tags") or []),
            weight=float(first.get("weight") or 1.0),
        )
    return outcomes


def _money(values: Iterable[Any]) -> str | None:
    present = [Decimal(str(v)) for v in values if v is not None]
    return f"{sum(present, Decimal(0)).normalize():f}" if present else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _rate(passed: int, n: int) -> dict[str, Any]:
    interval = wilson_interval(passed, n)
    return {
        "n": n,
        "passed": passed,
        "pass_rate": interval.estimate,
        "ci": [interval.low, interval.high],
    }


def _trial_stats(outcomes: Sequence[CaseOutcome], epochs: int) -> dict[str, Any]:
    trials = [o.trials for o in outcomes if o.trials]
    figures: dict[str, Any] = {
        "epochs": epochs,
        "consistency": consistency(trials),
        "mean_flip_rate": statistics.fmean(flip_rate(t) for t in trials) if trials else 0.0,
    }
    if epochs > 1 and trials:
        k = min(len(t) for t in trials)
        figures[f"pass@{k}"] = statistics.fmean(pass_at_k(len(t), sum(t), k) for t in trials)
        figures[f"pass^{k}"] = statistics.fmean(pass_hat_k(len(t), sum(t), k) for t in trials)
    return figures


def summarize(
    rows: Sequence[Mapping[str, Any]],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    min_pass_rate: float = 1.0,
    epochs: int = 1,
    k: int | None = None,
    expected_results: int | None = None,
) -> dict[str, Any]:
    """Everything a report shows about a run, as plain JSON-ready data."""
    outcomes = list(reduce_cases(rows, reducer=reducer, threshold=threshold, k=k).values())
    n = len(outcomes)
    passed = sum(o.passed for o in outcomes)
    scores = [o.score for o in outcomes]
    weights = [o.weight for o in outcomes]
    total_weight = sum(weights)
    mean = bootstrap_mean_ci(scores)
    by_tag: dict[str, list[CaseOutcome]] = defaultdict(list)
    for o in outcomes:
        for tag in o.tags:
            by_tag[tag].append(o)
    scorer_names = sorted({name for o in outcomes for name in o.parts})
    durations = [float(r["duration_s"]) for r in rows if r.get("duration_s") is not None]
    errors = [r for r in rows if r["status"] == "error"]
    pass_rate = passed / n if n else 0.0
    complete = expected_results is None or len(rows) >= expected_results
    return {
        "version": SUMMARY_VERSION,
        "cases": n,
        "results": len(rows),
        "expected_results": expected_results,
        "complete": complete,
        "passed": passed,
        "failed": n - passed,
        "errored_cases": sum(o.errored for o in outcomes),
        "pass_rate": pass_rate,
        "pass_rate_ci": list(_rate(passed, n)["ci"]),
        "threshold": threshold,
        "min_pass_rate": min_pass_rate,
        "threshold_met": complete and n > 0 and pass_rate >= min_pass_rate,
        "reducer": reducer,
        "mean_score": mean.estimate,
        "mean_score_ci": [mean.low, mean.high],
        "weighted_mean_score": (
            sum(s * w for s, w in zip(scores, weights, strict=True)) / total_weight
            if total_weight
            else 0.0
        ),
        "standard_error": standard_error(scores),
        "scorers": {
            name: statistics.fmean(o.parts[name] for o in outcomes if name in o.parts)
            for name in scorer_names
        },
        "tags": {
            tag: _rate(sum(o.passed for o in group), len(group))
            for tag, group in sorted(by_tag.items())
        },
        "trials": _trial_stats(outcomes, epochs),
        "errors": {
            "results": len(errors),
            "kinds": dict(
                sorted(
                    _count(str(r.get("error") or "")[:80] for r in errors).items(),
                    key=lambda item: -item[1],
                )[:10]
            ),
        },
        "cost": _money(r.get("cost") for r in rows),
        "input_tokens": sum(int(r.get("input_tokens") or 0) for r in rows),
        "output_tokens": sum(int(r.get("output_tokens") or 0) for r in rows),
        "cache_hits": sum(bool(r.get("cache_hit")) for r in rows),
        "judge": {
            "calls": sum(int(r.get("judge_calls") or 0) for r in rows),
            "input_tokens": sum(int(r.get("judge_input_tokens") or 0) for r in rows),
            "output_tokens": sum(int(r.get("judge_output_tokens") or 0) for r in rows),
            "cost": _money(r.get("judge_cost") for r in rows),
        },
        "latency_s": {
            "mean": statistics.fmean(durations) if durations else None,
            "p50": _percentile(durations, 0.5),
            "p95": _percentile(durations, 0.95),
        },
    }


def _count(items: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item] += 1
    return counts
