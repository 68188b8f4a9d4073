"""The store a CLI command works on: opened once at the edge, closed when it ends."""

from __future__ import annotations

from typing import Any

import llmlab
from llmlab.store import Store, set_default_store

__all__ = ["cli_store"]

_KEY = "llmlab.store"


def cli_store() -> Store:
    """The store of the running command (``LLMLAB_DB``, else the default file).

    Opened on first use and made the default handle for the command's duration, then
    closed (flushing recorded calls) when the command ends, in-process runs included.
    """
    root = _current_context().find_root()
    store: Store | None = root.meta.get(_KEY)
    if store is not None:
        return store
    store = llmlab.open()
    root.meta[_KEY] = store
    previous = set_default_store(store)

    def close() -> None:
        set_default_store(previous)
        store.close()

    root.call_on_close(close)
    return store


def _current_context() -> Any:
    # Typer 0.2x runs commands on its own vendored copy of click, whose context stack is
    # not click's: ask the copy first, and click where Typer still uses it.
    try:
        from typer._click import globals as context_stack
    except ImportError:  # an older Typer on the real click
        import click as context_stack  # type: ignore[no-redef]
    return context_stack.get_current_context()
