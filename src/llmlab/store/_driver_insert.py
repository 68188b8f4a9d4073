"""A table's INSERT at the driver level, with the columns' own bind processors.

SQLAlchemy's per-row parameter handling costs more than SQLite's insert itself: building
the statement once per dialect and converting each value with its column's bind
processor, then calling the driver's ``executemany``, more than doubles the ingest rate.
Used for the calls the recorder writes and the results an eval run writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Dialect, Table

__all__ = ["DriverInsert", "Processors", "driver_insert"]

Processors = tuple[tuple[int, Callable[[Any], Any]], ...]
DriverInsert = tuple[str, Processors]
"""The SQL text and, for each column that needs one, (its index, its bind processor)."""

_made: dict[tuple[str, str, str, tuple[str, ...], bool], DriverInsert | None] = {}
_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def driver_insert(
    dialect: Dialect, table: Table, columns: Sequence[str], *, ignore_conflicts: bool = False
) -> DriverInsert | None:
    """``INSERT INTO table (columns) VALUES (...)`` in the driver's parameter style (with
    ``ON CONFLICT DO NOTHING`` when ``ignore_conflicts``, SQLite and PostgreSQL only), and
    the bind processors to apply; None for a dialect this does not cover."""
    key = (dialect.name, dialect.driver, table.name, tuple(columns), ignore_conflicts)
    if key in _made:
        return _made[key]
    marker = _MARKERS.get(dialect.paramstyle)
    made: DriverInsert | None = None
    if marker is not None and (not ignore_conflicts or dialect.name in ("sqlite", "postgresql")):
        quote = dialect.identifier_preparer
        cols = [table.c[name] for name in columns]
        sql = (
            f"INSERT INTO {quote.format_table(table)} "
            f"({', '.join(quote.format_column(column) for column in cols)}) "
            f"VALUES ({', '.join(marker for _ in cols)})"
            + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
        )
        processors = [
            (index, column.type.dialect_impl(dialect).bind_processor(dialect))
            for index, column in enumerate(cols)
        ]
        made = (sql, tuple((index, fn) for index, fn in processors if fn is not None))
    _made[key] = made
    return made
