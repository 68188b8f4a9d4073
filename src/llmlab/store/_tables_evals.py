"""The ``eval_runs`` and ``eval_results`` tables.

``eval_results`` is unique on (run, case, epoch): a resumed run inserts only what is
missing, and a result written twice is kept once.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from llmlab.store._metadata import MONEY, UtcDateTime, metadata

__all__ = ["eval_results", "eval_runs"]

eval_runs = Table(
    "eval_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("status", String(16), nullable=False, default="running"),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("n_cases", Integer, nullable=False, default=0),
    Column("epochs", Integer, nullable=False, default=1),
    Column("threshold", Float, nullable=False, default=0.7),
    Column("suite_path", Text, nullable=True),
    Column("suite", JSON, nullable=False, default=dict),
    Column("options", JSON, nullable=False, default=dict),
    Column("parent_run", String(64), nullable=True),
    Column("summary", JSON, nullable=True),
    Index("ix_eval_runs_fingerprint", "fingerprint", "started_at"),
    Index("ix_eval_runs_started_at", "started_at"),
)

eval_results = Table(
    "eval_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", String(200), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # ok | error
    Column("prompt", Text, nullable=True),
    Column("case_data", JSON, nullable=False, default=dict),
    Column("output", Text, nullable=True),
    Column("score", Float, nullable=True),
    Column("passed", Boolean, nullable=False, default=False),
    Column("errored", Boolean, nullable=False, default=False),
    Column("scores", JSON, nullable=False, default=dict),
    Column("explanation", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("weight", Float, nullable=False, default=1.0),
    Column("call_id", String(32), nullable=True),
    Column("cache_hit", Boolean, nullable=False, default=False),
    Column("duration_s", Float, nullable=True),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cost", MONEY, nullable=True),
    Column("judge_calls", Integer, nullable=False, default=0),
    Column("judge_input_tokens", Integer, nullable=False, default=0),
    Column("judge_output_tokens", Integer, nullable=False, default=0),
    Column("judge_cost", MONEY, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("run_id", "case_id", "epoch"),
    # prompt_eval_stats joins results to calls on it.
    Index("ix_eval_results_call_id", "call_id"),
)
