"""The ``calls`` table: one row per model call."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from llmlab.store._metadata import MONEY, UtcDateTime, metadata

__all__ = ["calls"]

calls = Table(
    "calls",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("duration_s", Float, nullable=False, default=0.0),
    Column("ttft_s", Float, nullable=True),
    Column("provider", String(64), nullable=False),
    Column("requested_model", String(200), nullable=False),
    Column("resolved_model", String(200), nullable=True),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cache_read_tokens", Integer, nullable=False, default=0),
    Column("cache_write_tokens", Integer, nullable=False, default=0),
    Column("reasoning_tokens", Integer, nullable=False, default=0),
    Column("usage_reported", Boolean, nullable=False, default=True),
    Column("cost", MONEY, nullable=True),
    Column("currency", String(8), nullable=False, default="USD"),
    Column("cost_status", String(16), nullable=False, default="unpriced"),
    Column("price_source", String(200), nullable=True),
    Column("status", String(16), nullable=False, default="ok"),
    Column("error_type", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("finish_reason", String(32), nullable=True),
    Column("streamed", Boolean, nullable=False, default=False),
    Column("tags", JSON, nullable=False, default=dict),
    Column("request", JSON, nullable=True),
    Column("response_text", Text, nullable=True),
    Column("prompt_name", String(200), nullable=True),
    Column("prompt_version", Integer, nullable=True),
    Column("prompt_hash", String(64), nullable=True),
    Column("experiment", String(200), nullable=True),
    Column("arm", String(200), nullable=True),
    Column("eval_run", String(64), nullable=True),
    Column("sample_id", String(200), nullable=True),
    Column("epoch", Integer, nullable=True),
    Column("cache_hit", Boolean, nullable=False, default=False),
    Index("ix_calls_started_at", "started_at"),
    Index("ix_calls_model_started", "requested_model", "started_at"),
    # started_at last: a prompt@version filter reads its newest calls in index order.
    Index("ix_calls_prompt", "prompt_name", "prompt_version", "started_at"),
    Index("ix_calls_eval_run", "eval_run"),
    Index("ix_calls_experiment", "experiment", "arm"),
)
