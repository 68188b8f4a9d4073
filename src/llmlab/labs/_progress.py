"""Where a learner stands: each lab's status, the next lab, overall progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypedDict

from llmlab.labs._lab import Lab, load_labs
from llmlab.store import (
    LabProgressRow,
    Store,
    get_lab_progress,
    lab_progress_rows,
    mark_lab_started,
    resolve_store,
    update_lab_progress,
)

__all__ = [
    "LabStatus",
    "LabStatusDict",
    "Status",
    "lab_statuses",
    "next_lab",
    "progress_of",
    "reveal_solution",
    "show_hint",
    "start_progress",
]

Status = Literal["not started", "in progress", "done"]


class LabStatusDict(TypedDict):
    """A :class:`LabStatus` as ``llmlab labs list --json`` prints it."""

    number: int
    slug: str
    title: str
    track: str
    uses_model: bool
    status: Status
    dir: str | None
    attempts: int
    passed_at: str | None


@dataclass(frozen=True, slots=True)
class LabStatus:
    """One lab and where the learner stands on it."""

    lab: Lab
    status: Status
    progress: LabProgressRow | None

    def to_dict(self) -> LabStatusDict:
        row = self.progress
        return {
            "number": self.lab.number,
            "slug": self.lab.slug,
            "title": self.lab.title,
            "track": self.lab.track,
            "uses_model": self.lab.uses_model,
            "status": self.status,
            "dir": row.lab_dir if row else None,
            "attempts": row.attempts if row else 0,
            "passed_at": row.passed_at.isoformat() if row and row.passed_at else None,
        }


def lab_statuses(workspace: Path, *, store: Store | None = None) -> list[LabStatus]:
    """Every lab with its status in ``workspace``."""
    rows = {row.lab: row for row in lab_progress_rows(resolve_store(store), str(workspace))}
    statuses = []
    for lab in load_labs():
        row = rows.get(lab.slug)
        status: Status = (
            "not started" if row is None else "done" if row.passed_at else "in progress"
        )
        statuses.append(LabStatus(lab, status, row))
    return statuses


def next_lab(statuses: list[LabStatus]) -> LabStatus | None:
    """The lab to work on: the first in progress, else the first not started."""
    for wanted in ("in progress", "not started"):
        for status in statuses:
            if status.status == wanted:
                return status
    return None


def progress_of(workspace: Path, lab: Lab, *, store: Store | None = None) -> LabProgressRow | None:
    """One lab's progress row in ``workspace``."""
    return get_lab_progress(resolve_store(store), str(workspace), lab.slug)


def start_progress(workspace: Path, lab: Lab, lab_dir: Path, *, store: Store | None = None) -> None:
    """Record that ``lab`` was started in ``lab_dir``."""
    mark_lab_started(
        resolve_store(store), str(workspace), lab.slug, str(lab_dir), datetime.now(UTC)
    )


def show_hint(workspace: Path, lab: Lab, *, store: Store | None = None) -> list[str]:
    """The hints shown so far plus one more (all of them once none is left)."""
    store = resolve_store(store)
    row = get_lab_progress(store, str(workspace), lab.slug)
    shown = min((row.hints_shown if row else 0) + 1, len(lab.hints))
    if row is not None:
        update_lab_progress(store, str(workspace), lab.slug, hints_shown=shown)
    return list(lab.hints[:shown])


def reveal_solution(workspace: Path, lab: Lab, *, store: Store | None = None) -> None:
    """Remember that the learner looked at the solution."""
    update_lab_progress(resolve_store(store), str(workspace), lab.slug, solution_revealed=True)
