"""Streaming reads of whole ``calls`` rows and cost updates (export, repricing)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update

from llmlab.store._calls import CallRow, call_row
from llmlab.store._handle import Store
from llmlab.store._tables_calls import calls

__all__ = ["CostUpdate", "PricingInput", "iter_calls", "iter_pricing_inputs", "update_call_costs"]


@dataclass(frozen=True, slots=True)
class PricingInput:
    """What repricing needs of one call."""

    id: str
    started_at: datetime
    provider: str
    requested_model: str
    resolved_model: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: Decimal | None
    cost_status: str
    price_source: str | None
    status: str
    cache_hit: bool
    usage_reported: bool


@dataclass(frozen=True, slots=True)
class CostUpdate:
    """A call's new price."""

    id: str
    cost: Decimal | None
    cost_status: str
    price_source: str | None


def _window(stmt: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(calls.c.started_at >= since.astimezone(UTC))
    if until is not None:
        stmt = stmt.where(calls.c.started_at < until.astimezone(UTC))
    return stmt


def iter_calls(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    chunk: int = 2000,
) -> Iterator[CallRow]:
    """Every column of the calls in [since, until), oldest first, streamed in chunks
    (a server-side cursor on PostgreSQL)."""
    stmt = _window(select(calls), since, until).order_by(calls.c.started_at, calls.c.id)
    with store.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for values in result:
            yield call_row(values)


_PRICING_COLUMNS = tuple(f.name for f in fields(PricingInput))


def iter_pricing_inputs(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    chunk: int = 5000,
) -> Iterator[list[PricingInput]]:
    """What repricing needs of each call in [since, until), in chunks."""
    stmt = _window(select(*(calls.c[name] for name in _PRICING_COLUMNS)), since, until)
    with store.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.partitions(chunk):
            yield [PricingInput(*values) for values in part]


def update_call_costs(store: Store, updates: Sequence[CostUpdate]) -> int:
    """Set cost, cost_status and price_source of calls by id; one transaction."""
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
    params = [
        {"b_id": u.id, "cost": u.cost, "cost_status": u.cost_status, "price_source": u.price_source}
        for u in updates
    ]
    with store.write() as conn:
        conn.execute(stmt, params)
    return len(updates)
