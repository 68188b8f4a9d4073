"""A run's summary from its stored results: pass rate, intervals, trials, tags, cost."""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from llmlab._json import JsonObject
from llmlab.evals._run_summary import (
    SUMMARY_VERSION,
    ErrorCounts,
    JudgeTotals,
    Latency,
    Rate,
    RunSummary,
    TrialStats,
)
from llmlab.evals._stats import (
    bootstrap_mean_ci,
    flip_rate,
    pass_at_k,
    pass_hat_k,
    reduce_epochs,
    standard_error,
    wilson_interval,
)
from llmlab.pricing import plain_decimal
from llmlab.store import EvalResultRow

__all__ = ["CaseOutcome", "reduce_cases", "summarize", "summary_of"]


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

    def add(self, row: EvalResultRow) -> None:
        errored = row.errored
        self.errored.append(errored)
        if not errored:  # an errored trial has no verdict: it is not a fail
            self.scores.append(0.0 if row.score is None else float(row.score))
            self.passed.append(row.passed)
        for name, part in row.scores.items():
            if part is not None:
                self.parts.setdefault(name, []).append(float(part))
        if len(self.errored) == 1:
            self.tags = list(row.tags)
            self.weight = 1.0 if row.weight is None else float(row.weight)  # 0 is a weight


def _outcome(
    case_id: str, t: _Trials, reducer: str, threshold: float, k: int | None
) -> CaseOutcome:
    value, ok = reduce_epochs(t.scores, t.passed, reducer, threshold=threshold, k=k)
    return CaseOutcome(
        case_id=case_id,
        score=value,
        passed=ok,
        errored=all(t.errored),
        trials=t.passed,
        parts={name: statistics.fmean(v) for name, v in t.parts.items()},
        tags=t.tags,
        weight=t.weight,
    )


def _outcomes(
    by_case: Mapping[str, _Trials], reducer: str, threshold: float, k: int | None
) -> dict[str, CaseOutcome]:
    return {c: _outcome(c, t, reducer, threshold, k) for c, t in by_case.items()}


def reduce_cases(
    rows: Iterable[EvalResultRow],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    k: int | None = None,
) -> dict[str, CaseOutcome]:
    """Group result rows by case and reduce their scored trials (errored trials are left
    out; a case none of whose trials was scored is ``errored``, score 0, not passed)."""
    by_case: dict[str, _Trials] = defaultdict(_Trials)
    for row in rows:
        by_case[row.case_id].add(row)
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
    unpriced: int = 0
    judge_unpriced: int = 0
    errored: int = 0
    durations: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, r: EvalResultRow) -> None:
        self.results += 1
        if r.cost is not None:
            self.cost = (self.cost or Decimal(0)) + r.cost
        elif r.status == "ok":  # answered, but no price known: not $0 (issue 9)
            self.unpriced += 1
        if r.judge_cost is not None:
            self.judge_cost = (self.judge_cost or Decimal(0)) + r.judge_cost
        elif r.judge_calls:
            self.judge_unpriced += 1
        self.input_tokens += r.input_tokens
        self.output_tokens += r.output_tokens
        self.cache_hits += r.cache_hit
        self.judge_calls += r.judge_calls
        self.judge_input_tokens += r.judge_input_tokens
        self.judge_output_tokens += r.judge_output_tokens
        self.errored += r.errored
        if r.duration_s is not None:
            self.durations.append(float(r.duration_s))
        if r.status == "error":
            self.errors[(r.error or "")[:80]] += 1


def _money(value: Decimal | None) -> str | None:
    return plain_decimal(value) if value is not None else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _rate(passed: int, n: int) -> Rate:
    interval = wilson_interval(passed, n)
    return Rate(n=n, passed=passed, pass_rate=interval.estimate, ci=(interval.low, interval.high))


@dataclass(slots=True)
class _Cases:
    """Run-wide figures over reduced cases, folded in one case at a time.

    Only what the statistics need per case is kept (its score and weight, 16 bytes);
    trials, tags and scorer parts are folded into counters as each case closes, so a
    summary of 10,000 cases holds no per-case objects.
    """

    scores: array[float] = field(default_factory=lambda: array("d"))
    weights: array[float] = field(default_factory=lambda: array("d"))
    passed: int = 0
    errored: int = 0
    tags: dict[str, list[int]] = field(default_factory=dict)  # tag -> [cases, passed]
    parts: dict[str, list[float]] = field(default_factory=dict)  # name -> [sum, cases]
    trials: Counter[tuple[int, int]] = field(default_factory=Counter)  # (n, passed) -> cases

    def add(self, o: CaseOutcome) -> None:
        if o.errored:  # no verdict: counted apart, not in the pass rate or the mean
            self.errored += 1
            return
        self.scores.append(o.score)
        self.weights.append(o.weight)
        self.passed += o.passed
        for tag in o.tags:
            counts = self.tags.setdefault(tag, [0, 0])
            counts[0] += 1
            counts[1] += o.passed
        for name, value in o.parts.items():
            total = self.parts.setdefault(name, [0.0, 0.0])
            total[0] += value
            total[1] += 1
        if o.trials:
            self.trials[(len(o.trials), sum(o.trials))] += 1

    def trial_stats(self, epochs: int, k: int | None) -> TrialStats:
        cases = sum(self.trials.values())
        agree = sum(m for (n, c), m in self.trials.items() if c in (0, n))
        flips = sum(
            m * flip_rate([True] * c + [False] * (n - c)) for (n, c), m in self.trials.items()
        )
        pass_k: dict[str, float] = {}
        if epochs > 1 and cases:
            # The suite's k (as its pass@k reducer uses), else every trial.
            k = min(k or epochs, *(n for n, _ in self.trials))
            at = sum(m * pass_at_k(n, c, k) for (n, c), m in self.trials.items())
            hat = sum(m * pass_hat_k(n, c, k) for (n, c), m in self.trials.items())
            pass_k[f"pass@{k}"] = at / cases
            pass_k[f"pass^{k}"] = hat / cases
        return TrialStats(
            epochs=epochs,
            consistency=agree / cases if cases else 1.0,
            mean_flip_rate=flips / cases if cases else 0.0,
            pass_k=pass_k,
        )


