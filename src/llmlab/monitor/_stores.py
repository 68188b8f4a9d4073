"""Which store a monitor function works on."""

from __future__ import annotations

from llmlab.store import Store, resolve_store

__all__ = ["store_of"]


def store_of(store: Store | None) -> Store:
    """``store``, or the default handle when None."""
    return resolve_store(store)
