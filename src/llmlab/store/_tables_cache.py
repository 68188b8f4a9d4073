"""The ``response_cache`` table: model answers kept for re-use by identical requests."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from llmlab.store._metadata import UtcDateTime, metadata

__all__ = ["response_cache"]

response_cache = Table(
    "response_cache",
    metadata,
    # sha256 hex of (provider/model, messages, parameters, trial); see llmlab.models._cache
    Column("key", String(64), primary_key=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # the serialized llmlab Response (with a "version" field)
    Column("response", JSON, nullable=False),
)
