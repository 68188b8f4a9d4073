"""Reads of eval runs and results for judge calibration and the cost-quality frontier.

Typed rows of exactly what those need: a run's facts, and its results with their scores,
costs and timings (texts only when asked, for labelling).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select, update

from llmlab.store._handle import Store
from llmlab.store._tables_evals import eval_results, eval_runs

__all__ = [
    "JudgedResult",
    "RunFacts",
    "judged_results",
    "match_run_ids",
    "run_facts",
    "runs_of_suite",
    "update_run_summary",
]


@dataclass(frozen=True, slots=True)
class RunFacts:
    """One eval run as calibration and the frontier read it."""

    id: str
    name: str
    model: str
    status: str
    started_at: datetime
    threshold: float
    epochs: int
    n_cases: int
    parent_run: str | None
    suite_path: str | None
    suite: dict[str, Any]
    options: dict[str, Any]
    summary: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class JudgedResult:
    """One (case, epoch) result: its verdicts, cost and timing (texts when asked)."""

    case_id: str
    epoch: int
    status: str
    score: float | None
    passed: bool
    errored: bool
    scores: dict[str, float | None]
    error: str | None
    cost: Decimal | None
    judge_cost: Decimal | None
    duration_s: float | None
    input_tokens: int
    output_tokens: int
    prompt: str | None = None
    output: str | None = None
    explanation: str | None = None
    case_data: dict[str, Any] | None = None


def _run(row: Row[Any]) -> RunFacts:
    return RunFacts(
        id=str(row.id),
        name=str(row.name),
        model=str(row.model),
        status=str(row.status),
        started_at=row.started_at,
        threshold=float(row.threshold),
        epochs=int(row.epochs),
        n_cases=int(row.n_cases),
        parent_run=row.parent_run,
        suite_path=row.suite_path,
        suite=dict(row.suite or {}),
        options=dict(row.options or {}),
        summary=dict(row.summary) if row.summary is not None else None,
    )


def run_facts(store: Store, run_id: str) -> RunFacts | None:
    """One run, or None."""
    with store.read() as conn:
        row = conn.execute(select(eval_runs).where(eval_runs.c.id == run_id)).first()
    return _run(row) if row is not None else None


def match_run_ids(store: Store, prefix: str, *, limit: int = 500) -> list[str]:
    """Ids equal to ``prefix`` (alone) or starting with it, newest first; with an empty
    prefix, the newest ``limit`` ids."""
    query = select(eval_runs.c.id).order_by(eval_runs.c.started_at.desc()).limit(limit)
    if prefix:
        query = query.where(eval_runs.c.id.startswith(prefix, autoescape=True))
    with store.read() as conn:
        ids = [str(i) for i in conn.execute(query).scalars()]
    return [prefix] if prefix in ids else ids


def runs_of_suite(store: Store, name: str, *, since: datetime | None = None) -> list[RunFacts]:
    """Finished runs of the suite ``name`` (started at or after ``since``), newest first."""
    query = (
        select(eval_runs)
        .where(eval_runs.c.name == name, eval_runs.c.status == "finished")
        .order_by(eval_runs.c.started_at.desc())
    )
    if since is not None:
        query = query.where(eval_runs.c.started_at >= since)
    with store.read() as conn:
        return [_run(r) for r in conn.execute(query)]


_BRIEF = [
    eval_results.c.case_id,
    eval_results.c.epoch,
    eval_results.c.status,
    eval_results.c.score,
    eval_results.c.passed,
    eval_results.c.errored,
    eval_results.c.scores,
    eval_results.c.error,
    eval_results.c.cost,
    eval_results.c.judge_cost,
    eval_results.c.duration_s,
    eval_results.c.input_tokens,
    eval_results.c.output_tokens,
]
_TEXTS = [
    eval_results.c.prompt,
    eval_results.c.output,
    eval_results.c.explanation,
    eval_results.c.case_data,
]


def judged_results(
    store: Store, run_id: str, *, texts: bool = False, cases: Iterable[str] | None = None
) -> list[JudgedResult]:
    """A run's results ordered by case and epoch; ``texts`` adds prompt, output,
    explanation and case data; ``cases`` keeps only those case ids."""
    query = (
        select(*_BRIEF, *(_TEXTS if texts else []))
        .where(eval_results.c.run_id == run_id)
        .order_by(eval_results.c.case_id, eval_results.c.epoch)
    )
    if cases is not None:
        query = query.where(eval_results.c.case_id.in_(list(cases)))
    out: list[JudgedResult] = []
    with store.read() as conn:
        for r in conn.execute(query):
            m = r._mapping
            out.append(
                JudgedResult(
                    case_id=str(m["case_id"]),
                    epoch=int(m["epoch"]),
                    status=str(m["status"]),
                    score=None if m["score"] is None else float(m["score"]),
                    passed=bool(m["passed"]),
                    errored=bool(m["errored"]),
                    scores=dict(m["scores"] or {}),
                    error=m["error"],
                    cost=m["cost"],
                    judge_cost=m["judge_cost"],
                    duration_s=m["duration_s"],
                    input_tokens=int(m["input_tokens"] or 0),
                    output_tokens=int(m["output_tokens"] or 0),
                    prompt=m["prompt"] if texts else None,
                    output=m["output"] if texts else None,
                    explanation=m["explanation"] if texts else None,
                    case_data=dict(m["case_data"] or {}) if texts else None,
                )
            )
    return out


def update_run_summary(store: Store, run_id: str, summary: dict[str, Any]) -> None:
    """Replace a run's stored summary."""
    with store.write() as conn:
        conn.execute(update(eval_runs).where(eval_runs.c.id == run_id).values(summary=summary))
