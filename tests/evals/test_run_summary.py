"""The run summary as a typed object: the stored document reads back to the same object
and writes back byte for byte, and an older, shorter document reads with defaults."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from llmlab.evals import JudgeStatus, RunSummary, run_summary, summarize, summary_of
from llmlab.store import EvalResultRow


def _rows() -> list[EvalResultRow]:
    def row(case: str, epoch: int, ok: bool, tag: str, status: str = "ok") -> EvalResultRow:
        return EvalResultRow(
            run_id="r",
            case_id=case,
            epoch=epoch,
            status=status,
            score=1.0 if ok else 0.25,
            passed=ok,
            errored=status == "error",
            error="boom" if status == "error" else None,
            scores={"exact": 1.0 if ok else 0.0, "length": 0.5},
            tags=[tag],
            cost=Decimal("0.000123") if ok else None,
            duration_s=0.5 + epoch,
            judge_calls=1,
            judge_cost=Decimal("0.00001"),
        )

    return [
        row("a", 1, True, "x"),
        row("a", 2, False, "x"),
        row("b", 1, True, "x"),
        row("b", 2, True, "x"),
        row("c", 1, False, "y"),
        row("c", 2, False, "y", status="error"),
    ]


def test_the_stored_document_round_trips_byte_for_byte() -> None:
    summary = summary_of(_rows(), epochs=2, k=2, threshold=0.6, expected_results=8)
    doc = summary.to_dict()
    assert doc == summarize(_rows(), epochs=2, k=2, threshold=0.6, expected_results=8)
    judged = RunSummary.from_dict(
        doc | {"judges": {"judge": {"model": "m", "key": "k", "calibrated": False}}}
    )
    stored = json.loads(json.dumps(judged.to_dict()))  # as the database gives it back
    again = RunSummary.from_dict(stored)
    assert again == judged
    assert json.dumps(again.to_dict()) == json.dumps(stored)
    assert again.judges == {"judge": JudgeStatus(model="m", key="k", calibrated=False)}
    # What the reports read, as attributes.
    assert (again.cases, again.scored_cases, again.passed) == (3, 3, 2)
    assert not again.complete and again.expected_results == 8
    assert set(again.trials.pass_k) == {"pass@1", "pass^1"}  # case c has one scored trial
    assert again.tags["x"].n == 2 and again.tags["y"].passed == 0
    assert again.judge.calls == 6 and again.judge.cost == "0.00006"
    assert again.errors.kinds == {"boom": 1}
    assert again.latency_s.p95 == pytest.approx(2.5)


def test_an_older_document_reads_with_the_defaults_reports_assumed() -> None:
    old = {"version": 1, "cases": 4, "passed": 3, "pass_rate": 0.75, "threshold_met": True}
    s = RunSummary.from_dict(old)
    assert s.scored_cases == 4 and s.unpriced_results == 0 and s.errors_within_limit
    assert s.judges is None and s.trials.epochs == 1 and s.judge.cost is None
    assert run_summary({}) is None and run_summary(None) is None
