"""SQL for call rollups: read-modify-write upserts, range reads, raw-row streaming.

Histograms cannot be added in SQL, so an upsert inserts missing rows, then reads the
existing ones under the write lock (SQLite: the writer's ``BEGIN IMMEDIATE``; PostgreSQL:
``SELECT ... FOR UPDATE`` in key order, so concurrent writers cannot deadlock), and writes
the sums back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from llmlab.store._sqlite import begin_write
from llmlab.store._tables_calls import calls
from llmlab.store._tables_monitor import call_rollups

__all__ = [
    "CALL_STAT_COLUMNS",
    "delete_rollups",
    "epoch_seconds",
    "read_rollups",
    "stream_call_stats",
    "upsert_rollups",
]

RollupValues = Mapping[str, Any]
_KEY = ("grain", "bucket_start", "dim", "key")


def upsert_rollups(
    conn: Connection,
    deltas: Sequence[RollupValues],
    merge: Callable[[RollupValues, RollupValues], dict[str, Any]],
) -> None:
    """Add ``deltas`` (full rollup rows) into the table, inside the caller's transaction.

    ``merge(existing, delta)`` returns the row's new non-key values.
    """
    if not deltas:
        return
    ordered = sorted(deltas, key=lambda d: tuple(d[k] for k in _KEY))
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(call_rollups).on_conflict_do_nothing(), [_zero(d) for d in ordered])
    key_cols = tuple_(*(call_rollups.c[k] for k in _KEY))
    existing: dict[tuple[Any, ...], RollupValues] = {}
    for start in range(0, len(ordered), 200):
        part = ordered[start : start + 200]
        stmt = select(call_rollups).where(key_cols.in_([tuple(d[k] for k in _KEY) for d in part]))
        if conn.dialect.name == "postgresql":
            stmt = stmt.order_by(*(call_rollups.c[k] for k in _KEY)).with_for_update()
        for row in conn.execute(stmt).mappings():
            existing[tuple(row[k] for k in _KEY)] = dict(row)
    params = []
    for delta in ordered:
        key = tuple(delta[k] for k in _KEY)
        merged = merge(existing[key], delta)
        params.append({**{f"k_{k}": delta[k] for k in _KEY}, **merged})
    value_cols = [c.name for c in call_rollups.columns if c.name not in _KEY]
    stmt_update = (
        update(call_rollups)
        .where(*(call_rollups.c[k] == bindparam(f"k_{k}") for k in _KEY))
        .values({name: bindparam(name) for name in value_cols})
    )
    conn.execute(stmt_update, params)


def _zero(delta: RollupValues) -> dict[str, Any]:
    row: dict[str, Any] = {k: delta[k] for k in _KEY}
    for column in call_rollups.columns:
        if column.name in _KEY:
            continue
        row[column.name] = b"" if column.name.endswith("_hist") else 0
    return row


def replace_rollups(engine: Engine, start: int, end: int, rows: Sequence[RollupValues]) -> None:
    """Delete rollups whose bucket starts in [start, end) and insert ``rows``."""
    with begin_write(engine) as conn:
        conn.execute(
            delete(call_rollups).where(
                call_rollups.c.bucket_start >= start, call_rollups.c.bucket_start < end
            )
        )
        if rows:
            conn.execute(call_rollups.insert(), list(rows))


def insert_rollups(engine: Engine, rows: Sequence[RollupValues]) -> None:
    """Insert new rollup rows (bulk rebuild, after :func:`delete_rollups`)."""
    if rows:
        with begin_write(engine) as conn:
            conn.execute(call_rollups.insert(), list(rows))


def delete_rollups(engine: Engine, start: int | None, end: int | None) -> None:
    """Delete rollups whose bucket starts in [start, end) (None: unbounded)."""
    clauses: list[ColumnElement[bool]] = []
    if start is not None:
        clauses.append(call_rollups.c.bucket_start >= start)
    if end is not None:
        clauses.append(call_rollups.c.bucket_start < end)
    with begin_write(engine) as conn:
        conn.execute(delete(call_rollups).where(and_(True, *clauses)))


def read_rollups(
    engine: Engine, grain: str, dims: Sequence[str], start: int, end: int
) -> list[RollupValues]:
    """Rollup rows of ``grain`` for ``dims`` with bucket start in [start, end)."""
    if start >= end:
        return []
    stmt = select(call_rollups).where(
        call_rollups.c.grain == grain,
        call_rollups.c.dim.in_(list(dims)),
        call_rollups.c.bucket_start >= start,
        call_rollups.c.bucket_start < end,
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def epoch_seconds(conn_or_engine: Connection | Engine) -> ColumnElement[int]:
    """``calls.started_at`` as integer epoch seconds, for this database."""
    if conn_or_engine.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", calls.c.started_at)), BigInteger)
    return cast(func.strftime("%s", calls.c.started_at), Integer)


# The columns stats need, in this order (see stream_call_stats).
CALL_STAT_COLUMNS: tuple[str, ...] = (
    "start_s",
    "provider",
    "requested_model",
    "prompt_name",
    "prompt_version",
    "experiment",
    "arm",
    "eval_run",
    "tags",
    "status",
    "cost_status",
    "cost_nanos",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "duration_s",
    "ttft_s",
)


def stream_call_stats(
    engine: Engine,
    since: Any | None,
    until: Any | None,
    *,
    chunk: int = 50_000,
    order: bool = False,
) -> Iterator[list[tuple[Any, ...]]]:
    """The stats columns of calls in [since, until), in chunks, without loading them all.

    Values come back raw (no per-row type conversion): ``tags`` is JSON text and
    ``cost_nanos`` an integer (None when unpriced).
    """
    c = calls.c
    cost_nanos = cast(func.round(c.cost * 1_000_000_000), BigInteger)
    stmt = select(
        epoch_seconds(engine),
        c.provider,
        c.requested_model,
        c.prompt_name,
        c.prompt_version,
        c.experiment,
        c.arm,
        c.eval_run,
        cast(c.tags, Text),
        c.status,
        c.cost_status,
        cost_nanos,
        c.input_tokens,
        c.output_tokens,
        c.cache_read_tokens,
        c.cache_write_tokens,
        c.reasoning_tokens,
        c.duration_s,
        c.ttft_s,
    )
    if since is not None:
        stmt = stmt.where(c.started_at >= since)
    if until is not None:
        stmt = stmt.where(c.started_at < until)
    if order:
        stmt = stmt.order_by(c.started_at)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.partitions(chunk):
            yield [tuple(r) for r in part]
