"""SQLite tuning and write transactions that take the lock up front."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = [
    "BUSY_TIMEOUT_S",
    "begin_write",
    "busy_timeout_s",
    "sqlite_on_begin",
    "sqlite_on_connect",
]

BUSY_TIMEOUT_S = 30.0
# How long a writer waits for another process's lock before "database is locked"; short
# values make lock tests fast, long ones suit slow shared disks.
BUSY_TIMEOUT_ENV = "LLMLAB_BUSY_TIMEOUT_S"
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


def busy_timeout_s() -> float:
    """The SQLite busy timeout: ``LLMLAB_BUSY_TIMEOUT_S`` seconds, else 30.

    Raises:
        StoreError: the variable is not a number of seconds.
    """
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not raw:
        return BUSY_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also catches NaN
        from llmlab._errors import StoreError

        raise StoreError(
            f"{BUSY_TIMEOUT_ENV}={raw!r} is not a number of seconds; unset it or use e.g. 30"
        )
    return value


def sqlite_on_connect(timeout_s: float) -> Callable[[Any, Any], None]:
    """Connect hook: WAL, busy timeout, foreign keys; transactions under our control."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module's own transaction handling would skip BEGIN before reads and
        # DDL; sqlite_on_begin emits BEGIN instead (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        except UnicodeDecodeError as exc:  # a damaged header: reported as the driver would
            raise sqlite3.DatabaseError("database disk image is malformed") from exc
        finally:
            cursor.close()

    return on_connect


def sqlite_on_begin(conn: Connection) -> None:
    """Begin hook: ``BEGIN`` or, for :func:`begin_write`, ``BEGIN IMMEDIATE``."""
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def stored_json(text: str) -> Any:
    """JSON read back from SQLite; text that no longer parses means a damaged page."""
    try:
        return json.loads(text)
    except ValueError as exc:
        from llmlab._errors import StoreError

        error = StoreError(
            "the database is damaged (a stored JSON value does not parse); restore it from a "
            "backup or point LLMLAB_DB at another file (`sqlite3 FILE .recover` may save its rows)"
        )
        error.kind = "corrupt"
        raise error from exc
