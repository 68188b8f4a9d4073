"""Run the wire server: in-process on a background thread (tests), or in the foreground (CLI).

Example::

    with WireServer(latency_ms=50) as srv:
        client = openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="sk-test")
        srv.faults.add("429", count=2, retry_after=1.0)
        ...
        assert srv.count("/v1/chat/completions") == 3
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from llmlab.testing._app import build_app
from llmlab.testing._faults import FaultPlan
from llmlab.testing._replies import ReplyScript
from llmlab.testing._state import RecordedRequest, ServerConfig, WireState

__all__ = ["WireServer", "start_site"]


async def start_site(state: WireState, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving ``state`` on ``host:port`` (0: any free port); returns the runner and port."""
    state.bind(asyncio.get_running_loop())
    runner = web.AppRunner(
        build_app(state), access_log=None, handler_cancellation=True, shutdown_timeout=2.0
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    return runner, int(bound)


class WireServer:
    """An OpenAI- and Anthropic-speaking HTTP server on a background thread.

    Use as a context manager (``with`` or ``async with``), or call :meth:`start` and
    :meth:`stop`. It binds 127.0.0.1 on a free port unless told otherwise. Config fields
    (see :class:`ServerConfig`) may be passed as keywords.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: ServerConfig | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise TypeError("pass either config= or config fields as keywords, not both")
        self.host = host
        self.port = port
        self._state = WireState(config or ServerConfig(**options), seed=seed)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # --- what tests use -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port``: the Anthropic SDK's ``base_url``."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``url + "/v1"``: the OpenAI SDK's ``base_url``."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """Same as :attr:`url`."""
        return self.url

    @property
    def config(self) -> ServerConfig:
        """Live configuration: assign fields to change a running server."""
        return self._state.config

    @property
    def faults(self) -> FaultPlan:
        """Faults to inject: ``srv.faults.add("503", count=2)``."""
        return self._state.faults

    @property
    def replies(self) -> ReplyScript:
        """Scripted replies: ``srv.replies.enqueue("hi")``, ``srv.replies.set({...})``."""
        return self._state.replies

    @property
    def requests(self) -> list[RecordedRequest]:
        """Recent requests received, oldest first (bounded by ``config.max_recorded``)."""
        return self._state.requests

    @property
    def counts(self) -> dict[str, int]:
        """Requests received per path."""
        return self._state.counts

    def count(self, path: str | None = None) -> int:
        """Requests received on ``path`` (e.g. ``"/v1/messages"``), or on all paths."""
        return self._state.count(path)

    def reset(self) -> None:
        """Default config, no faults or scripted replies, empty history; hung requests end."""
        self._state.reset()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("this WireServer is already started")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="llmlab-wire-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def stop(self) -> None:
        """Stop serving and close every socket; hung requests are dropped."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        self._state.release_hangs()
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die noisily
            self._error = exc
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner, self.port = await start_site(self._state, self.host, self.port)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
