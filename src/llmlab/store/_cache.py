"""Reading and writing the ``response_cache`` table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from llmlab.store._sqlite import begin_write
from llmlab.store._tables_cache import response_cache

__all__ = ["cache_clear", "cache_get", "cache_put"]


def cache_get(engine: Engine, key: str) -> dict[str, Any] | None:
    """The cached response stored under ``key``, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(response_cache.c.response).where(response_cache.c.key == key)
        ).first()
    if row is None:
        return None
    payload: dict[str, Any] = row[0]
    return payload


def cache_put(
    engine: Engine, key: str, provider: str, model: str, response: dict[str, Any]
) -> None:
    """Store ``response`` under ``key``; the first answer stored for a key stays."""
    try:
        with begin_write(engine) as conn:
            conn.execute(
                response_cache.insert().values(
                    key=key,
                    provider=provider,
                    model=model,
                    created_at=datetime.now(UTC),
                    response=response,
                )
            )
    except IntegrityError:
        pass  # another caller stored the same request first: keep theirs


def cache_clear(engine: Engine, *, provider: str | None = None, model: str | None = None) -> int:
    """Delete cached responses (all, or of one provider / model); returns how many."""
    stmt = delete(response_cache)
    if provider is not None:
        stmt = stmt.where(response_cache.c.provider == provider)
    if model is not None:
        stmt = stmt.where(response_cache.c.model == model)
    with begin_write(engine) as conn:
        return int(conn.execute(stmt).rowcount)
