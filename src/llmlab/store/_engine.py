"""Engine set-up: where the database is, how SQLite is tuned, one engine per URL.

``LLMLAB_DB`` takes a filesystem path or a SQLAlchemy URL; without it the store is
``.llmlab/llmlab.db`` under the working folder. SQLite runs in WAL mode with a busy
timeout, so several processes can write one file; every engine is migrated to the
newest schema the first time this process uses it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy import Engine, StaticPool, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from llmlab._errors import StoreError
from llmlab.store._migrate import ensure_migrated
from llmlab.store._sqlite import BUSY_TIMEOUT_S, sqlite_on_begin, sqlite_on_connect

__all__ = [
    "DEFAULT_DB_PATH",
    "cached_database_url",
    "close_engines",
    "database_url",
    "get_engine",
    "safe_url",
    "unmigrated_engine",
]

DEFAULT_DB_PATH = Path(".llmlab") / "llmlab.db"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url(url: str | None = None) -> str:
    """The SQLAlchemy URL of the store: ``url``, else ``LLMLAB_DB``, else the default file.

    A value without ``://`` is a filesystem path to an SQLite file.
    """
    raw = url if url is not None else os.environ.get("LLMLAB_DB", "").strip()
    if not raw:
        raw = str(DEFAULT_DB_PATH)
    if "://" in raw:
        return raw
    path = Path(raw).expanduser().resolve()
    return f"sqlite:///{path}"


_resolved: dict[tuple[str | None, str | None], tuple[str, str | None]] = {}


def cached_database_url(url: str | None = None) -> str:
    """:func:`database_url`, remembered per setting: for the call path, which must not
    resolve paths (filesystem calls) on every call.

    A relative path (the default ``.llmlab/llmlab.db`` included) is resolved again when
    the working folder changes.
    """
    env = os.environ.get("LLMLAB_DB") if url is None else None
    key = (url, env)
    hit = _resolved.get(key)
    if hit is not None and (hit[1] is None or hit[1] == os.getcwd()):
        return hit[0]
    resolved = database_url(url)
    raw = (url if url is not None else (env or "").strip()) or str(DEFAULT_DB_PATH)
    relative = "://" not in raw and not Path(raw).expanduser().is_absolute()
    _resolved[key] = (resolved, os.getcwd() if relative else None)
    return resolved


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (see :func:`database_url`), migrated to head, cached per URL.

    Raises:
        StoreError: the database cannot be opened or migrated.
    """
    resolved = database_url(url)
    engine = _engines.get(resolved)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _open(resolved)
            _engines[resolved] = engine
    return engine


def unmigrated_engine(url: str | None = None) -> Engine:
    """A fresh, uncached engine that does not migrate (to inspect a database as it is).

    The caller disposes it.
    """
    parsed = make_url(database_url(url))
    try:
        return _create(parsed)
    except (SQLAlchemyError, ImportError, OSError) as exc:
        raise StoreError(f"cannot open database {safe_url(parsed)}: {exc}") from exc


def close_engines() -> None:
    """Dispose every cached engine (tests, and processes that change ``LLMLAB_DB``)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def _fresh_pools_in_child() -> None:
    # A forked child must not use the parent's open connections (SQLAlchemy's advice).
    for engine in list(_engines.values()):
        engine.dispose(close=False)


def _open(url: str) -> Engine:
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
    try:
        ensure_migrated(engine)
    except StoreError:
        engine.dispose()
        raise
    except CommandError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot migrate database {safe_url(parsed)}: {exc}; was it written by a newer "
            "llmlab? Upgrade llmlab, or point LLMLAB_DB at another database"
        ) from exc
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open database {safe_url(parsed)}: {_first_line(exc)}; check LLMLAB_DB "
            "(a file path or a SQLAlchemy URL) and that the database is reachable"
        ) from exc
    return engine


def _create(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = url.database or ""
    connect_args = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    if database in ("", ":memory:"):
        # One shared connection, or every thread would see its own empty database.
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        if not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args)
    event.listen(engine, "connect", sqlite_on_connect)
    event.listen(engine, "begin", sqlite_on_begin)
    return engine


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


os.register_at_fork(after_in_child=_fresh_pools_in_child)
