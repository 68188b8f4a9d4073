"""Measured quality, tokens, cost and latency per prompt version and per experiment arm.

Nothing here is entered by hand: calls carry their prompt version and experiment arm
(``call_links``), eval results point at their calls, feedback points at a call.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from llmlab._errors import InputError, NotFoundError
from llmlab._json import JsonObject
from llmlab.evals import Interval
from llmlab.monitor import GroupStats, call_stats, flush
from llmlab.pricing import plain_decimal
from llmlab.prompts._experiments import Experiment, experiments
from llmlab.prompts._moments import MeanEstimate, mean_difference
from llmlab.store import Store, resolve_store
from llmlab.store import _prompts as rows
from llmlab.store._prompts import CallStats

__all__ = [
    "ArmReport",
    "CallMetrics",
    "ExperimentReport",
    "QualityMetrics",
    "call_metrics",
    "experiment_report",
    "record_feedback",
    "rollup_metrics",
    "version_metrics",
]


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """What a set of calls cost and how long they took (means, latency percentiles)."""

    calls: int
    errors: int
    latency_s: MeanEstimate
    input_tokens: MeanEstimate
    output_tokens: MeanEstimate
    cost: MeanEstimate
    """Mean cost per priced call, in USD (unpriced calls have no cost and are left out)."""
    total_cost: Decimal | None
    """Sum of the calls' costs; None when none was priced."""
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    latency_p99_s: float | None = None
    """Latency percentiles of the successful calls (from the rollups' histograms: within
    ``percentile_relative_error`` of the exact values); None when not computed."""

    def to_dict(self) -> JsonObject:
        """JSON-ready form (means as ``{n, mean, low, high}``, cost as text)."""
        return {
            "calls": self.calls,
            "errors": self.errors,
            "latency_s": self.latency_s.to_dict(),
            "latency_p50_s": self.latency_p50_s,
            "latency_p95_s": self.latency_p95_s,
            "latency_p99_s": self.latency_p99_s,
            "input_tokens": self.input_tokens.to_dict(),
            "output_tokens": self.output_tokens.to_dict(),
            "cost": self.cost.to_dict(),
            "total_cost": None if self.total_cost is None else plain_decimal(self.total_cost),
        }


@dataclass(frozen=True, slots=True)
class QualityMetrics:
    """Scores from eval results (or feedback) linked to a version or arm."""

    score: MeanEstimate
    pass_rate: float | None = None
    runs: int = 0

    def to_dict(self) -> JsonObject:
        """JSON-ready form."""
        return {"score": self.score.to_dict(), "pass_rate": self.pass_rate, "runs": self.runs}


def call_metrics(stats: CallStats | None) -> CallMetrics:
    """CallMetrics from one group of ``store`` call aggregates (None: no calls)."""
    if stats is None:
        empty = MeanEstimate.of((0, 0.0, 0.0))
        return CallMetrics(0, 0, empty, empty, empty, empty, None)
    return CallMetrics(
        calls=stats.calls,
        errors=stats.errors,
        latency_s=MeanEstimate.of(stats.duration_s, lower=0.0),
        input_tokens=MeanEstimate.of(stats.input_tokens, lower=0.0),
        output_tokens=MeanEstimate.of(stats.output_tokens, lower=0.0),
        cost=MeanEstimate.of(stats.cost, lower=0.0),
        total_cost=stats.total_cost,
    )


def _mean(n: int, total: float) -> MeanEstimate:
    """A mean known from its sum only: no interval (NaN bounds, infinite error)."""
    if n <= 0:
        return MeanEstimate.of((0, 0.0, 0.0))
    return MeanEstimate(n, total / n, math.nan, math.nan, math.inf)


