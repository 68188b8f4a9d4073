"""One ``Provider`` instance per event loop.

SDK clients hold HTTP connection pools bound to the loop they first ran on; a managed model
used from several loops (``generate_sync`` runs a loop per call, pytest one per test)
gets a fresh provider instance in each. A provider that is not ``loop_bound`` (the
embedded local model) is shared by all.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from llmlab.models._base import Provider
from llmlab.models._registry import create_provider

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = ["ProviderPool"]


class ProviderPool:
    """One ``Provider`` per event loop (one in all, if it is not loop-bound)."""

    def __init__(self, name: str, options: dict[str, Any], store: Store) -> None:
        self._name = name
        self._options = options
        self._store = store
        first = create_provider(name, store, **options)  # fails early on a bad key or option
        self.kind = first
        self._spare: Provider | None = first
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Provider] = (
            weakref.WeakKeyDictionary()
        )
        self._closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncIterator[None]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> Provider:
        if not self.kind.loop_bound:
            if self._spare is None:
                self._spare = create_provider(self._name, self._store, **self._options)
            return self._spare
        loop = asyncio.get_running_loop()
        model = self._by_loop.get(loop)
        if model is None:
            if self._spare is not None:
                model, self._spare = self._spare, None
            else:
                model = create_provider(self._name, self._store, **self._options)
            self._by_loop[loop] = model
            self._close_at_shutdown(loop, model)
        return model

    def _close_at_shutdown(self, loop: asyncio.AbstractEventLoop, model: Provider) -> None:
        """Close ``model`` when ``loop`` shuts down, if nobody closed it before.

        ``asyncio.run`` (and pytest-asyncio) end a loop with ``shutdown_asyncgens()``,
        which closes every async generator still suspended in it: a started generator
        whose ``finally`` closes the model is the loop's only shutdown hook. Without it a
        script that never calls ``aclose()`` leaves an aiohttp session open at exit.
        """

        async def closer() -> AsyncIterator[None]:
            try:
                yield
            finally:
                self._closers.pop(loop, None)
                if self._by_loop.get(loop) is model:
                    del self._by_loop[loop]
                    await model.aclose()

        generator = closer()
        self._closers[loop] = generator  # the loop keeps its generators weakly
        loop.create_task(anext(generator))  # type: ignore[arg-type]

    async def aclose(self, *, shared: bool = True) -> None:
        """Close the instance serving the running loop, and an unused spare.

        ``shared=False`` keeps a model that serves every loop (the embedded local model)
        open: only connections tied to this loop are closed.
        """
        models: list[Provider] = []
        if self._spare is not None and (shared or self.kind.loop_bound):
            models.append(self._spare)
            self._spare = None
        loop = asyncio.get_running_loop()
        current = self._by_loop.pop(loop, None)
        if current is not None:
            models.append(current)
        for model in models:
            await model.aclose()
