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
from llmlab.pricing import plain_decimal

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


@dataclass(slots=True)
class _Trials:
    scores: list[float] = field(default_factory=list)
    passed: list[bool] = field(default_factory=list)
    errored: list[bool] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    weight: float = 1.0

    def add(self, row: Mapping[str, Any]) -> None:
        errored = bool(row["errored"])
        self.errored.append(errored)
        if not errored:  # an errored trial has no verdict: it is not a fail
            self.scores.append(0.0 if row["score"] is None else float(row["score"]))
            self.passed.append(bool(row["passed"]))
        for name, part in (row.get("scores") or {}).items():
            if part is not None:
                self.parts.setdefault(name, []).append(float(part))
        if len(self.errored) == 1:
            self.tags = list(row.get("tags") or [])
            self.weight = float(row.get("weight") or 1.0)


def _outcomes(
    by_case: Mapping[str, _Trials], reducer: str, threshold: float, k: int | None
) -> dict[str, CaseOutcome]:
    outcomes: dict[str, CaseOutcome] = {}
    for case_id, t in by_case.items():
        value, ok = reduce_epochs(t.scores, t.passed, reducer, threshold=threshold, k=k)
        outcomes[case_id] = CaseOutcome(
            case_id=case_id,
            score=value,
            passed=ok,
            errored=all(t.errored),
            trials=t.passed,
            parts={name: statistics.fmean(v) for name, v in t.parts.items()},
            tags=t.tags,
            weight=t.weight,
        )
    return outcomes


def reduce_cases(
    rows: Iterable[Mapping[str, Any]],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    k: int | None = None,
) -> dict[str, CaseOutcome]:
    """Group result rows by case and reduce their scored trials (errored trials are left
    out; a case none of whose trials was scored is ``errored``, score 0, not passed)."""
    by_case: dict[str, _Trials] = defaultdict(_Trials)
    for row in rows:
        by_case[str(row["case_id"])].add(row)
    return _outcomes(by_case, reducer, threshold, k)


@dataclass(slots=True)
class _Totals:
    """Run-wide sums, gathered in the same single pass over the rows."""

    results: int = 0
    cost: Decimal | None = None
    judge_cost: Decimal | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0
    judge_calls: int = 0
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    durations: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, r: Mapping[str, Any]) -> None:
        self.results += 1
        if r.get("cost") is not None:
            self.cost = (self.cost or Decimal(0)) + Decimal(str(r["cost"]))
        if r.get("judge_cost") is not None:
            self.judge_cost = (self.judge_cost or Decimal(0)) + Decimal(str(r["judge_cost"]))
        self.input_tokens += int(r.get("input_tokens") or 0)
        self.output_tokens += int(r.get("output_tokens") or 0)
        self.cache_hits += bool(r.get("cache_hit"))
        self.judge_calls += int(r.get("judge_calls") or 0)
        self.judge_input_tokens += int(r.get("judge_input_tokens") or 0)
        self.judge_output_tokens += int(r.get("judge_output_tokens") or 0)
        if r.get("duration_s") is not None:
            self.durations.append(float(r["duration_s"]))
        if r["status"] == "error":
            self.errors[str(r.get("error") or "")[:80]] += 1


def _money(value: Decimal | None) -> str | None:
    return plain_decimal(value) if value is not None else None


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


def _trial_stats(
    outcomes: Sequence[CaseOutcome], epochs: int, k: int | None = None
) -> dict[str, Any]:
    trials = [o.trials for o in outcomes if o.trials]
    figures: dict[str, Any] = {
        "epochs": epochs,
        "consistency": consistency(trials),
        "mean_flip_rate": statistics.fmean(flip_rate(t) for t in trials) if trials else 0.0,
    }
    if epochs > 1 and trials:
        # The suite's k (as its pass@k reducer uses), else every trial.
        k = min(k or epochs, *(len(t) for t in trials))
        figures[f"pass@{k}"] = statistics.fmean(pass_at_k(len(t), sum(t), k) for t in trials)
        figures[f"pass^{k}"] = statistics.fmean(pass_hat_k(len(t), sum(t), k) for t in trials)
    return figures


def summarize(
    rows: Iterable[Mapping[str, Any]],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    min_pass_rate: float = 1.0,
    epochs: int = 1,
    k: int | None = None,
    expected_results: int | None = None,
    max_errors: int = 0,
) -> dict[str, Any]:
    """Everything a report shows about a run, as plain JSON-ready data (one pass over
    ``rows``, which may be a stream).

    An errored result (its call failed, or its scorer could not judge) is not a fail:
    pass rate and mean are over the scored cases, errored ones are counted apart, and
    the run misses its threshold when more than ``max_errors`` results errored.
    """
    by_case: dict[str, _Trials] = defaultdict(_Trials)
    totals = _Totals()
    for row in rows:
        by_case[str(row["case_id"])].add(row)
        totals.add(row)
    errored_results = sum(sum(t.errored) for t in by_case.values())
    every = list(_outcomes(by_case, reducer, threshold, k).values())
    del by_case
    # Pass rate and mean are over the scored cases; errored ones are counted apart.
    outcomes = [o for o in every if not o.errored]
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
    pass_rate = passed / n if n else 0.0
    complete = expected_results is None or totals.results >= expected_results
    errors_ok = errored_results <= max_errors
    durations = totals.durations
    return {
        "version": SUMMARY_VERSION,
        "cases": len(every),
        "scored_cases": n,
        "results": totals.results,
        "expected_results": expected_results,
        "complete": complete,
        "passed": passed,
        "failed": n - passed,
        "errored_cases": len(every) - n,
        "errored_results": errored_results,
        "max_errors": max_errors,
        "errors_within_limit": errors_ok,
        "pass_rate": pass_rate,
        "pass_rate_ci": list(_rate(passed, n)["ci"]),
        "threshold": threshold,
        "min_pass_rate": min_pass_rate,
        "threshold_met": complete and n > 0 and pass_rate >= min_pass_rate and errors_ok,
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
        "trials": _trial_stats(outcomes, epochs, k),
        "errors": {
            "results": sum(totals.errors.values()),
            "kinds": dict(sorted(totals.errors.items(), key=lambda item: -item[1])[:10]),
        },
        "cost": _money(totals.cost),
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cache_hits": totals.cache_hits,
        "judge": {
            "calls": totals.judge_calls,
            "input_tokens": totals.judge_input_tokens,
            "output_tokens": totals.judge_output_tokens,
            "cost": _money(totals.judge_cost),
        },
        "latency_s": {
            "mean": statistics.fmean(durations) if durations else None,
            "p50": _percentile(durations, 0.5),
            "p95": _percentile(durations, 0.95),
        },
    }
