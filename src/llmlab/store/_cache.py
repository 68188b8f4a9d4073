"""Reading and writing the ``response_cache`` table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from llmlab._json import JsonObject, JsonValue
from llmlab.store._tables_cache import response_cache
from llmlab.store._upsert import insert_ignoring

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = ["CachedResponse", "cache_clear", "cache_get", "cache_put"]


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
    stmt = insert_ignoring(store.dialect, response_cache, ["key"]).values(
        key=key,
        provider=provider,
        model=model,
        created_at=datetime.now(UTC),
        response=dict(response),
    )
    with store.write() as conn:
        conn.execute(stmt)


def cache_clear(store: Store, *, provider: str | None = None, model: str | None = None) -> int:
    """Delete cached responses (all, or of one provider / model); returns how many."""
    stmt = delete(response_cache)
    if provider is not None:
        stmt = stmt.where(response_cache.c.provider == provider)
    if model is not None:
        stmt = stmt.where(response_cache.c.model == model)
    with store.write() as conn:
        return int(conn.execute(stmt).rowcount)
