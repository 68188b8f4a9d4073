"""Writing and reading the ``calls`` table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Connection, String, null, select

from llmlab._errors import InputError
from llmlab._json import JsonReadyObject
from llmlab.store._driver_insert import Processors, driver_insert
from llmlab.store._keyset import Page, keyset_page
from llmlab.store._tables_calls import calls

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = [
    "CALL_COLUMNS",
    "CallFilter",
    "CallPage",
    "CallRow",
    "call_filter_clauses",
    "get_call",
    "insert_calls",
    "page_calls",
    "recent_calls",
]

CALL_COLUMNS: tuple[str, ...] = tuple(column.name for column in calls.columns)
_CONTENT = ("request", "response_text")
_STRING_LIMITS = tuple(
    (column.name, column.type.length)
    for column in calls.columns
    if isinstance(column.type, String) and column.type.length and column.name != "id"
)


class CallFilter(BaseModel):
    """Which calls to select. Every field is optional; set fields are ANDed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    """Requested or resolved model name; ``provider/model`` also matches the provider."""
    provider: str | None = None
    prompt: str | None = None
    """Prompt name; ``name@version`` for one version."""
    status: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    """Every tag must be present with this value."""
    eval_run: str | None = None
    experiment: str | None = None
    min_cost: Decimal | None = None
    min_latency_s: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Calls that started before this instant (exclusive)."""


@dataclass(frozen=True, slots=True)
class CallRow:
    """One row of ``calls`` (fields in column order; ``started_at`` timezone-aware UTC)."""

    id: str
    started_at: datetime
    duration_s: float
    ttft_s: float | None
    provider: str
    requested_model: str
    resolved_model: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    usage_reported: bool
    cost: Decimal | None
    currency: str
    cost_status: str
    price_source: str | None
    status: str
    error_type: str | None
    error_message: str | None
    attempts: int
    finish_reason: str | None
    streamed: bool
    tags: dict[str, str]
    request: Any
    """The request as sent (free-form JSON), None when content capture is off."""
    response_text: str | None
    prompt_name: str | None
    prompt_version: int | None
    prompt_hash: str | None
    experiment: str | None
    arm: str | None
    eval_run: str | None
    sample_id: str | None
    epoch: int | None
    cache_hit: bool

    def to_dict(self) -> JsonReadyObject:
        """The row as a dict keyed by column name (values as stored: Decimal, datetime)."""
        return asdict(self)


if tuple(f.name for f in fields(CallRow)) != CALL_COLUMNS:  # pragma: no cover
    raise RuntimeError("CallRow's fields must follow the calls table's columns")


CallPage = Page[CallRow]
"""One page of calls, newest first; ``next_cursor`` is None on the last page."""


def call_row(values: Sequence[Any]) -> CallRow:
    """A :class:`CallRow` from a ``select(calls)`` result row."""
    row = CallRow(*values)
    if row.tags is None:
        object.__setattr__(row, "tags", {})
    return row


def insert_calls(
    store: Store,
    rows: Sequence[Mapping[str, Any]],
    *,
    in_transaction: Callable[[Connection, Sequence[Mapping[str, Any]]], None] | None = None,
) -> int:
    """Insert call rows (one dict per row, keys = column names) in one transaction.

    ``in_transaction`` runs inside that transaction after the insert (rollups that must
    commit together with the calls). Returns the number of rows written.
    """
    if not rows:
        return 0
    prepared = [_prepare(row) for row in rows]
    with store.write() as conn:
        fast = driver_insert(conn.dialect, calls, CALL_COLUMNS)
        if fast is not None and all(len(row) == len(CALL_COLUMNS) for row in prepared):
            sql, processors = fast
            conn.exec_driver_sql(sql, [_driver_params(row, processors) for row in prepared])
        else:
            conn.execute(calls.insert(), prepared)
        if in_transaction is not None:
            in_transaction(conn, prepared)
    return len(prepared)


def call_filter_clauses(query: CallFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``query``, for reuse in aggregates."""
    c = calls.c
    clauses: list[ColumnElement[bool]] = []
    if query.model:
        provider, _, name = query.model.partition("/")
        if name:
            clauses.append(c.provider == provider)
            clauses.append((c.requested_model == name) | (c.resolved_model == name))
        else:
            clauses.append((c.requested_model == provider) | (c.resolved_model == provider))
    if query.provider:
        clauses.append(c.provider == query.provider)
    if query.prompt:
        name, _, version = query.prompt.partition("@")
        clauses.append(c.prompt_name == name)
        if version:
            if not version.isdigit():
                raise InputError(
                    f"prompt filter {query.prompt!r}: use NAME or NAME@VERSION (a number)"
                )
            clauses.append(c.prompt_version == int(version))
    if query.status:
        clauses.append(c.status == query.status)
    for key, value in query.tags.items():
        clauses.append(c.tags[key].as_string() == value)
    if query.eval_run:
        clauses.append(c.eval_run == query.eval_run)
    if query.experiment:
        clauses.append(c.experiment == query.experiment)
    if query.min_cost is not None:
        clauses.append(c.cost >= query.min_cost)
    if query.min_latency_s is not None:
        clauses.append(c.duration_s >= query.min_latency_s)
    if query.since is not None:
        clauses.append(c.started_at >= query.since)
    if query.until is not None:
        clauses.append(c.started_at < query.until)
    return clauses


def recent_calls(
    store: Store, query: CallFilter | None = None, *, limit: int = 50
) -> list[CallRow]:
    """The newest calls matching ``query``, newest first."""
    return list(page_calls(store, query, limit=limit).rows)


def page_calls(
    store: Store,
    query: CallFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
    content: bool = True,
) -> CallPage:
    """Calls newest first matching ``query``, one keyset page at a time (``cursor``: the
    ``next_cursor`` of the page before). ``content=False`` leaves the captured request
    and reply unread (None), for listings: :func:`get_call` reads them.

    Raises:
        InputError: a cursor this store did not make, or a bad prompt filter.
    """
    where = call_filter_clauses(query) if query is not None else []
    columns = [
        null().label(c.name) if not content and c.name in _CONTENT else c for c in calls.columns
    ]
    return keyset_page(store, calls, columns, where, call_row, cursor=cursor, limit=limit)


def get_call(store: Store, call_id: str) -> CallRow | None:
    """The call with this id, or None."""
    with store.read() as conn:
        values = conn.execute(select(calls).where(calls.c.id == call_id)).first()
    return None if values is None else call_row(values)


def _driver_params(row: Mapping[str, Any], processors: Processors) -> tuple[Any, ...]:
    values = [row[name] for name in CALL_COLUMNS]
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)


def _prepare(row: Mapping[str, Any]) -> Mapping[str, Any]:
    prepared: dict[str, object] | None = None
    for name, length in _STRING_LIMITS:
        value = row.get(name)
        if isinstance(value, str) and len(value) > length:
            # PostgreSQL rejects an over-long value (and with it the whole batch).
            prepared = prepared if prepared is not None else dict(row)
            prepared[name] = value[: length - 1] + "…"
    return row if prepared is None else prepared
