"""Code run in child processes by the fork tests (importable: spawn and forkserver
children import it by name)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from llmlab.models import Request, get_model, scripted
from llmlab.store import Store

_store: Store | None = None


def use_store(store: Store | None) -> None:
    """In the parent: the store children inherit when they are forked."""
    global _store
    _store = store


def _the_store(url: str) -> Store:
    # A forked child uses the handle it inherited, as user code does; a spawned one opens.
    global _store
    if _store is None or _store.closed:
        _store = Store(url)
    return _store


def make_calls(url: str, tag: str, first: int, count: int) -> int:
    """Make ``count`` recorded calls through the scripted model; returns how many."""
    store = _the_store(url)
    scripted("x", function=lambda request: "ok", store=store)
    model = get_model("scripted/x", store=store, cache=False)

    async def run() -> None:
        for n in range(first, first + count):
            await model.generate(Request.of(f"{tag} {n}", tags={"test": tag}))

    asyncio.run(run())
    return count


def make_calls_task(args: tuple[str, str, int, int]) -> int:
    """``make_calls`` for ``Pool.map`` / ``Executor.map``."""
    return make_calls(*args)


def calls_then_wait_for_sigterm(url: str, tag: str, count: int, ready_path: str) -> None:
    """Make calls, say so, and wait to be stopped (SIGTERM, as ``docker stop`` does)."""
    make_calls(url, tag, 0, count)
    with open(ready_path, "w") as ready:
        ready.write(str(os.getpid()))
    while True:
        time.sleep(0.1)


def sigterm_is_default() -> bool:
    return signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
