"""TRANSITIONAL adapter (issue 8) for ``llmlab.cli._store.cli_store``.

``cli_store`` asks the ``click`` package for the running context, but Typer 0.29 runs
commands on its own vendored copy (``typer._click``), so there is none and every call
raises ``RuntimeError: There is no active click context``. Until ``cli/_store.py`` is
fixed (the one-line change is to import ``get_current_context`` from
``typer._click.globals``), the monitor, budgets and alerts commands use this copy, which
keeps the same key in the root context so both share one handle. Delete at the merge.
"""

from __future__ import annotations

from typer._click.globals import get_current_context

import llmlab
from llmlab.store import Store, set_default_store

__all__ = ["command_store"]

_KEY = "llmlab.store"  # the key cli/_store.py uses


def command_store() -> Store:
    """The store of the running command: opened once, the default handle while the
    command runs, closed (flushing recorded calls) when it ends."""
    root = get_current_context().find_root()
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
