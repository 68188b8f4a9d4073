"""Engine set-up: where the database is, how SQLite is tuned, one engine per URL.

``LLMLAB_DB`` takes a filesystem path or a SQLAlchemy URL; without it the store is
``.llmlab/llmlab.db`` under the working folder. SQLite runs in WAL mode with a busy
timeout, so several processes can write one file; every engine is migrated to the
newest schema when it is opened. Engines are owned by a ``Store`` handle
(``_handle.py``); nothing here is cached.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from llmlab._errors import StoreError
from llmlab.store._sqlite import (
    busy_timeout_s,
    sqlite_on_begin,
    sqlite_on_connect,
    stored_json,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

# SQLAlchemy is imported by the functions that make an engine, not by this module: a
# command that records one call on an SQLite file never needs it (see _fast_sqlite.py).

__all__ = [
    "DEFAULT_DB_PATH",
    "database_url",
    "open_engine",
    "safe_url",
    "unmigrated_engine",
]

DEFAULT_DB_PATH = Path(".llmlab") / "llmlab.db"


def database_url(url: str | None = None) -> str:
    """The SQLAlchemy URL of the store: ``url``, else ``LLMLAB_DB``, else the default file.

    A value without ``://`` is a filesystem path to an SQLite file. ``sqlite://`` (no
    path) is a throwaway in-memory database, gone when the store closes.

    Raises:
        StoreError: ``sqlite:///`` with an empty path: a file was meant, but none is named
            (SQLite would silently keep everything in memory).
    """
    raw = url if url is not None else os.environ.get("LLMLAB_DB", "").strip()
    if not raw:
        raw = str(DEFAULT_DB_PATH)
    if "://" in raw:
        if raw.startswith("sqlite") and raw.split("?", 1)[0].endswith(":///"):
            raise StoreError(
                f"the database URL {raw!r} names no file, so nothing would be kept; use "
                "sqlite:///path/to/llmlab.db (or sqlite:// for a throwaway in-memory store)"
            )
        return raw
    path = Path(raw).expanduser().resolve()
    return f"sqlite:///{path}"


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    if isinstance(url, str) and url.startswith("sqlite") and "@" not in url:
        return url  # a file path or memory: no password to hide
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """A new engine for the resolved ``url``, migrated to head unless ``migrate`` is False.

    Runtime database errors on it are raised as ``StoreError`` (see ``_db_errors``).

    Raises:
        StoreError: the database cannot be opened or migrated.
    """
    return _open(url, migrate=migrate)


def unmigrated_engine(url: str | None = None) -> Engine:
    """A fresh, uncached engine that does not migrate (to inspect a database as it is).

    The caller disposes it.
    """
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(database_url(url))
    try:
        return _create(parsed)
    except (SQLAlchemyError, ImportError, OSError) as exc:
        raise StoreError(f"cannot open database {safe_url(parsed)}: {exc}") from exc


def _open(url: str, *, migrate: bool) -> Engine:
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from llmlab.store._migrate import ensure_migrated

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"invalid database URL {url!r}: {exc}; set LLMLAB_DB to a file path or a "
            "SQLAlchemy URL such as postgresql+psycopg://user@host/db"
        ) from exc
    try:
        engine = _create(parsed)
    except (SQLAlchemyError, ImportError, OSError) as exc:
        raise StoreError(f"cannot open database {safe_url(parsed)}: {exc}") from exc
    if not migrate:
        return engine
    try:
        ensure_migrated(engine)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open database {safe_url(parsed)}: {_first_line(exc)}; check LLMLAB_DB "
            "(a file path or a SQLAlchemy URL) and that the database is reachable"
        ) from exc
    return engine


def _create(url: URL) -> Engine:
    from sqlalchemy import StaticPool, create_engine, event

    from llmlab.store._db_errors import handle_db_error

    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "handle_error", handle_db_error)
        return engine
    database = url.database or ""
    timeout_s = busy_timeout_s()
    connect_args = {"timeout": timeout_s, "check_same_thread": False}
    if database in ("", ":memory:"):
        # One shared connection, or every thread would see its own empty database.
        engine = create_engine(
            url, connect_args=connect_args, poolclass=StaticPool, json_deserializer=stored_json
        )
    else:
        if not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args, json_deserializer=stored_json)
    event.listen(engine, "connect", sqlite_on_connect(timeout_s))
    event.listen(engine, "begin", sqlite_on_begin)
    event.listen(engine, "handle_error", handle_db_error)
    return engine


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
