"""The ``lab_progress`` and ``lab_attempts`` tables: where a learner stands in the labs.

Both are keyed by the *workspace*: the absolute path of the folder the learner's labs
live in (``./llmlab-labs`` by default), so two learners (or two clones) sharing one
database keep separate progress.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text

from llmlab.store._metadata import UtcDateTime, metadata

__all__ = ["lab_attempts", "lab_progress"]

lab_progress = Table(
    "lab_progress",
    metadata,
    Column("workspace", String(500), primary_key=True),
    Column("lab", String(100), primary_key=True),  # the lab's slug
    Column("lab_dir", Text, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("passed_at", UtcDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("hints_shown", Integer, nullable=False, default=0),
    Column("solution_revealed", Boolean, nullable=False, default=False),
)

lab_attempts = Table(
    "lab_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", String(500), nullable=False),
    Column("lab", String(100), nullable=False),
    Column("checked_at", UtcDateTime(), nullable=False),
    Column("passed", Boolean, nullable=False),
    # "passed" | "failed" | "input_error"
    Column("outcome", String(16), nullable=False),
    Column("model", String(200), nullable=True),
    Column("duration_s", Float, nullable=False),
    # the criteria as measured: [{"name", "passed", "measured", "bar"}, ...]
    Column("criteria", JSON, nullable=False, default=list),
    Column("error", Text, nullable=True),
    Index("ix_lab_attempts_workspace_lab", "workspace", "lab", "checked_at"),
)
