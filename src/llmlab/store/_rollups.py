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
    Integer,
    Text,
    and_,
    cast,
    delete,
    func,
    select,
)

from llmlab.store._handle import Store
from llmlab.store._metadata import MONEY_SCALE, money_scaled
from llmlab.store._money import money_from_driver, money_to_driver
from llmlab.store._tables_calls import calls
from llmlab.store._tables_monitor import call_rollups

__all__ = [
    "CALL_STAT_COLUMNS",
    "ROLLUP_KEY_COLUMNS",
    "ROLLUP_VALUE_COLUMNS",
    "delete_rollups",
    "epoch_seconds",
    "read_rollup_columns",
    "stream_call_stats",
    "sum_rollup_columns",
    "upsert_rollups",
]

RollupValues = Mapping[str, Any]
_KEY = ("grain", "bucket_start", "dim", "key")


ROLLUP_KEY_COLUMNS: tuple[str, ...] = _KEY
ROLLUP_VALUE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in call_rollups.columns if c.name not in _KEY
)
RollupKey = tuple[str, int, str, str]
# Rollup money (``cost``) is integer pico-dollars in Python; the raw-SQL paths below convert
# it to and from the column's driver value.
_COST = ROLLUP_VALUE_COLUMNS.index("cost")


def _to_driver(values: Sequence[Any], dialect: str) -> tuple[Any, ...]:
    out = list(values)
    out[_COST] = money_to_driver(int(out[_COST]), dialect)
    return tuple(out)


def _from_driver(values: Sequence[Any], dialect: str) -> tuple[Any, ...]:
    out = list(values)
    out[_COST] = money_from_driver(out[_COST], dialect)
    return tuple(out)


def _column(name: str) -> ColumnElement[Any]:
    # Money as integer pico-dollars on every backend, like the Python side.
    column = call_rollups.c[name]
    return money_scaled(column, MONEY_SCALE) if name == "cost" else column


def upsert_rollups(
    conn: Connection,
    deltas: Mapping[RollupKey, Sequence[Any]],
    merge: Callable[[Sequence[Any], Sequence[Any]], Sequence[Any]],
) -> None:
    """Add ``deltas`` into the table, inside the caller's (write) transaction.

    ``deltas`` maps (grain, bucket_start, dim, key) to values in ``ROLLUP_VALUE_COLUMNS``
    order; ``merge(existing, delta)`` returns the new values. Driver-level statements:
    this runs inside every recorded batch, so per-row SQLAlchemy overhead matters.
    """
    if not deltas:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    pg = conn.dialect.name == "postgresql"
    columns = (*_KEY, *ROLLUP_VALUE_COLUMNS)
    dialect = conn.dialect.name
    zero = _to_driver([b"" if c.endswith("_hist") else 0 for c in ROLLUP_VALUE_COLUMNS], dialect)
    keys = sorted(deltas)
    conn.exec_driver_sql(
        f"INSERT INTO call_rollups ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))}) ON CONFLICT DO NOTHING",
        [(*k, *zero) for k in keys],
    )
    existing: dict[RollupKey, Sequence[Any]] = {}
    by_group: dict[tuple[str, int, str], list[str]] = {}
    for grain, start, dim, key in keys:
        by_group.setdefault((grain, start, dim), []).append(key)
    for (grain, start, dim), names in by_group.items():
        sql = (
            f"SELECT key, {', '.join(ROLLUP_VALUE_COLUMNS)} FROM call_rollups "
            f"WHERE grain = {mark} AND bucket_start = {mark} AND dim = {mark} "
            f"AND key IN ({', '.join([mark] * len(names))})"
        )
        if pg:
            sql += " ORDER BY key FOR UPDATE"
        for row in conn.exec_driver_sql(sql, (grain, start, dim, *names)):
            existing[(grain, start, dim, row[0])] = _from_driver(row[1:], dialect)
    assignments = ", ".join(f"{c} = {mark}" for c in ROLLUP_VALUE_COLUMNS)
    conditions = " AND ".join(f"{c} = {mark}" for c in _KEY)
    conn.exec_driver_sql(
        f"UPDATE call_rollups SET {assignments} WHERE {conditions}",
        [(*_to_driver(merge(existing[k], deltas[k]), dialect), *k) for k in keys],
    )


