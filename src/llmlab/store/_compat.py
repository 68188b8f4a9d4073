"""Transitional: URL-keyed engines for code not yet moved to the ``Store`` handle.

Removed once every package takes a ``Store`` (issue 8). New code must not use it.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from llmlab.store._engine import database_url
from llmlab.store._handle import Store, default_store, set_default_store

__all__ = ["cached_database_url", "close_engines", "get_engine"]

_stores: dict[str, Store] = {}
_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The engine of ``url``'s store (the default handle when None)."""
    if url is None:
        return default_store().engine
    resolved = database_url(url)
    with _lock:
        store = _stores.get(resolved)
        if store is None or store.closed:
            store = _stores[resolved] = Store(resolved)
    return store.engine


def cached_database_url(url: str | None = None) -> str:
    """The resolved URL (the default handle's when None)."""
    return default_store().url if url is None else database_url(url)


def close_engines() -> None:
    """Close every store opened here and the default handle."""
    with _lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()
    previous = set_default_store(None)
    if previous is not None:
        previous.close()
