"""SQLite tuning and write transactions that take the lock up front."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

__all__ = ["BUSY_TIMEOUT_S", "begin_write", "sqlite_on_begin", "sqlite_on_connect"]

BUSY_TIMEOUT_S = 30.0
_BEGIN_OPTION = "llmlab_sqlite_begin"


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write; on SQLite it takes the write lock up front.

    ``BEGIN IMMEDIATE`` waits (up to the busy timeout) for other writers, instead of failing
    with "database is locked" when a transaction that read first then tries to write.
    On other databases this is a plain transaction.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


def sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Connect hook: WAL, busy timeout, foreign keys; transactions under our control."""
    # The sqlite3 module's own transaction handling would skip BEGIN before reads and DDL;
    # sqlite_on_begin emits BEGIN instead (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def sqlite_on_begin(conn: Connection) -> None:
    """Begin hook: ``BEGIN`` or, for :func:`begin_write`, ``BEGIN IMMEDIATE``."""
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