def insert_rollups(store: Store, rows: Sequence[RollupValues]) -> None:
    """Insert new rollup rows (bulk rebuild, after :func:`delete_rollups`); ``cost`` in
    integer pico-dollars."""
    if not rows:
        return
    columns = (*_KEY, *ROLLUP_VALUE_COLUMNS)
    with store.write() as conn:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        dialect = conn.dialect.name
        conn.exec_driver_sql(
            f"INSERT INTO call_rollups ({', '.join(columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})",
            [
                (
                    *(row[c] for c in _KEY),
                    *_to_driver([row[c] for c in ROLLUP_VALUE_COLUMNS], dialect),
                )
                for row in rows
            ],
        )


def delete_rollups(store: Store, start: int | None, end: int | None) -> None:
    """Delete rollups whose bucket starts in [start, end) (None: unbounded)."""
    clauses: list[ColumnElement[bool]] = []
    if start is not None:
        clauses.append(call_rollups.c.bucket_start >= start)
    if end is not None:
        clauses.append(call_rollups.c.bucket_start < end)
    with store.write() as conn:
        conn.execute(delete(call_rollups).where(and_(True, *clauses)))


def read_rollup_columns(
    store: Store,
    grain: str,
    dims: Sequence[str],
    start: int,
    end: int,
    columns: Sequence[str],
) -> list[tuple[Any, ...]]:
    """``(bucket_start, dim, key, *columns)`` of rollups of ``grain`` for ``dims`` with
    bucket start in [start, end), as plain tuples (no per-row conversion; ``cost`` in
    integer pico-dollars)."""
    if start >= end or not dims:
        return []
    c = call_rollups.c
    stmt = select(c.bucket_start, c.dim, c.key, *(_column(name) for name in columns)).where(
        c.dim.in_(list(dims)), c.grain == grain, c.bucket_start >= start, c.bucket_start < end
    )
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(stmt).all()]


def sum_rollup_columns(
    store: Store,
    grain: str,
    dims: Sequence[str],
    start: int,
    end: int,
    columns: Sequence[str],
) -> list[tuple[Any, ...]]:
    """``(0, dim, key, *sums)``: ``columns`` summed per dim and key over the range."""
    if start >= end or not dims:
        return []
    c = call_rollups.c
    stmt = (
        select(c.dim, c.key, *(func.sum(_column(name)) for name in columns))
        .where(
            c.dim.in_(list(dims)), c.grain == grain, c.bucket_start >= start, c.bucket_start < end
        )
        .group_by(c.dim, c.key)
    )
    with store.read() as conn:
        return [(0, *r) for r in conn.execute(stmt).all()]


def epoch_seconds(dialect: str) -> ColumnElement[int]:
    """``calls.started_at`` as integer epoch seconds, for this database's dialect."""
    if dialect == "postgresql":
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
    "cost_pico",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "duration_s",
    "ttft_s",
)


def stream_call_stats(
    store: Store,
    since: Any | None,
    until: Any | None,
    *,
    chunk: int = 50_000,
    order: bool = False,
) -> Iterator[list[tuple[Any, ...]]]:
    """The stats columns of calls in [since, until), in chunks, without loading them all.

    Values come back raw (no per-row type conversion): ``tags`` is JSON text and
    ``cost_pico`` integer pico-dollars (None when unpriced).
    """
    c = calls.c
    stmt = select(
        epoch_seconds(store.dialect),
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
        money_scaled(c.cost, MONEY_SCALE),
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
    with store.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.partitions(chunk):
            yield [tuple(r) for r in part]
