"""The SQLite fast path: what a one-call command needs, through ``sqlite3`` alone.

Importing SQLAlchemy costs about 0.3 s of CPU, more than the rest of ``llmlab run`` on a
hosted model. On an SQLite file at the current schema, a :class:`Store` therefore starts
without an engine and keeps a plain ``sqlite3`` connection (this :class:`FastSqlite`) for
the few statements such a command runs: the schema-version check when it opens, "are
there budgets / alert rules?", and the recorder's batch (the call rows and their rollup
upserts, in one ``BEGIN IMMEDIATE`` transaction). Anything else creates the engine, as
before, and from then on the recorder writes through it.

The SQL is not written here: ``scripts/regen_fast_sql.py`` compiles it from the table
metadata into ``_fast_sql.py`` (a test fails when that module is stale), and the values
are converted exactly as the engine's bind processors convert them (money as integer
pico-dollars, naive-UTC timestamps in SQLAlchemy's text format, JSON by ``json.dumps``),
so a row is stored byte-identical either way (``tests/store/test_fast_path.py``). The
connection is tuned by the engine's own connect hook (WAL, busy timeout, foreign keys)
and driver errors become the engine path's ``StoreError`` one-liners.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmlab.store import _fast_sql as sql
from llmlab.store._db_errors import translate_db_error
from llmlab.store._money import from_pico, money_from_driver, money_to_driver, to_pico
from llmlab.store._sqlite import busy_timeout_s, sqlite_on_connect

__all__ = ["FastSqlite", "RollupDeltas", "call_params"]

RollupKey = tuple[str, int, str, str]
RollupDeltas = Callable[
    [Sequence[Mapping[str, Any]]],
    tuple[
        Mapping[RollupKey, Sequence[Any]], Callable[[Sequence[Any], Sequence[Any]], Sequence[Any]]
    ],
]
"""``fn(rows) -> (deltas, merge)``: what a batch adds to each rollup group (values in
``ROLLUP_VALUE_COLUMNS`` order, money in integer pico-dollars) and how to add it to a
stored row (see ``llmlab.store.upsert_rollups``)."""

_STRICT_BOOLS = frozenset([None, True, False])
_COST = sql.ROLLUP_VALUE_COLUMNS.index("cost")


def _as_datetime(value: Any) -> Any:
    # UtcDateTime.process_bind_param, then SQLAlchemy's SQLite DATETIME bind processor.
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError("SQLite DateTime type only accepts Python datetime objects as input.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return sql.DATETIME_FORMAT % {
        "year": value.year,
        "month": value.month,
        "day": value.day,
        "hour": value.hour,
        "minute": value.minute,
        "second": value.second,
        "microsecond": value.microsecond,
    }


def _as_bool(value: Any) -> Any:
    # SQLAlchemy's Boolean on a database without a native boolean: strict, then 0 / 1.
    if value not in _STRICT_BOOLS:
        if not isinstance(value, int):
            raise TypeError(f"Not a boolean value: {value!r}")
        raise ValueError(f"Value {value!r} is not None, True, or False")
    return None if value is None else int(value)


def _as_money(value: Any) -> Any:
    return None if value is None else to_pico(value)


def _as_json(value: Any) -> str:
    # JSON columns store None as the JSON text null (none_as_null is off), like the engine.
    return json.dumps(value)


TO_DRIVER: dict[str, Callable[[Any], Any]] = {
    "datetime": _as_datetime,
    "bool": _as_bool,
    "money": _as_money,
    "json": _as_json,
}
"""A column's value kind -> what the engine's bind processors make of a value."""
_CONVERSIONS = tuple((index, TO_DRIVER[kind]) for index, kind in sql.CALL_CONVERSIONS)


def _from_datetime(value: Any) -> datetime | None:
    # SQLAlchemy's SQLite DATETIME result, then UtcDateTime.process_result_value.
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _from_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _from_money(value: Any) -> Any:
    return None if value is None else from_pico(value)


def _from_json(value: Any) -> Any:
    return None if value is None else json.loads(value)


FROM_DRIVER: dict[str, Callable[[Any], Any]] = {
    "datetime": _from_datetime,
    "bool": _from_bool,
    "money": _from_money,
    "json": _from_json,
}
"""A column's value kind -> what the engine's result processors make of a stored value."""


def prepared_call(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """``row`` with over-long text cut to fit its column, as ``insert_calls`` cuts it."""
    prepared: dict[str, object] | None = None  # a copy only when a value must be cut
    for index, length in sql.CALL_STRING_LIMITS:
        name = sql.CALL_COLUMNS[index]
        value = row.get(name)
        if isinstance(value, str) and len(value) > length:
            prepared = prepared if prepared is not None else dict(row)
            prepared[name] = value[: length - 1] + "…"
    return row if prepared is None else prepared


def call_params(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The driver values of one (prepared) call row, in ``INSERT_CALLS`` order."""
    values = [row[name] for name in sql.INSERT_CALLS_PARAMS]
    for index, convert in _CONVERSIONS:
        values[index] = convert(values[index])
    return tuple(values)


