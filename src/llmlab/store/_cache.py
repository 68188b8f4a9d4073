"""Reading and writing the ``response_cache`` table.

On a migrated SQLite file whose store has made no engine yet (see ``store/_handle.py``),
a lookup and a store go through the store's ``sqlite3`` connection, so that an eval run
with the cache on loads no SQLAlchemy; the values are the engine path's, byte for byte
(``tests/store/test_cache_fast.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from llmlab._json import JsonObject, JsonValue

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = ["CachedResponse", "cache_clear", "cache_get", "cache_put"]

COLUMNS = ("key", "provider", "model", "created_at", "response")
"""The table's columns in the order the fast path reads and writes them (a test checks
them against the table's metadata)."""
_FAST_SELECT = f"SELECT {', '.join(COLUMNS)} FROM response_cache WHERE key = ?"
_FAST_INSERT = (
    f"INSERT INTO response_cache ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """One row of ``response_cache``.

    Attributes:
        key: sha256 hex of the request (see ``llmlab.models.cache_key``).
        provider, model: who answered.
        created_at: when it was stored (UTC).
        response: the stored payload (free-form JSON: format version and response).
    """

    key: str
    provider: str
    model: str
    created_at: datetime
    response: JsonObject

    def to_dict(self) -> JsonObject:
        """The row as JSON-ready values."""
        return {
            "key": self.key,
            "provider": self.provider,
            "model": self.model,
            "created_at": self.created_at.isoformat(),
            "response": self.response,
        }


def cache_get(store: Store, key: str) -> CachedResponse | None:
    """The cached response stored under ``key``, or None."""
    fast = store.fast_sink()
    if fast is not None:
        from llmlab.store._fast_sqlite import _from_datetime, _from_json

        with fast.reading() as db:
            found = db.execute(_FAST_SELECT, (key,)).fetchone()
        if found is None:
            return None
        created_at = _from_datetime(found[3])
        assert created_at is not None  # NOT NULL
        return CachedResponse(found[0], found[1], found[2], created_at, _from_json(found[4]))
    from sqlalchemy import select

    from llmlab.store._tables_cache import response_cache

    table = response_cache.c
    with store.read() as conn:
        row = conn.execute(
            select(table.key, table.provider, table.model, table.created_at, table.response).where(
                table.key == key
            )
        ).first()
    if row is None:
        return None
    return CachedResponse(
        key=row.key,
        provider=row.provider,
        model=row.model,
        created_at=row.created_at,
        response=row.response,
    )


def cache_put(
    store: Store, key: str, provider: str, model: str, response: Mapping[str, JsonValue]
) -> None:
    """Store ``response`` under ``key``; the first answer stored for a key stays."""
    # Another caller may have stored the same request first: theirs stays.
    now = datetime.now(UTC)
    fast = store.fast_sink()
    if fast is not None:
        from llmlab.store._fast_sqlite import _as_datetime, _as_json

        with fast.writing() as db:
            db.execute(_FAST_INSERT, (key, provider, model, _as_datetime(now), _as_json(response)))
        return
    from llmlab.store._tables_cache import response_cache
    from llmlab.store._upsert import insert_ignoring

    stmt = insert_ignoring(store.dialect, response_cache, ["key"]).values(
        key=key, provider=provider, model=model, created_at=now, response=dict(response)
    )
    with store.write() as conn:
        conn.execute(stmt)


def cache_clear(store: Store, *, provider: str | None = None, model: str | None = None) -> int:
    """Delete cached responses (all, or of one provider / model); returns how many."""
    from sqlalchemy import delete

    from llmlab.store._tables_cache import response_cache

    stmt = delete(response_cache)
    if provider is not None:
        stmt = stmt.where(response_cache.c.provider == provider)
    if model is not None:
        stmt = stmt.where(response_cache.c.model == model)
    with store.write() as conn:
        return int(conn.execute(stmt).rowcount)