def rollup_metrics(group: GroupStats) -> CallMetrics:
    """CallMetrics of one group of :func:`llmlab.monitor.call_stats` (the rollups).

    Exact: calls, errors (errored and refused calls), token means, the total cost and
    the mean cost per priced call. Latency: the exact mean over successful calls and its
    percentiles within the histogram's relative error (under 2 %). The rollups keep sums,
    not sums of squares, so the means have no interval (``low``/``high`` NaN).
    """
    priced = group.calls - group.unpriced - group.refused
    ok = group.calls - group.errors - group.refused
    latency = _mean(0, 0.0)
    if ok > 0 and group.latency_mean_s is not None:
        latency = MeanEstimate(ok, group.latency_mean_s, math.nan, math.nan, math.inf)
    return CallMetrics(
        calls=group.calls,
        errors=group.errors + group.refused,
        latency_s=latency,
        input_tokens=_mean(group.calls, group.input_tokens),
        output_tokens=_mean(group.calls, group.output_tokens),
        cost=_mean(priced, float(group.cost)),
        total_cost=group.cost if priced > 0 else None,
        latency_p50_s=group.latency_p50_s,
        latency_p95_s=group.latency_p95_s,
        latency_p99_s=group.latency_p99_s,
    )


def _prompt_versions(name: str, store: Store) -> dict[int, CallMetrics]:
    # The rollups key a call by "name@version" under the "prompt" dimension.
    prefix = f"{name}@"
    out: dict[int, CallMetrics] = {}
    for group in call_stats(by="prompt", store=store).groups:
        version = group.key[len(prefix) :]
        if group.key.startswith(prefix) and version.isdigit():
            out[int(version)] = rollup_metrics(group)
    return out


def version_metrics(
    name: str, *, store: Store | None = None
) -> dict[int, tuple[CallMetrics, QualityMetrics | None]]:
    """Per version of ``name``: call metrics, and eval quality when eval results exist.

    Call metrics come from the monitor's rollups (see :func:`rollup_metrics`: exact
    counts, tokens and costs; latency percentiles within the histogram's relative error;
    means without intervals), so a prompt with a million calls costs what one with ten
    does. Calls stored behind the recorder's back (bulk imports) count once
    :func:`llmlab.monitor.rebuild_rollups` has folded them in. Eval quality (means with
    intervals) is computed from the eval results linked to the prompt's calls.
    """
    handle = resolve_store(store)
    flush(handle)  # calls this process made are counted too
    calls = _prompt_versions(name, handle)
    evals = rows.prompt_eval_stats(handle, name)
    out: dict[int, tuple[CallMetrics, QualityMetrics | None]] = {}
    for version in sorted(calls.keys() | evals.keys()):
        quality = None
        if version in evals:
            e = evals[version]
            n = e.score[0]
            quality = QualityMetrics(
                MeanEstimate.of(e.score, lower=0.0, upper=1.0),
                e.passed / n if n else None,
                e.runs,
            )
        out[version] = (calls.get(version) or call_metrics(None), quality)
    return out


# -- experiments -----------------------------------------------------------------------


def record_feedback(
    call_id: str,
    score: float,
    *,
    comment: str | None = None,
    source: str = "user",
    store: Store | None = None,
) -> int:
    """Record a quality score (user feedback or a scorer) for one recorded call.

    Returns the feedback id. Raises NotFoundError when no such call was recorded.
    """
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        # Quality is a score in [0, 1], as an eval scorer's: the report's intervals are
        # kept inside that range.
        raise InputError(f"feedback score must be a number in [0, 1], got {score}")
    handle = resolve_store(store)
    if not rows.call_exists(handle, call_id):
        flush(handle)  # the call may still sit in the recorder's queue
    if not rows.call_exists(handle, call_id):
        raise NotFoundError("call", call_id)
    return rows.insert_feedback_row(
        handle,
        call_id=call_id,
        score=float(score),
        comment=comment,
        source=source,
        created_at=datetime.now(UTC),
    )


