"""Reads and writes of eval runs that judge calibration and the cost-quality frontier
need beyond ``llmlab.store._evals``: a suite's finished runs in a time window, and a
run's summary refreshed when its judges are calibrated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update

from llmlab._json import JsonValue
from llmlab.store._evals import EvalRunRow, _run
from llmlab.store._handle import Store
from llmlab.store._tables_evals import eval_runs

__all__ = ["runs_of_suite", "update_run_summary"]


def runs_of_suite(store: Store, name: str, *, since: datetime | None = None) -> list[EvalRunRow]:
    """Finished runs of the suite ``name`` (started at or after ``since``), newest first."""
    query = (
        select(eval_runs)
        .where(eval_runs.c.name == name, eval_runs.c.status == "finished")
        .order_by(eval_runs.c.started_at.desc())
    )
    if since is not None:
        query = query.where(eval_runs.c.started_at >= since)
    with store.read() as conn:
        return [_run(r) for r in conn.execute(query).mappings()]


def update_run_summary(store: Store, run_id: str, summary: Mapping[str, JsonValue]) -> None:
    """Replace a run's stored summary."""
    with store.write() as conn:
        conn.execute(
            update(eval_runs).where(eval_runs.c.id == run_id).values(summary=dict(summary))
        )
