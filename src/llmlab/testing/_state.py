"""What a wire server is told (config, faults, scripted replies) and what it saw (requests)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from llmlab.testing._faults import Fault, FaultPlan
from llmlab.testing._replies import ReplyScript

__all__ = ["RecordedRequest", "ServerConfig", "WireState"]


class ServerConfig(BaseModel):
    """Wire-server behaviour; fields may be changed on a running server (``srv.config.x = ...``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: float = Field(default=0.0, ge=0)
    """Delay before the first byte of every answer (errors included)."""
    jitter_ms: float = Field(default=0.0, ge=0)
    """Extra delay drawn uniformly from [0, jitter_ms], added to ``latency_ms``."""
    chunk_delay_ms: float = Field(default=0.0, ge=0)
    """Delay between streamed events, so time to first token < total duration."""
    cache_read_tokens: int = Field(default=0, ge=0)
    """See ``cache_write_tokens``."""
    cache_write_tokens: int = Field(default=0, ge=0)
    """Cache read/write tokens reported in usage. In both APIs the input total including
    cache is ``words + cache_read_tokens + cache_write_tokens`` (OpenAI's ``prompt_tokens``
    holds all three; Anthropic's ``input_tokens`` only the words)."""
    reasoning_tokens: int = Field(default=0, ge=0)
    api_key: str | None = None
    """When set, requests without this key (Bearer or x-api-key) get a 401."""
    max_recorded: int = Field(default=1000, ge=0)
    """How many recent requests ``srv.requests`` keeps."""
    hang_s: float = Field(default=300.0, gt=0)
    """Longest a ``hang`` fault waits before dropping the connection."""
    models: tuple[str, ...] = ("gpt-4o-mini", "claude-haiku-4-5")
    """Listed by ``GET /v1/models``; any model name is accepted in calls."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received. Header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    """The parsed JSON body; ``None`` when empty or not JSON."""
    fault: str | None
    """The kind of the fault injected into this request, if any."""
    at: float
    """``time.monotonic()`` when it arrived."""

    @property
    def api_key(self) -> str | None:
        """The key sent as ``x-api-key`` or ``Authorization: Bearer`` (SDK versions differ)."""
        key = self.headers.get("x-api-key")
        if key is not None:
            return key
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None


class WireState:
    """The shared state of one server; everything here is safe to use from any thread."""

    def __init__(self, config: ServerConfig | None = None, *, seed: int | None = None) -> None:
        self.config = config if config is not None else ServerConfig()
        self._defaults = self.config.model_copy()
        self.faults = FaultPlan(seed=seed)
        self.replies = ReplyScript()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._recorded: deque[RecordedRequest] = deque(maxlen=self.config.max_recorded)
        self._counts: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop the server runs on (needed to release hung requests)."""
        self._loop = loop
        self._release = asyncio.Event()

    def next_id(self) -> int:
        """A fresh sequence number for response ids."""
        return next(self._ids)

    def delay_s(self, override_ms: float | None = None) -> float:
        """The latency to apply to one request, in seconds."""
        base = self.config.latency_ms if override_ms is None else override_ms
        jitter = self.config.jitter_ms
        return (base + (self._rng.uniform(0, jitter) if jitter else 0.0)) / 1000.0

    def record(
        self, method: str, path: str, headers: Mapping[str, str], body: Any, fault: Fault | None
    ) -> None:
        """Count and remember one request."""
        entry = RecordedRequest(
            method=method,
            path=path,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            fault=fault.kind if fault is not None else None,
            at=time.monotonic(),
        )
        with self._lock:
            self._counts[path] += 1
            if self._recorded.maxlen != self.config.max_recorded:
                self._recorded = deque(self._recorded, maxlen=self.config.max_recorded)
            self._recorded.append(entry)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The most recent requests, oldest first (at most ``config.max_recorded``)."""
        with self._lock:
            return list(self._recorded)

    @property
    def counts(self) -> dict[str, int]:
        """How many requests each path received (all of them, not only those kept)."""
        with self._lock:
            return dict(self._counts)

    def count(self, path: str | None = None) -> int:
        """Requests received on ``path`` (e.g. ``"/v1/chat/completions"``), or on all paths."""
        with self._lock:
            return self._counts[path] if path is not None else sum(self._counts.values())

    async def hang(self) -> None:
        """Wait until released (reset or shutdown) or ``hang_s`` passes."""
        release = self._release
        if release is None:
            await asyncio.sleep(self.config.hang_s)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), self.config.hang_s)

    def release_hangs(self) -> None:
        """Let every hung request end (its connection is then dropped)."""
        loop, release = self._loop, self._release
        if loop is None or release is None or loop.is_closed():
            return

        def swap() -> None:
            release.set()
            self._release = asyncio.Event()

        if _running_in(loop):
            swap()
        else:
            loop.call_soon_threadsafe(swap)

    def reset(self) -> None:
        """Back to a fresh server: default config, no faults or scripts, no history."""
        self.release_hangs()
        self.faults.clear()
        self.replies.clear()
        for name in ServerConfig.model_fields:
            value = getattr(self._defaults, name)
            if getattr(self.config, name) != value:
                setattr(self.config, name, value)
        with self._lock:
            self._recorded.clear()
            self._counts.clear()


def _running_in(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