@dataclass(frozen=True, slots=True)
class ArmReport:
    """One arm's numbers, and its difference to the control arm."""

    arm: str
    version: int
    weight: float
    units: int
    exposures: int
    metrics: CallMetrics
    quality: MeanEstimate
    quality_diff: tuple[Interval, float] | None
    latency_diff: tuple[Interval, float] | None
    cost_diff: tuple[Interval, float] | None

    def to_dict(self) -> JsonObject:
        """JSON-ready form: the arm, its call metrics, quality, differences to control."""

        def diff(d: tuple[Interval, float] | None) -> dict[str, float] | None:
            if d is None:
                return None
            return {"estimate": d[0].estimate, "low": d[0].low, "high": d[0].high, "p": d[1]}

        return {
            "arm": self.arm,
            "version": self.version,
            "weight": self.weight,
            "units": self.units,
            "exposures": self.exposures,
            **self.metrics.to_dict(),
            "quality": self.quality.to_dict(),
            "quality_vs_control": diff(self.quality_diff),
            "latency_vs_control": diff(self.latency_diff),
            "cost_vs_control": diff(self.cost_diff),
        }


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    """Per-arm exposures, calls, quality, cost and latency, with a verdict."""

    experiment: Experiment
    arms: list[ArmReport]
    verdict: str

    def to_dict(self) -> JsonObject:
        """JSON-ready form."""
        return {
            "experiment": self.experiment.to_dict(),
            "arms": [a.to_dict() for a in self.arms],
            "verdict": self.verdict,
        }


def _verdict(arms: list[ArmReport], alpha: float = 0.05) -> str:
    control = arms[0]
    if len(arms) < 2:
        return "one arm only: nothing to compare"
    parts: list[str] = []
    m = len(arms) - 1  # Bonferroni over the arms compared with the control
    for arm in arms[1:]:
        if arm.quality_diff is None:
            parts.append(
                f"{arm.arm}: not enough quality data (feedback on {arm.quality.n} calls, "
                f"control {control.quality.n}; need 2+ each)"
            )
            continue
        interval, p = arm.quality_diff
        if p * m < alpha:
            side = "better" if interval.estimate > 0 else "worse"
            parts.append(
                f"{arm.arm} {side} than {control.arm} on quality "
                f"({interval.estimate:+.3f}, 95% CI [{interval.low:+.3f}, {interval.high:+.3f}], "
                f"p={min(1.0, p * m):.3g})"
            )
        else:
            parts.append(
                f"{arm.arm}: no significant quality difference from {control.arm} "
                f"({interval.estimate:+.3f}, 95% CI [{interval.low:+.3f}, {interval.high:+.3f}])"
            )
    return "; ".join(parts)


def _within(
    diff: tuple[Interval, float] | None, lower: float, upper: float
) -> tuple[Interval, float] | None:
    """A difference's interval kept inside its possible range (two scores in [0, 1]
    differ by at most 1): the normal approximation alone can run past it."""
    if diff is None:
        return None
    interval, p = diff
    low, high = max(lower, interval.low), min(upper, interval.high)
    return dataclasses.replace(interval, low=low, high=high), p


def experiment_report(name: str, *, store: Store | None = None) -> ExperimentReport:
    """The report of experiment ``name``: per arm, against the first arm (the control)."""
    handle = resolve_store(store)
    exp = experiments(store=handle).get(name, fresh=True)
    flush(handle)  # calls this process made are counted too
    calls = rows.arm_call_stats(handle, name)
    feedback = rows.arm_feedback_stats(handle, name)
    exposed = rows.arm_exposure_counts(handle, name)
    reports: list[ArmReport] = []
    control_q = control_m = None
    for arm in exp.arms:
        metrics = call_metrics(calls.get(arm.name))
        quality = MeanEstimate.of(feedback.get(arm.name, (0, 0.0, 0.0)), lower=0.0, upper=1.0)
        if control_q is None or control_m is None:
            control_q, control_m = quality, metrics
            diffs: tuple[Any, Any, Any] = (None, None, None)
        else:
            diffs = (
                _within(mean_difference(control_q, quality), -1.0, 1.0),
                mean_difference(control_m.latency_s, metrics.latency_s),
                mean_difference(control_m.cost, metrics.cost),
            )
        counts = exposed.get(arm.name)
        units, total = (counts.units, counts.exposures) if counts else (0, 0)
        reports.append(
            ArmReport(arm.name, arm.version, arm.weight, units, total, metrics, quality, *diffs)
        )
    return ExperimentReport(exp, reports, _verdict(reports))
