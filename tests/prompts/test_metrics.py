"""Aggregates from the calls table: exact totals, means with intervals, per arm diffs."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from llmlab.monitor import CallRecord, new_call_id, rebuild_rollups, record
from llmlab.monitor._histogram import RELATIVE_ERROR
from llmlab.prompts import Experiments, PromptRegistry, PromptVersion, experiment_report
from llmlab.prompts import version_metrics as metrics_of
from llmlab.store import insert_calls


def call(version: int, cost: str | None, duration: float, **links: object) -> dict[str, object]:
    rec = CallRecord(
        id=new_call_id(),
        started_at=datetime.now(UTC),
        provider="openai",
        requested_model="gpt-4o-mini",
        duration_s=duration,
        input_tokens=100,
        output_tokens=20 + version,
        cost=None if cost is None else Decimal(cost),
        cost_status="unpriced" if cost is None else "priced",
        prompt_name="p",
        prompt_version=version,
    )
    return {**dataclasses.asdict(rec), **links}


def test_version_metrics_totals_are_exact_decimals(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("a"))
    registry.register("p", PromptVersion("b"))
    rows = [call(1, "0.000123", 0.5 + i / 100) for i in range(10)]
    rows += [call(2, None, 1.0), call(2, "0.1", 2.0), call(2, "0.2", 3.0)]
    insert_calls(registry.store, rows)
    rebuild_rollups(store=registry.store)  # a bulk insert: the rollups fold it in
    metrics = metrics_of("p", store=registry.store)
    one, two = metrics[1][0], metrics[2][0]
    assert one.calls == 10 and one.total_cost == Decimal("0.00123")
    assert one.latency_s.mean == pytest.approx(0.545)
    # From the rollups' histograms: within their relative error of the nearest rank.
    assert one.latency_p50_s == pytest.approx(0.54, rel=RELATIVE_ERROR)
    assert one.latency_p95_s == pytest.approx(0.59, rel=RELATIVE_ERROR)
    assert one.latency_s.to_dict()["low"] is None  # the rollups keep no sums of squares
    assert one.output_tokens.mean == 21 and one.input_tokens.n == 10
    assert two.calls == 3 and two.total_cost == Decimal("0.3")
    assert two.cost.n == 2 and two.cost.mean == pytest.approx(0.15)  # unpriced left out
    assert metrics[1][1] is None  # no eval results


def test_version_metrics_count_recorded_calls_and_errors(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("a"))
    registry.register("pp", PromptVersion("a"))  # "pp@1" is not a version of "p"
    for i in range(6):
        rec = CallRecord(**{**call(1, "0.01", 1.0 + i), "status": "error" if i == 5 else "ok"})
        record(rec, store=registry.store)  # the recorder keeps the rollups current
    record(CallRecord(**{**call(1, "0.5", 9.0), "prompt_name": "pp"}), store=registry.store)
    metrics = metrics_of("p", store=registry.store)
    assert list(metrics) == [1]
    one = metrics[1][0]
    assert (one.calls, one.errors, one.total_cost) == (6, 1, Decimal("0.06"))
    assert one.latency_s.n == 5 and one.latency_s.mean == pytest.approx(3.0)  # ok calls only
    assert one.to_dict()["latency_p99_s"] == pytest.approx(5.0, rel=RELATIVE_ERROR)


def test_report_latency_and_cost_differences(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("a"))
    registry.register("p", PromptVersion("b"))
    Experiments().create("e", "p", {"control": 1, "new": 2})
    rows = [call(1, "0.001", 1.0 + (i % 5) / 10, experiment="e", arm="control") for i in range(50)]
    rows += [call(2, "0.002", 2.0 + (i % 5) / 10, experiment="e", arm="new") for i in range(50)]
    insert_calls(registry.store, rows)
    report = experiment_report("e")
    new = report.arms[1]
    assert new.latency_diff is not None and new.cost_diff is not None
    latency, p = new.latency_diff
    assert latency.estimate == pytest.approx(1.0) and latency.low > 0.9 and p < 0.001
    assert new.cost_diff[0].estimate == pytest.approx(0.001)
    assert report.to_dict()["arms"][0]["total_cost"] == "0.05"
    assert "not enough quality data" in report.verdict


def test_mean_interval_stays_inside_the_possible_range() -> None:
    from llmlab.prompts._moments import MeanEstimate

    scores = [0.0, 0.0, 0.0, 0.2, 0.0]  # mean 0.04: a normal interval would dip below 0
    moments = (len(scores), sum(scores), sum(s * s for s in scores))
    unbounded = MeanEstimate.of(moments)
    bounded = MeanEstimate.of(moments, lower=0.0, upper=1.0)
    assert unbounded.low < 0
    assert bounded.low == 0.0 and bounded.high == unbounded.high
    assert bounded.mean == unbounded.mean


def test_one_value_has_a_mean_but_no_interval() -> None:
    from llmlab.prompts._moments import MeanEstimate

    one = MeanEstimate.of((1, 0.5, 0.25), lower=0.0)
    assert one.mean == 0.5
    assert one.to_dict() == {"n": 1, "mean": 0.5, "low": None, "high": None}