def _fold(
    rows: Iterable[EvalResultRow], reducer: str, threshold: float, k: int | None
) -> tuple[_Cases, _Totals]:
    cases, totals = _Cases(), _Totals()
    open_id: str | None = None
    trials = _Trials()
    closed: set[str] = set()
    for row in rows:
        totals.add(row)
        if row.case_id != open_id:
            if open_id is not None:
                cases.add(_outcome(open_id, trials, reducer, threshold, k))
                closed.add(open_id)
            if row.case_id in closed:
                raise ValueError(f"results of case {row.case_id!r} are not together")
            open_id, trials = row.case_id, _Trials()
        trials.add(row)
    if open_id is not None:
        cases.add(_outcome(open_id, trials, reducer, threshold, k))
    return cases, totals


def summary_of(
    rows: Iterable[EvalResultRow],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    min_pass_rate: float = 1.0,
    epochs: int = 1,
    k: int | None = None,
    expected_results: int | None = None,
    max_errors: int = 0,
) -> RunSummary:
    """Everything a report shows about a run, in one pass over ``rows`` (a stream is
    fine) that must hold each case's trials together, as ``iter_eval_results`` yields them.

    An errored result (its call failed, or its scorer could not judge) is not a fail:
    pass rate and mean are over the scored cases, errored ones are counted apart, and
    the run misses its threshold when more than ``max_errors`` results errored.

    Raises:
        ValueError: a case's results are not together.
    """
    cases, totals = _fold(rows, reducer, threshold, k)
    n = len(cases.scores)
    passed = cases.passed
    total_weight = math.fsum(cases.weights)
    mean = bootstrap_mean_ci(cases.scores)
    pass_rate = passed / n if n else 0.0
    complete = expected_results is None or totals.results >= expected_results
    errors_ok = totals.errored <= max_errors
    durations = totals.durations
    return RunSummary(
        version=SUMMARY_VERSION,
        cases=n + cases.errored,
        scored_cases=n,
        results=totals.results,
        expected_results=expected_results,
        complete=complete,
        passed=passed,
        failed=n - passed,
        errored_cases=cases.errored,
        errored_results=totals.errored,
        max_errors=max_errors,
        errors_within_limit=errors_ok,
        pass_rate=pass_rate,
        pass_rate_ci=_rate(passed, n).ci,
        threshold=threshold,
        min_pass_rate=min_pass_rate,
        threshold_met=complete and n > 0 and pass_rate >= min_pass_rate and errors_ok,
        reducer=reducer,
        mean_score=mean.estimate,
        mean_score_ci=(mean.low, mean.high),
        weighted_mean_score=(
            math.fsum(s * w for s, w in zip(cases.scores, cases.weights, strict=True))
            / total_weight
            if total_weight
            else 0.0
        ),
        standard_error=standard_error(cases.scores),
        scorers={name: total / m for name, (total, m) in sorted(cases.parts.items())},
        tags={tag: _rate(p, m) for tag, (m, p) in sorted(cases.tags.items())},
        trials=cases.trial_stats(epochs, k),
        errors=ErrorCounts(
            results=sum(totals.errors.values()),
            kinds=dict(sorted(totals.errors.items(), key=lambda item: -item[1])[:10]),
        ),
        cost=_money(totals.cost),
        unpriced_results=totals.unpriced,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cache_hits=totals.cache_hits,
        judge=JudgeTotals(
            calls=totals.judge_calls,
            input_tokens=totals.judge_input_tokens,
            output_tokens=totals.judge_output_tokens,
            cost=_money(totals.judge_cost),
            unpriced_results=totals.judge_unpriced,
        ),
        latency_s=Latency(
            mean=statistics.fmean(durations) if durations else None,
            p50=_percentile(durations, 0.5),
            p95=_percentile(durations, 0.95),
        ),
    )


def summarize(
    rows: Iterable[EvalResultRow],
    *,
    reducer: str = "mean",
    threshold: float = 0.7,
    min_pass_rate: float = 1.0,
    epochs: int = 1,
    k: int | None = None,
    expected_results: int | None = None,
    max_errors: int = 0,
) -> JsonObject:
    """:func:`summary_of` as the stored JSON document (``RunSummary.to_dict()``)."""
    return summary_of(
        rows,
        reducer=reducer,
        threshold=threshold,
        min_pass_rate=min_pass_rate,
        epochs=epochs,
        k=k,
        expected_results=expected_results,
        max_errors=max_errors,
    ).to_dict()
