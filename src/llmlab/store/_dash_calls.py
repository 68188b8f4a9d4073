"""Dashboard reads of calls: the explorer's keyset pages and one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from llmlab._errors import InputError
from llmlab.store._dash_evals import decode_cursor, encode_cursor
from llmlab.store._handle import Store
from llmlab.store._tables_calls import calls

__all__ = [
    "CallDetail",
    "CallPage",
    "CallQuery",
    "CallRow",
    "get_call",
    "page_calls",
]

# -- calls -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Filters of the calls explorer (all optional, combined with AND)."""

    model: str | None = None
    status: str | None = None
    prompt: str | None = None  # NAME or NAME@VERSION
    eval_run: str | None = None
    experiment: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call in the explorer."""

    id: str
    started_at: datetime
    provider: str
    requested_model: str
    status: str
    duration_s: float
    ttft_s: float | None
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    cost_status: str
    prompt_name: str | None
    prompt_version: int | None
    eval_run: str | None
    experiment: str | None
    arm: str | None


@dataclass(frozen=True, slots=True)
class CallPage:
    """One page of calls, newest first; ``next_cursor`` is None on the last page."""

    rows: tuple[CallRow, ...]
    next_cursor: str | None


_CALL_ROW_COLUMNS = tuple(CallRow.__dataclass_fields__)


def _call_where(q: CallQuery) -> list[ColumnElement[bool]]:
    t = calls
    where: list[ColumnElement[bool]] = []
    if q.model:
        # "provider/model" as the rollups key it, or a bare model name
        provider, _, name = q.model.partition("/")
        if name:
            where += [t.c.requested_model == name, t.c.provider == provider]
        else:
            where.append(t.c.requested_model == q.model)
    if q.status:
        where.append(t.c.status == q.status)
    if q.prompt:
        name, _, version = q.prompt.partition("@")
        where.append(t.c.prompt_name == name)
        if version:
            if not version.isdigit():
                raise InputError(f"prompt filter {q.prompt!r}: use NAME or NAME@VERSION (a number)")
            where.append(t.c.prompt_version == int(version))
    if q.eval_run:
        where.append(t.c.eval_run == q.eval_run)
    if q.experiment:
        where.append(t.c.experiment == q.experiment)
    if q.since is not None:
        where.append(t.c.started_at >= q.since)
    if q.until is not None:
        where.append(t.c.started_at < q.until)
    return where


def page_calls(
    store: Store, query: CallQuery, *, cursor: str | None = None, limit: int = 50
) -> CallPage:
    """Calls newest first matching ``query``, one keyset page at a time."""
    t = calls
    where = _call_where(query)
    if cursor:
        at, row_id = decode_cursor(cursor)
        where.append(or_(t.c.started_at < at, and_(t.c.started_at == at, t.c.id < row_id)))
    stmt = (
        select(*(t.c[n] for n in _CALL_ROW_COLUMNS))
        .where(*where)
        .order_by(t.c.started_at.desc(), t.c.id.desc())
        .limit(limit + 1)
    )
    with store.read() as conn:
        found = [CallRow(**r._asdict()) for r in conn.execute(stmt)]
    more = len(found) > limit
    rows = tuple(found[:limit])
    nxt = encode_cursor(rows[-1].started_at, rows[-1].id) if more and rows else None
    return CallPage(rows, nxt)


@dataclass(frozen=True, slots=True)
class CallDetail:
    """One call in full (request and reply only when content capture was on)."""

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
    cache_hit: bool
    tags: dict[str, str]
    request: Any
    response_text: str | None
    prompt_name: str | None
    prompt_version: int | None
    experiment: str | None
    arm: str | None
    eval_run: str | None
    sample_id: str | None
    epoch: int | None


def get_call(store: Store, call_id: str) -> CallDetail | None:
    """The call with this id, or None."""
    names = tuple(CallDetail.__dataclass_fields__)
    with store.read() as conn:
        r = conn.execute(select(*(calls.c[n] for n in names)).where(calls.c.id == call_id)).first()
    if r is None:
        return None
    values = r._asdict()
    values["tags"] = dict(values["tags"] or {})
    return CallDetail(**values)
