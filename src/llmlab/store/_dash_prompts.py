"""Dashboard reads of prompts, label history, experiments and the labs tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select, text

from llmlab.store._handle import Store
from llmlab.store._tables_prompts import experiments, label_history, prompt_labels, prompts

__all__ = [
    "ExperimentRow",
    "LABS_TABLES",
    "LabelMoveRow",
    "LabsTable",
    "PromptNameRow",
    "PromptVersionRow",
    "labs_tables",
    "list_experiments_page",
    "list_prompt_names",
    "prompt_label_history",
    "prompt_versions",
]

# -- prompts and experiments -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromptNameRow:
    """A prompt name with its newest version and its labels."""

    name: str
    versions: int
    latest: int
    updated_at: datetime
    labels: dict[str, int]


def list_prompt_names(store: Store, *, limit: int = 500) -> tuple[PromptNameRow, ...]:
    """Prompt names (newest first), each with its version count and labels."""
    p = prompts
    stmt = (
        select(
            p.c.name,
            func.count().label("n"),
            func.max(p.c.version).label("latest"),
            func.max(p.c.created_at).label("updated"),
        )
        .group_by(p.c.name)
        .order_by(func.max(p.c.created_at).desc(), p.c.name)
        .limit(limit)
    )
    with store.read() as conn:
        found = conn.execute(stmt).all()
        names = [r.name for r in found]
        labels: dict[str, dict[str, int]] = {n: {} for n in names}
        if names:
            q = select(prompt_labels.c.name, prompt_labels.c.label, prompt_labels.c.version)
            for r in conn.execute(q.where(prompt_labels.c.name.in_(names))):
                labels[r.name][r.label] = int(r.version)
    return tuple(
        PromptNameRow(r.name, int(r.n), int(r.latest), r.updated, labels[r.name]) for r in found
    )


@dataclass(frozen=True, slots=True)
class PromptVersionRow:
    """One version of a prompt as the versions table shows it."""

    version: int
    hash: str
    kind: str
    template: str
    syntax: str
    message: str | None
    author: str | None
    created_at: datetime
    archived: bool
    model: str | None


def prompt_versions(store: Store, name: str, *, limit: int = 200) -> tuple[PromptVersionRow, ...]:
    """The newest ``limit`` versions of ``name``, newest first."""
    p = prompts
    stmt = select(p).where(p.c.name == name).order_by(p.c.version.desc()).limit(limit)
    with store.read() as conn:
        found = conn.execute(stmt).all()
    return tuple(
        PromptVersionRow(
            version=int(r.version),
            hash=r.hash,
            kind=r.kind,
            template=r.template,
            syntax=r.syntax,
            message=r.message,
            author=r.author,
            created_at=r.created_at,
            archived=bool(r.archived),
            model=(r.config or {}).get("model"),
        )
        for r in found
    )


@dataclass(frozen=True, slots=True)
class LabelMoveRow:
    """One entry of a prompt's label history."""

    label: str
    from_version: int | None
    to_version: int
    kind: str
    actor: str | None
    at: datetime


def prompt_label_history(store: Store, name: str, *, limit: int = 200) -> tuple[LabelMoveRow, ...]:
    """The newest label moves of ``name``, newest first."""
    h = label_history
    stmt = select(h).where(h.c.name == name).order_by(h.c.id.desc()).limit(limit)
    with store.read() as conn:
        found = conn.execute(stmt).all()
    return tuple(
        LabelMoveRow(r.label, r.from_version, int(r.to_version), r.kind, r.actor, r.at)
        for r in found
    )


@dataclass(frozen=True, slots=True)
class ExperimentRow:
    """One experiment: its arms (name, version, weight) and state."""

    name: str
    prompt_name: str
    arms: tuple[tuple[str, int, float], ...]
    status: str
    description: str | None
    created_at: datetime
    stopped_at: datetime | None


def list_experiments_page(store: Store, *, limit: int = 200) -> tuple[ExperimentRow, ...]:
    """Experiments, newest first."""
    e = experiments
    stmt = select(e).order_by(e.c.created_at.desc(), e.c.name).limit(limit)
    with store.read() as conn:
        found = conn.execute(stmt).all()
    return tuple(
        ExperimentRow(
            name=r.name,
            prompt_name=r.prompt_name,
            arms=tuple(
                (str(a["name"]), int(a["version"]), float(a.get("weight", 0.0))) for a in r.arms
            ),
            status=r.status,
            description=r.description,
            created_at=r.created_at,
            stopped_at=r.stopped_at,
        )
        for r in found
    )


# -- labs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabsTable:
    """The newest rows of one labs table, as the labs package stored them."""

    table: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


LABS_TABLES: Sequence[str] = ("lab_progress", "lab_attempts")


_NEWEST_FIRST = ("checked_at", "started_at", "created_at")


def labs_tables(store: Store, *, limit: int = 100) -> tuple[LabsTable, ...]:
    """The newest rows of the labs tables that exist in this database (none until the
    labs package has recorded progress)."""
    with store.read() as conn:
        inspector = inspect(conn)
        present = set(inspector.get_table_names())
        found: list[LabsTable] = []
        for table in LABS_TABLES:
            if table not in present:
                continue
            columns = {c["name"] for c in inspector.get_columns(table)}
            order = next((c for c in _NEWEST_FIRST if c in columns), None)
            # Names come from LABS_TABLES and the table's own columns, never the request.
            sql = f'SELECT * FROM "{table}"' + (f' ORDER BY "{order}" DESC' if order else "")
            result = conn.execute(text(sql + " LIMIT :n"), {"n": limit})
            found.append(
                LabsTable(table, tuple(result.keys()), tuple(tuple(r) for r in result.all()))
            )
    return tuple(found)
