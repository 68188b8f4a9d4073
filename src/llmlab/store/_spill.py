"""Rows that could not be written: kept in a spill file beside the database, replayed later.

When a database stays unreachable past the writers' retries (a PostgreSQL restart, a disk
that filled), the rows a writer holds (call records, eval results) are appended to the
database's *spill file* instead of being dropped. The spill file belongs to the database,
not to the working folder:

- an SQLite file ``path/llmlab.db`` spills to ``path/llmlab.db.unwritten.jsonl``;
- a server database spills to ``$XDG_DATA_HOME/llmlab/spill/<hash>.jsonl`` (default
  ``~/.local/share/...``), where ``<hash>`` identifies the URL without its password.

Each line is ``{"table": ..., "row": {...}}``, dates and Decimals tagged so they come back
exactly. :func:`replay_spill` (run when a :class:`Store` opens, and by writers once the
database answers again) inserts them with ``ON CONFLICT DO NOTHING``: replaying twice, or
replaying rows that did reach the database after all, stores each row once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, make_url
from sqlalchemy.exc import SQLAlchemyError

from llmlab._errors import StoreError
from llmlab._json import JsonObject, JsonReady, JsonReadyObject
from llmlab.store._replay_hooks import ReplayHook, add_replay_hook, replay_hooks
from llmlab.store._tables_calls import calls
from llmlab.store._tables_evals import eval_results
from llmlab.store._upsert import insert_ignoring

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = [
    "ReplayHook",
    "add_replay_hook",
    "replay_spill",
    "spill_path",
    "spill_rows",
]

logger = logging.getLogger("llmlab.store")


_TABLES: dict[str, Table] = {"calls": calls, "eval_results": eval_results}
_CONFLICT_KEYS: dict[str, list[str]] = {
    "calls": ["id"],
    "eval_results": ["run_id", "case_id", "epoch"],
}
_RETURNING: dict[str, list[str]] = {"calls": ["id"], "eval_results": ["run_id", "case_id", "epoch"]}
_file_lock = threading.Lock()
REPLAY_BATCH = 500


def spill_path(store: Store, *, rejected: bool = False) -> Path | None:
    """Where ``store`` spills rows; None for an in-memory database (nothing outlives it).

    ``rejected``: the file of rows the database refused (a duplicate id, a value a column
    cannot hold), kept for a person to look at and never replayed.
    """
    suffix = ".rejected.jsonl" if rejected else ".jsonl"
    if store.path is not None:
        return store.path.with_name(store.path.name + ".unwritten" + suffix)
    if store.dialect == "sqlite":
        return None
    url = make_url(store.url)  # the password is not part of the database's identity
    identity = f"{url.drivername}://{url.username}@{url.host}:{url.port}/{url.database}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "llmlab" / "spill" / f"{digest}{suffix}"


def spill_rows(
    store: Store, table: str, rows: Sequence[Mapping[str, Any]], *, rejected: bool = False
) -> Path:
    """Append ``rows`` of ``table`` to the store's spill file and return its path
    (``rejected``: to the file of refused rows, which is not replayed).

    Raises:
        OSError: the file cannot be written (the caller reports the rows as lost).
        ValueError: ``table`` cannot be spilled, or the store is in memory.
    """
    if table not in _TABLES:
        raise ValueError(f"rows of {table!r} cannot be spilled")
    path = spill_path(store, rejected=rejected)
    if path is None:
        raise ValueError(f"{store.safe_url} is in memory: nothing can be kept for later")
    text = "".join(
        json.dumps({"table": table, "row": dict(row)}, default=_encode) + "\n" for row in rows
    )
    with _file_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One O_APPEND write per batch: lines of concurrent processes do not interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    return path


def replay_spill(store: Store) -> int:
    """Insert what the store's spill file holds, idempotently; returns rows newly stored.

    The file is claimed (renamed) first, so two processes opening the database at once do
    not both replay it; rows that still cannot be written go back to the spill file. Logs
    one warning saying how many rows were replayed.
    """
    path = spill_path(store)
    if path is None or not path.exists():
        return 0
    claimed = path.with_name(f"{path.name}.replaying-{os.getpid()}-{threading.get_ident()}")
    try:
        os.replace(path, claimed)
    except FileNotFoundError:  # another process claimed it first
        return 0
    by_table: dict[str, list[JsonReadyObject]] = {}
    bad = 0
    with claimed.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                item = json.loads(line, object_hook=_decode)
                by_table.setdefault(item["table"], []).append(item["row"])
            except (ValueError, KeyError, TypeError):
                bad += 1  # a line cut short by a crash while spilling
    new = 0
    refused: list[tuple[str, JsonReadyObject]] = []
    try:
        for table, rows in by_table.items():
            for start in range(0, len(rows), REPLAY_BATCH):
                batch = rows[start : start + REPLAY_BATCH]
                try:
                    new += _replay(store, table, batch)
                except StoreError as exc:
                    if exc.retryable:
                        raise
                    new += _replay_one_by_one(store, table, batch, refused)
                except SQLAlchemyError:  # a row the database refuses: find it
                    new += _replay_one_by_one(store, table, batch, refused)
    except Exception:
        # Keep every row for the next try (already replayed ones are skipped then).
        _put_back(path, claimed)
        raise
    claimed.unlink()
    for table, row in refused:
        spill_rows(store, table, [row], rejected=True)
    total = sum(len(rows) for rows in by_table.values())
    logger.warning(
        "replayed %d unwritten row(s) from %s into %s (%d already there%s%s)",
        new,
        path,
        store.safe_url,
        total - new - len(refused),
        f", {bad} unreadable line(s) dropped" if bad else "",
        f", {len(refused)} refused, kept in {spill_path(store, rejected=True)}" if refused else "",
    )
    return new


def _replay_one_by_one(
    store: Store,
    table: str,
    rows: list[JsonReadyObject],
    refused: list[tuple[str, JsonReadyObject]],
) -> int:
    new = 0
    for row in rows:
        try:
            new += _replay(store, table, [row])
        except StoreError as exc:
            if exc.retryable:
                raise
            refused.append((table, row))
        except (SQLAlchemyError, TypeError, ValueError):
            refused.append((table, row))
    return new


def _replay(store: Store, table_name: str, rows: list[JsonReadyObject]) -> int:
    table = _TABLES.get(table_name)
    if table is None:
        return 0
    columns = {column.name for column in table.columns}
    rows = [{k: v for k, v in row.items() if k in columns} for row in rows]
    if "created_at" in columns:  # results spilled before they were given a time
        now = datetime.now(UTC)
        for row in rows:
            if row.get("created_at") is None:
                row["created_at"] = now
    query = insert_ignoring(store.dialect, table, _CONFLICT_KEYS[table_name]).returning(
        *(table.c[name] for name in _RETURNING[table_name])
    )
    with store.write() as conn:
        new_rows = []
        for row in rows:  # one by one: RETURNING says which rows were new
            if conn.execute(query, row).first() is not None:
                new_rows.append(row)
        if new_rows:
            for hook in replay_hooks(table_name):
                hook(conn, new_rows)
    return len(new_rows)


def _put_back(path: Path, claimed: Path) -> None:
    with _file_lock, claimed.open("rb") as source:
        data = source.read()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    claimed.unlink()


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)  # anything else as text rather than losing the row


def _decode(obj: JsonObject) -> JsonReady:
    """A spilled row's values back: datetimes and Decimals as ``_encode`` wrote them."""
    if len(obj) == 1:
        moment, amount = obj.get("$datetime"), obj.get("$decimal")
        if isinstance(moment, str):
            return datetime.fromisoformat(moment)
        if isinstance(amount, str):
            return Decimal(amount)
    return obj
