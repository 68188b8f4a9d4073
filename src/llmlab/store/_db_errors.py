"""Database errors at run time, as one ``StoreError`` line that says what to do.

Installed on every engine as SQLAlchemy's ``handle_error`` hook, so no raw driver or
SQLAlchemy exception about the environment (a lock held too long, a full disk, a read-only
file, a damaged file, a lost server, an old schema) leaves the store. Integrity errors are
left alone: they are about the data, and the store functions that expect them catch them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmlab._errors import StoreError
from llmlab.store._sqlite import BUSY_TIMEOUT_S, busy_timeout_s

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext

__all__ = ["handle_db_error", "translate_db_error"]

# (substring of the driver's message, kind, what to say after the database's name)
_SQLITE_MESSAGES: tuple[tuple[str, str, str], ...] = (
    (
        "database is locked",
        "locked",
        "is locked by another process (waited {timeout:g} s, LLMLAB_BUSY_TIMEOUT_S); let the "
        "other process finish, or run the command again",
    ),
    (
        "database table is locked",
        "locked",
        "has a table locked by another connection; run the command again",
    ),
    (
        "database or disk is full",
        "disk_full",
        "cannot be written: the disk is full; free some space and run the command again",
    ),
    (
        "disk i/o error",
        "disk_full",
        "cannot be written: disk I/O error (a full or failing disk?); free some space, check "
        "the disk and run the command again",
    ),
    (
        "readonly database",
        "read_only",
        "is read-only; give this user write access to the file and its folder, or point "
        "LLMLAB_DB at another database",
    ),
    (
        "unable to open database file",
        "permission",
        "cannot be opened: check that its folder exists and this user may read and write it",
    ),
    (
        "file is not a database",
        "corrupt",
        "is not an SQLite database (or is encrypted); point LLMLAB_DB at the right file",
    ),
    (
        "database disk image is malformed",
        "corrupt",
        "is damaged; restore it from a backup or point LLMLAB_DB at another file "
        "(`sqlite3 FILE .recover` may save its rows)",
    ),
    (
        "malformed database schema",
        "corrupt",
        "is damaged (its schema cannot be read); restore it from a backup or point LLMLAB_DB "
        "at another file (`sqlite3 FILE .recover` may save its rows)",
    ),
    (
        "could not decode to utf-8",
        "corrupt",
        "is damaged (it holds text that is not UTF-8); restore it from a backup or point "
        "LLMLAB_DB at another file (`sqlite3 FILE .recover` may save its rows)",
    ),
    (
        "too large to convert to sqlite integer",
        "other",
        "cannot hold a number this large (past 9223372036854775807); use a smaller number",
    ),
    (
        "no such table",
        "schema",
        "has an older schema than this llmlab; run `llmlab db upgrade`",
    ),
    (
        "no such column",
        "schema",
        "has an older schema than this llmlab; run `llmlab db upgrade`",
    ),
)

_RETRYABLE = frozenset({"locked", "connection"})


def _timeout() -> float:
    try:
        return busy_timeout_s()
    except StoreError:
        return BUSY_TIMEOUT_S


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def translate_db_error(
    error: BaseException, where: str, *, disconnect: bool = False
) -> StoreError | None:
    """The ``StoreError`` for a driver error on database ``where``, or None to leave it be."""
    # By name: SQLAlchemy's, sqlite3's (the fast path's) and psycopg's integrity errors.
    if _is_integrity(error):
        return None
    if isinstance(error, UnicodeDecodeError):  # SQLite text that is not UTF-8: a damaged page
        return _store_error(
            f"the database {where} is damaged (it holds text that is not UTF-8); restore it "
            "from a backup or point LLMLAB_DB at another file",
            "corrupt",
        )
    message = _first_line(error).lower()
    for needle, kind, advice in _SQLITE_MESSAGES:
        if needle in message:
            if "{timeout" in advice:
                advice = advice.format(timeout=_timeout())
            return _store_error(f"the database {where} {advice}", kind)
    module = type(error).__module__
    if disconnect or (module.startswith("psycopg") and "Operational" in type(error).__name__):
        return _store_error(
            f"lost the connection to the database {where} ({_first_line(error)}); check that "
            "the server is running and reachable, then run the command again",
            "connection",
        )
    if module.startswith("psycopg") and type(error).__name__ in {
        "UndefinedTable",
        "UndefinedColumn",
    }:
        return _store_error(
            f"the database {where} has an older schema than this llmlab; run `llmlab db upgrade`",
            "schema",
        )
    if type(error).__name__ in {"OperationalError", "DatabaseError", "InterfaceError"}:
        return _store_error(f"database error on {where}: {_first_line(error)}", "other")
    return None


def _is_integrity(error: BaseException) -> bool:
    return type(error).__name__ in {
        "IntegrityError",
        "UniqueViolation",
        "ForeignKeyViolation",
        "NotNullViolation",
        "CheckViolation",
    }


def _store_error(message: str, kind: str) -> StoreError:
    error = StoreError(message)
    error.kind = kind
    error.retryable = kind in _RETRYABLE
    return error


def handle_db_error(context: ExceptionContext) -> BaseException | None:
    """SQLAlchemy ``handle_error`` hook: raise the ``StoreError`` in place of the raw error."""
    if context.is_pre_ping:
        return None  # the pool replaces a dead connection found by pre-ping by itself
    engine = context.engine
    where = engine.url.render_as_string(hide_password=True) if engine is not None else "?"
    original = context.original_exception
    return translate_db_error(original, where, disconnect=context.is_disconnect)