class FastSqlite:
    """A plain ``sqlite3`` connection to one store's file (see the module docstring).

    Thread-safe (one lock); used by the store's owner thread and its recorder thread.
    """

    def __init__(self, conn: sqlite3.Connection, where: str) -> None:
        self.conn = conn
        self.where = where
        self.lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, where: str) -> FastSqlite | None:
        """The fast path of an existing SQLite file at this llmlab's schema; None when the
        engine path must open it (no file yet, an older or newer schema, any error: the
        engine path then migrates it, or says what is wrong)."""
        if not path.is_file():
            return None
        timeout_s = busy_timeout_s()
        try:
            conn = sqlite3.connect(
                str(path), timeout=timeout_s, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error:
            return None
        try:
            sqlite_on_connect(timeout_s)(conn, None)
            versions = [row[0] for row in conn.execute(sql.SCHEMA_CHECK)]
        except (sqlite3.Error, UnicodeDecodeError):
            conn.close()
            return None
        if versions != [sql.SCHEMA_REVISION]:
            conn.close()
            return None
        return cls(conn, where)

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads (the database's faults as ``StoreError``)."""
        with self.lock:
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise self._translated(exc) from exc

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``, as ``store.write()`` on SQLite)."""
        with self.lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.IntegrityError:
                raise  # the rows' fault, not translated (as on the engine path)
            except sqlite3.Error as exc:
                raise self._translated(exc) from exc

    def any_rows(self, table: str) -> bool:
        """Whether ``table`` (one of ``_fast_sql.ANY_ROWS``) holds any row."""
        with self.lock:
            try:
                return self.conn.execute(sql.ANY_ROWS[table]).fetchone() is not None
            except sqlite3.Error as exc:
                raise self._translated(exc) from exc

    def insert_calls(
        self, rows: Sequence[Mapping[str, Any]], rollups: RollupDeltas | None = None
    ) -> int:
        """Insert call rows and add them into the rollups, in one write transaction.

        Raises what the engine path raises: ``StoreError`` for the database's faults, the
        driver's ``IntegrityError`` for a duplicate id, ``TypeError`` / ``ValueError`` for
        a value a column refuses.
        """
        if not rows:
            return 0
        prepared = [prepared_call(row) for row in rows]
        params = [call_params(row) for row in prepared]
        with self.writing() as conn:
            conn.executemany(sql.INSERT_CALLS, params)
            if rollups is not None:
                deltas, merge = rollups(prepared)
                _upsert_rollups(conn, deltas, merge)
        return len(prepared)

    def _translated(self, exc: sqlite3.Error) -> BaseException:
        return translate_db_error(exc, self.where) or exc


def _upsert_rollups(
    conn: sqlite3.Connection,
    deltas: Mapping[RollupKey, Sequence[Any]],
    merge: Callable[[Sequence[Any], Sequence[Any]], Sequence[Any]],
) -> None:
    # upsert_rollups() on SQLite, statement for statement: insert the missing rows, read
    # them under the write lock, write the sums back.
    if not deltas:
        return
    zero: list[Any] = [b"" if name.endswith("_hist") else 0 for name in sql.ROLLUP_VALUE_COLUMNS]
    zero[_COST] = money_to_driver(0, "sqlite")
    keys = sorted(deltas)
    conn.executemany(sql.ROLLUP_INSERT, [(*key, *zero) for key in keys])
    updates = []
    for key in keys:
        existing = list(conn.execute(sql.ROLLUP_SELECT, key).fetchone())
        existing[_COST] = money_from_driver(existing[_COST], "sqlite")
        merged = list(merge(existing, deltas[key]))
        merged[_COST] = money_to_driver(int(merged[_COST]), "sqlite")
        updates.append((*merged, *key))
    conn.executemany(sql.ROLLUP_UPDATE, updates)
