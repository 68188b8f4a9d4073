"""The store a CLI command works on: opened once at the edge, closed when it ends."""

from __future__ import annotations

# typer vendors its own copy of click: the running command's context lives on typer's
# context stack, and click.get_current_context() would find none.
from typer._click.globals import get_current_context

import llmlab
from llmlab.store import Store, current_default_store, database_url, set_default_store

__all__ = ["cli_store"]

_KEY = "llmlab.store"


def cli_store() -> Store:
    """The store of the running command (``LLMLAB_DB``, else the default file).

    Opened on first use and made the default handle for the command's duration, then
    closed (flushing recorded calls) when the command ends, in-process runs included.
    When the process already holds an open default handle on that same database (the
    CLI run from Python, or from a test), that handle is used and left open.
    """
    root = get_current_context().find_root()
    store: Store | None = root.meta.get(_KEY)
    if store is not None:
        return store
    default = current_default_store()
    if default is not None and default.url == database_url():
        root.meta[_KEY] = default
        return default
    opened = llmlab.open()
    root.meta[_KEY] = opened
    previous = set_default_store(opened)

    def close() -> None:
        set_default_store(previous)
        opened.close()

    root.call_on_close(close)
    return opened
