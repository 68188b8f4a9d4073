"""Streaming reads of whole ``calls`` rows and cost updates (export, repricing)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from llmlab.store._sqlite import begin_write
from llmlab.store._tables_calls import calls

__all__ = ["iter_calls", "iter_pricing_inputs", "update_call_costs"]


def _window(stmt: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(calls.c.started_at >= since.astimezone(UTC))
    if until is not None:
        stmt = stmt.where(calls.c.started_at < until.astimezone(UTC))
    return stmt


def iter_calls(
    engine: Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    chunk: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Every column of the calls in [since, until), oldest first, streamed in chunks
    (a server-side cursor on PostgreSQL); ``started_at`` timezone-aware UTC."""
    stmt = _window(select(calls), since, until).order_by(calls.c.started_at, calls.c.id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for mapping in result.mappings():
            yield dict(mapping)


_PRICING_COLUMNS = (
    "id",
    "started_at",
    "provider",
    "requested_model",
    "resolved_model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost",
    "cost_status",
    "price_source",
    "status",
    "cache_hit",
    "usage_reported",
)


def iter_pricing_inputs(
    engine: Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    chunk: int = 5000,
) -> Iterator[list[dict[str, Any]]]:
    """What repricing needs of each call in [since, until), in chunks."""
    stmt = _window(select(*(calls.c[name] for name in _PRICING_COLUMNS)), since, until)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.mappings().partitions(chunk):
            yield [dict(mapping) for mapping in part]


def update_call_costs(engine: Engine, updates: Sequence[Mapping[str, Any]]) -> int:
    """Set cost, cost_status and price_source of calls by id (keys ``b_id``, ``cost``,
    ``cost_status``, ``price_source``); one transaction."""
    if not updates:
        return 0
    stmt = (
        update(calls)
        .where(calls.c.id == bindparam("b_id"))
        .values(
            cost=bindparam("cost"),
            cost_status=bindparam("cost_status"),
            price_source=bindparam("price_source"),
        )
    )
    with begin_write(engine) as conn:
        conn.execute(stmt, list(updates))
    return len(updates)
