"""SQL for the labs: a learner's progress per lab and every graded attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Row, and_, func, insert, select, update

from llmlab.store._handle import Store
from llmlab.store._tables_labs import lab_attempts, lab_progress
from llmlab.store._upsert import upsert

__all__ = [
    "LabAttemptRow",
    "LabProgressRow",
    "add_lab_attempt",
    "get_lab_progress",
    "lab_attempt_rows",
    "lab_progress_rows",
    "mark_lab_started",
    "update_lab_progress",
]


@dataclass(frozen=True, slots=True)
class LabProgressRow:
    """One row of ``lab_progress``: one learner workspace, one lab."""

    workspace: str
    lab: str
    lab_dir: str
    started_at: datetime
    passed_at: datetime | None
    attempts: int
    hints_shown: int
    solution_revealed: bool


@dataclass(frozen=True, slots=True)
class LabAttemptRow:
    """One graded check of a lab."""

    id: int
    workspace: str
    lab: str
    checked_at: datetime
    passed: bool
    outcome: str
    model: str | None
    duration_s: float
    criteria: tuple[Mapping[str, object], ...]
    """Each criterion's result as the grader reported it (JSON)."""
    error: str | None


class _ProgressChanges(TypedDict, total=False):
    """Columns of ``lab_progress`` an update may set (SQL expressions where computed)."""

    passed_at: ColumnElement[datetime] | None
    hints_shown: int
    solution_revealed: bool
    attempts: ColumnElement[int]


def _progress(row: Row[Any]) -> LabProgressRow:
    return LabProgressRow(
        workspace=row.workspace,
        lab=row.lab,
        lab_dir=row.lab_dir,
        started_at=row.started_at,
        passed_at=row.passed_at,
        attempts=int(row.attempts),
        hints_shown=int(row.hints_shown),
        solution_revealed=bool(row.solution_revealed),
    )


def mark_lab_started(store: Store, workspace: str, lab: str, lab_dir: str, at: datetime) -> None:
    """Record that a lab was started in ``lab_dir`` (kept as it is if already started)."""
    stmt = upsert(store.dialect, lab_progress, ("workspace", "lab"), ["lab_dir"]).values(
        workspace=workspace,
        lab=lab,
        lab_dir=lab_dir,
        started_at=at,
        passed_at=None,
        attempts=0,
        hints_shown=0,
        solution_revealed=False,
    )
    with store.write() as conn:
        conn.execute(stmt)


def update_lab_progress(
    store: Store,
    workspace: str,
    lab: str,
    *,
    passed_at: datetime | None = None,
    hints_shown: int | None = None,
    solution_revealed: bool | None = None,
    clear_passed: bool = False,
) -> None:
    """Change the given fields of one lab's progress (a missing row is left missing)."""
    values: _ProgressChanges = {}
    if passed_at is not None:
        values["passed_at"] = func.coalesce(lab_progress.c.passed_at, passed_at)
    if clear_passed:
        values["passed_at"] = None
    if hints_shown is not None:
        values["hints_shown"] = hints_shown
    if solution_revealed is not None:
        values["solution_revealed"] = solution_revealed
    if not values:
        return
    key = and_(lab_progress.c.workspace == workspace, lab_progress.c.lab == lab)
    with store.write() as conn:
        conn.execute(update(lab_progress).where(key).values(**values))


def get_lab_progress(store: Store, workspace: str, lab: str) -> LabProgressRow | None:
    """One lab's progress in a workspace, or None when it was never started."""
    key = and_(lab_progress.c.workspace == workspace, lab_progress.c.lab == lab)
    with store.read() as conn:
        row = conn.execute(select(lab_progress).where(key)).first()
    return None if row is None else _progress(row)


def lab_progress_rows(store: Store, workspace: str | None = None) -> list[LabProgressRow]:
    """Progress rows of one workspace (every workspace when None), by lab."""
    query = select(lab_progress).order_by(lab_progress.c.workspace, lab_progress.c.lab)
    if workspace is not None:
        query = query.where(lab_progress.c.workspace == workspace)
    with store.read() as conn:
        return [_progress(row) for row in conn.execute(query)]


def add_lab_attempt(
    store: Store,
    *,
    workspace: str,
    lab: str,
    at: datetime,
    passed: bool,
    outcome: str,
    model: str | None,
    duration_s: float,
    criteria: Sequence[Mapping[str, object]],
    error: str | None = None,
) -> None:
    """Record one check, count it on the lab's progress, and mark the lab passed if so."""
    key = and_(lab_progress.c.workspace == workspace, lab_progress.c.lab == lab)
    with store.write() as conn:
        conn.execute(
            insert(lab_attempts).values(
                workspace=workspace,
                lab=lab,
                checked_at=at,
                passed=passed,
                outcome=outcome,
                model=model,
                duration_s=duration_s,
                criteria=[dict(c) for c in criteria],
                error=error,
            )
        )
        values: _ProgressChanges = {"attempts": lab_progress.c.attempts + 1}
        if passed:
            values["passed_at"] = func.coalesce(lab_progress.c.passed_at, at)
        conn.execute(update(lab_progress).where(key).values(**values))


def lab_attempt_rows(
    store: Store, workspace: str, lab: str | None = None, *, limit: int = 100
) -> list[LabAttemptRow]:
    """The newest attempts in a workspace (of one lab when given), newest first."""
    query = select(lab_attempts).where(lab_attempts.c.workspace == workspace)
    if lab is not None:
        query = query.where(lab_attempts.c.lab == lab)
    query = query.order_by(lab_attempts.c.checked_at.desc(), lab_attempts.c.id.desc()).limit(limit)
    with store.read() as conn:
        return [
            LabAttemptRow(
                id=int(row.id),
                workspace=row.workspace,
                lab=row.lab,
                checked_at=row.checked_at,
                passed=bool(row.passed),
                outcome=row.outcome,
                model=row.model,
                duration_s=float(row.duration_s),
                criteria=tuple(row.criteria or ()),
                error=row.error,
            )
            for row in conn.execute(query)
        ]
