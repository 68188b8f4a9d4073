"""Writing and reading eval runs and their results."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from llmlab.store._sqlite import begin_write
from llmlab.store._tables_evals import eval_results, eval_runs

__all__ = [
    "create_eval_run",
    "eval_result_keys",
    "finish_eval_run",
    "find_eval_runs",
    "get_eval_results",
    "get_eval_run",
    "insert_eval_results",
    "iter_eval_results",
    "latest_eval_run_id",
    "latest_unfinished_eval_run",
    "list_eval_runs",
]


def create_eval_run(engine: Engine, row: Mapping[str, Any]) -> None:
    """Insert one ``eval_runs`` row (``started_at`` defaults to now)."""
    values = dict(row)
    values.setdefault("started_at", datetime.now(UTC))
    values.setdefault("status", "running")
    with begin_write(engine) as conn:
        conn.execute(eval_runs.insert(), values)


def _insert_ignoring_duplicates(engine: Engine) -> Insert:
    if engine.dialect.name == "sqlite":
        return sqlite.insert(eval_results).on_conflict_do_nothing()
    if engine.dialect.name == "postgresql":
        return postgresql.insert(eval_results).on_conflict_do_nothing()
    return eval_results.insert()


def insert_eval_results(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert results in one transaction; a (run, case, epoch) already stored is skipped."""
    if not rows:
        return
    now = datetime.now(UTC)
    prepared = [{"created_at": now, **row} for row in rows]
    with begin_write(engine) as conn:
        conn.execute(_insert_ignoring_duplicates(engine), prepared)


def finish_eval_run(
    engine: Engine, run_id: str, *, status: str, summary: Mapping[str, Any] | None
) -> None:
    """Mark a run finished (or interrupted) and store its summary."""
    with begin_write(engine) as conn:
        conn.execute(
            update(eval_runs)
            .where(eval_runs.c.id == run_id)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                summary=dict(summary) if summary is not None else None,
            )
        )


def latest_unfinished_eval_run(engine: Engine, fingerprint: str) -> dict[str, Any] | None:
    """The newest run with this fingerprint that did not finish, if any."""
    query = (
        select(eval_runs)
        .where(eval_runs.c.fingerprint == fingerprint, eval_runs.c.status != "finished")
        .order_by(eval_runs.c.started_at.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def find_eval_runs(engine: Engine, prefix: str) -> list[str]:
    """Ids of runs equal to ``prefix`` or starting with it (newest first)."""
    query = (
        select(eval_runs.c.id)
        .where(eval_runs.c.id.startswith(prefix, autoescape=True))
        .order_by(eval_runs.c.started_at.desc())
    )
    with engine.connect() as conn:
        ids = [str(i) for i in conn.execute(query).scalars()]
    return [prefix] if prefix in ids else ids


def get_eval_run(engine: Engine, run_id: str) -> dict[str, Any] | None:
    """One run's row, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(eval_runs).where(eval_runs.c.id == run_id)).mappings().first()
    return dict(row) if row is not None else None


def latest_eval_run_id(engine: Engine) -> str | None:
    """The id of the newest eval run, or None when there is none."""
    query = select(eval_runs.c.id).order_by(eval_runs.c.started_at.desc()).limit(1)
    with engine.connect() as conn:
        found: str | None = conn.execute(query).scalar()
    return found


def list_eval_runs(
    engine: Engine, *, limit: int = 20, name: str | None = None
) -> list[dict[str, Any]]:
    """The newest runs with their result counts."""
    counts = (
        select(eval_results.c.run_id, func.count().label("n_results"))
        .group_by(eval_results.c.run_id)
        .subquery()
    )
    query = (
        select(eval_runs, func.coalesce(counts.c.n_results, 0).label("n_results"))
        .outerjoin(counts, counts.c.run_id == eval_runs.c.id)
        .order_by(eval_runs.c.started_at.desc())
        .limit(limit)
    )
    if name:
        query = query.where(eval_runs.c.name == name)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


_TEXT_COLUMNS = frozenset({"prompt", "output", "case_data", "explanation"})


def get_eval_results(
    engine: Engine, run_id: str, *, failed_only: bool = False, brief: bool = False
) -> list[dict[str, Any]]:
    """A run's results ordered by case and epoch; ``brief`` leaves out the texts
    (prompt, output, case data, explanation), for statistics over large runs."""
    columns = [c for c in eval_results.columns if not (brief and c.name in _TEXT_COLUMNS)]
    query = (
        select(*columns)
        .where(eval_results.c.run_id == run_id)
        .order_by(eval_results.c.case_id, eval_results.c.epoch)
    )
    if failed_only:
        query = query.where(eval_results.c.passed.is_(False))
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def iter_eval_results(engine: Engine, run_id: str) -> Iterator[dict[str, Any]]:
    """A run's results without their texts, one at a time (for statistics over large
    runs: nothing holds every row at once)."""
    columns = [c for c in eval_results.columns if c.name not in _TEXT_COLUMNS]
    query = select(*columns).where(eval_results.c.run_id == run_id)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=500).execute(query).mappings()
        for row in result:
            yield dict(row)


def eval_result_keys(engine: Engine, run_id: str) -> set[tuple[str, int]]:
    """The (case, epoch) pairs a run already has results for."""
    query = select(eval_results.c.case_id, eval_results.c.epoch).where(
        eval_results.c.run_id == run_id
    )
    with engine.connect() as conn:
        return {(str(c), int(e)) for c, e in conn.execute(query)}
