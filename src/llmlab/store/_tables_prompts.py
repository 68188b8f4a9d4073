"""Prompt tables: versions, labels and their history, experiments, exposures, feedback."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from llmlab.store._metadata import UtcDateTime, metadata

__all__ = ["experiments", "exposures", "feedback", "label_history", "prompt_labels", "prompts"]

prompts = Table(
    "prompts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # text | chat
    Column("template", Text, nullable=False),  # chat: JSON list of {role, content}
    Column("syntax", String(16), nullable=False),  # jinja | format
    Column("variables", JSON, nullable=False, default=dict),
    Column("config", JSON, nullable=False, default=dict),
    Column("meta", JSON, nullable=False, default=dict),
    Column("message", Text, nullable=True),
    Column("author", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    UniqueConstraint("name", "version"),
    UniqueConstraint("name", "hash"),
    Index("ix_prompts_hash", "hash"),
)

prompt_labels = Table(
    "prompt_labels",
    metadata,
    Column("name", String(200), nullable=False),
    Column("label", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("updated_by", String(200), nullable=True),
    PrimaryKeyConstraint("name", "label"),
)

label_history = Table(
    "label_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("label", String(100), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # move | rollback
    Column("actor", String(200), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_label_history_name_label", "name", "label", "id"),
)

experiments = Table(
    "experiments",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("prompt_name", String(200), nullable=False),
    Column("arms", JSON, nullable=False),  # [{name, version, weight}]
    Column("allocation", JSON, nullable=False),  # [[start, end, arm], ...]
    Column("salt", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="running"),  # running | stopped
    Column("description", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("stopped_at", UtcDateTime(), nullable=True),
)

exposures = Table(
    "exposures",
    metadata,
    Column("experiment", String(200), nullable=False),
    Column("unit", String(200), nullable=False),
    Column("arm", String(200), nullable=False),
    Column("first_at", UtcDateTime(), nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
    Column("count", Integer, nullable=False, default=1),
    PrimaryKeyConstraint("experiment", "unit"),
    Index("ix_exposures_experiment_arm", "experiment", "arm"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(32), nullable=False),
    Column("score", Float, nullable=False),
    Column("comment", Text, nullable=True),
    Column("source", String(100), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_feedback_call_id", "call_id"),
)
