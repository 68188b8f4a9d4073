"""Which store a monitor function works on."""

from __future__ import annotations

from llmlab.store import Store, resolve_store

__all__ = ["store_of"]


def store_of(store: Store | None) -> Store:
    """``store``, or the default handle when None.

    TRANSITIONAL (issue 8): a URL string (what ``llmlab.models`` passed before it held a
    handle) opens that database's store once; removed at the merge.
    """
    if store is None or isinstance(store, Store):
        return resolve_store(store)
    return _legacy_store(store)


def _legacy_store(url: object) -> Store:
    from llmlab.store import _compat, _handle, database_url

    resolved = database_url(str(url))
    default = _handle._default  # never opens one just to compare
    if default is not None and not default.closed and resolved == default.url:
        return default
    _compat.get_engine(resolved)
    return _compat._stores[resolved]
