"""Insert-or-update and insert-or-ignore, in the dialect of the store.

``INSERT ... ON CONFLICT`` is one atomic statement in SQLite and PostgreSQL alike, but
SQLAlchemy builds it from each dialect's own ``insert``: this module is the one place
that chooses. (Select-then-insert races with another writer; catching the
IntegrityError of a plain insert aborts a PostgreSQL transaction.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Insert, Table
from sqlalchemy.dialects import sqlite

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

__all__ = ["insert_ignoring", "upsert"]


def _insert(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    if dialect == "postgresql":
        # Lazy: the PostgreSQL dialect (~50 ms to import) is loaded by the engine on a
        # PostgreSQL store only; an SQLite store never needs it.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring(dialect: str, table: Table, keys: Sequence[str] | None = None) -> Insert:
    """An INSERT into ``table`` that does nothing for a row whose key is already there
    (``keys``: the unique columns; None: any unique constraint)."""
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=keys)


def upsert(
    dialect: str,
    table: Table,
    keys: Sequence[str],
    update: Iterable[str] = (),
    *,
    update_with: Mapping[str, ColumnElement[Any]] | None = None,
) -> Insert:
    """An INSERT into ``table`` that, for a row whose ``keys`` are already there, updates
    that row instead: the ``update`` columns from the new row, the ``update_with`` ones
    to these expressions (where ``table.c.X`` is the stored row's value)."""
    stmt = _insert(dialect, table)
    changes: dict[str, ColumnElement[Any]] = {c: stmt.excluded[c] for c in update}
    changes.update(update_with or {})
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=changes)
