"""Keyset pages: listings newest first on ``(started_at, id)``, with an opaque cursor.

Page 1,000 costs what page 1 costs: the next page starts after the last row seen, not
after skipping the rows before it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, Table, and_, or_, select

from llmlab._errors import InputError

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = ["Page", "decode_cursor", "encode_cursor", "keyset_page"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, newest first; ``next_cursor`` is None on the last page."""

    rows: tuple[T, ...]
    next_cursor: str | None


def encode_cursor(at: datetime, row_id: str) -> str:
    """An opaque keyset cursor for the row after which the next page starts."""
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(started_at, id)`` of a cursor made by :func:`encode_cursor`.

    Raises:
        InputError: the cursor was not made by this server (edited or truncated).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, row_id = raw.split("|", 1)
        return datetime.fromisoformat(at_text), row_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InputError(
            f"cursor {cursor[:40]!r} is not valid; follow the 'next' link of a listing"
        ) from None


def keyset_page(
    store: Store,
    table: Table,
    columns: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
    make_row: Callable[[Row[Any]], T],
    *,
    cursor: str | None,
    limit: int,
) -> Page[T]:
    """The rows of ``table`` matching ``where``, newest first, after ``cursor``.

    ``table`` must have ``started_at`` and ``id`` columns (the key, which ``columns``, the
    selected ones, must name); ``make_row`` turns each result into a row.
    """
    at_col, id_col = table.c.started_at, table.c.id
    clauses = list(where)
    if cursor:
        at, row_id = decode_cursor(cursor)
        clauses.append(or_(at_col < at, and_(at_col == at, id_col < row_id)))
    stmt = (
        select(*columns)
        .where(*clauses)
        .order_by(at_col.desc(), id_col.desc())
        .limit(limit + 1)  # one more: says whether there is a next page
    )
    with store.read() as conn:
        found = conn.execute(stmt).all()
    last = found[limit - 1] if len(found) > limit and limit > 0 else None
    nxt = encode_cursor(last.started_at, last.id) if last is not None else None
    return Page(tuple(make_row(r) for r in found[:limit]), nxt)
