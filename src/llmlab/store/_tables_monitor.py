"""Monitoring tables: hourly/daily rollups, budgets and their ledger, alerts.

Money columns are the one exact :class:`~llmlab.store._metadata.Money` type (integer
pico-dollars on SQLite, ``NUMERIC(30, 12)`` on PostgreSQL): exact arithmetic in SQL on both,
which the atomic budget check relies on.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from llmlab.store._metadata import MONEY, UtcDateTime, metadata

__all__ = [
    "alert_rules",
    "alerts",
    "budget_reservations",
    "budget_usage",
    "budgets",
    "call_rollups",
]

# One row per (grain, bucket start, dimension, key): grain "h" (hour) or "d" (day);
# dim "all" (key ""), "model" ("provider/model"), "provider", "prompt" ("name@version"),
# "arm" ("experiment/arm"), "eval_run", or "tag:KEY" (key: the tag's value).
# Histograms are sparse log-scale bucket counts (see llmlab.monitor._histogram).
call_rollups = Table(
    "call_rollups",
    metadata,
    Column("grain", String(1), primary_key=True),
    Column("bucket_start", BigInteger, primary_key=True),  # epoch seconds, UTC
    Column("dim", String(200), primary_key=True),
    Column("key", String(400), primary_key=True),
    Column("calls", BigInteger, nullable=False, default=0),
    Column("errors", BigInteger, nullable=False, default=0),
    Column("refused", BigInteger, nullable=False, default=0),
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
    Column("cache_read_tokens", BigInteger, nullable=False, default=0),
    Column("cache_write_tokens", BigInteger, nullable=False, default=0),
    Column("reasoning_tokens", BigInteger, nullable=False, default=0),
    Column("cost", MONEY, nullable=False, default=0),
    Column("priced_tokens", BigInteger, nullable=False, default=0),
    Column("unpriced", BigInteger, nullable=False, default=0),
    Column("ok_calls", BigInteger, nullable=False, default=0),
    Column("ok_duration_s", Float, nullable=False, default=0.0),
    Column("ok_output_tokens", BigInteger, nullable=False, default=0),
    Column("ttft_count", BigInteger, nullable=False, default=0),
    Column("ttft_sum_s", Float, nullable=False, default=0.0),
    Column("latency_hist", LargeBinary, nullable=False),
    Column("ttft_hist", LargeBinary, nullable=False),
    Index("ix_call_rollups_dim_grain_start", "dim", "grain", "bucket_start"),
)

budgets = Table(
    "budgets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("scope", String(16), nullable=False),  # all | model | provider | prompt | tag
    Column("scope_key", String(200), nullable=True),  # the tag key for scope "tag"
    Column("scope_value", String(400), nullable=True),
    Column("period", String(8), nullable=False),  # hour | day | month | run | total
    Column("limit_amount", MONEY, nullable=False),
    Column("hard", Boolean, nullable=False, default=True),
    Column("thresholds", JSON, nullable=False, default=list),  # fractions, e.g. [0.8, 1.0]
    Column("created_at", UtcDateTime(), nullable=False),
)

# Spent and outstanding reservations per budget and period: the row the atomic check updates.
budget_usage = Table(
    "budget_usage",
    metadata,
    Column("budget", String(200), primary_key=True),
    Column("period_key", String(80), primary_key=True),
    Column("spent", MONEY, nullable=False, default=0),
    Column("reserved", MONEY, nullable=False, default=0),
    Column("calls", BigInteger, nullable=False, default=0),
)

budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("budget", String(200), primary_key=True),
    Column("period_key", String(80), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_budget_reservations_budget_created", "budget", "created_at"),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("metric", String(32), nullable=False),  # p95_latency | error_rate
    Column("window_s", Integer, nullable=False),
    Column("limit_value", Float, nullable=False),
    Column("min_calls", Integer, nullable=False, default=10),
    Column("firing", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),  # budget | latency | error_rate
    Column("source", String(200), nullable=False),  # budget or rule name
    Column("dedupe_key", String(400), nullable=False, unique=True),
    Column("value", Float, nullable=False),
    Column("limit_value", Float, nullable=False),
    Column("message", Text, nullable=False),
    Column("delivery", String(16), nullable=False, default="logged"),
    Index("ix_alerts_created_at", "created_at"),
)
