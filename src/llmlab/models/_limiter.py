"""Adaptive concurrency: AIMD, as TCP does it.

``AdaptiveLimiter`` caps how many calls are in flight. Each success raises the limit by
``increase / limit`` (about +``increase`` per full window of successes); a rate limit
(HTTP 429) multiplies it by ``decrease``, at most once per ``cooldown_s`` so that one burst
of 429s from the same window only halves it once. The limit stays within
``[min_limit, max_limit]``.

Use it around each attempt::

    limiter = AdaptiveLimiter(initial=8, max_limit=64)
    async with limiter.slot() as slot:
        try:
            ...
        except ProviderError as exc:
            slot.failed(exc)        # a 429 lowers the limit
            raise

``slot()`` counts a block that ends without ``failed`` as a success. The managed call path
does this for every attempt when a limiter is attached (``model.configured(limiter=...)``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import TracebackType

from llmlab._errors import ProviderError

__all__ = ["AdaptiveLimiter", "LimiterSlot"]


class LimiterSlot:
    """One admitted call; tell it when the call was rate limited."""

    __slots__ = ("_limiter", "outcome")

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self._limiter = limiter
        self.outcome: str = "success"

    def failed(self, error: BaseException) -> None:
        """Mark the call failed; a 429 (or overload 529) lowers the limit."""
        status = getattr(error, "status_code", None)
        if isinstance(error, ProviderError) and status in (429, 529):
            self.outcome = "overload"
        else:
            self.outcome = "neutral"


class AdaptiveLimiter:
    """An additive-increase / multiplicative-decrease cap on calls in flight."""

    def __init__(
        self,
        initial: int = 8,
        *,
        min_limit: int = 1,
        max_limit: int = 256,
        increase: float = 1.0,
        decrease: float = 0.5,
        cooldown_s: float = 1.0,
    ) -> None:
        if not 1 <= min_limit <= max_limit:
            raise ValueError("need 1 <= min_limit <= max_limit")
        if not 0 < decrease < 1:
            raise ValueError("decrease must be between 0 and 1")
        self._limit = float(min(max(initial, min_limit), max_limit))
        self.min_limit = min_limit
        self.max_limit = max_limit
        self.increase = increase
        self.decrease = decrease
        self.cooldown_s = cooldown_s
        self._in_flight = 0
        self._last_decrease = -float("inf")
        # Callers waiting for room, first come first served; each future is resolved with
        # its slot already counted (handed over, as asyncio.Semaphore does).
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.overloads = 0

    @property
    def limit(self) -> int:
        """Calls allowed in flight now."""
        return int(self._limit)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def on_success(self) -> None:
        """Additive increase."""
        self._limit = min(float(self.max_limit), self._limit + self.increase / self._limit)

    def on_overload(self) -> None:
        """Multiplicative decrease (once per cooldown)."""
        self.overloads += 1
        now = time.monotonic()
        if now - self._last_decrease < self.cooldown_s:
            return
        self._last_decrease = now
        self._limit = max(float(self.min_limit), self._limit * self.decrease)

    async def acquire(self) -> None:
        """Wait for room and take it (``release`` gives it back)."""
        if not self._waiters and self._in_flight < int(self._limit):
            self._in_flight += 1  # the common case: no lock, no task, no wait
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._give_back()  # admitted, then cancelled: hand the room on
            else:
                self._waiters.remove(waiter)
            raise

    async def release(self, outcome: str = "success") -> None:
        """Give a slot back, adjusting the limit by ``outcome``."""
        self._release(outcome)

    def _release(self, outcome: str) -> None:
        # Synchronous, so nothing can interrupt it: a cancelled call always gives its
        # slot back (no shielded task per call is needed).
        if outcome == "success":
            self.on_success()
        elif outcome == "overload":
            self.on_overload()
        self._give_back()

    def _give_back(self) -> None:
        self._in_flight -= 1
        while self._waiters and self._in_flight < int(self._limit):
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_flight += 1
                waiter.set_result(None)

    def slot(self) -> _Slot:
        """``async with``: wait for room, hold it for the block, then adjust the limit by
        the outcome (a block that raises without ``failed`` counts as ``failed``)."""
        return _Slot(self)

    def __repr__(self) -> str:
        return f"<AdaptiveLimiter limit={self.limit} in_flight={self._in_flight}>"


class _Slot:
    """The ``async with`` of :meth:`AdaptiveLimiter.slot` (a class, not a generator-based
    context manager: it runs once per model call)."""

    __slots__ = ("_limiter", "_slot")

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self._limiter = limiter
        self._slot = LimiterSlot(limiter)

    async def __aenter__(self) -> LimiterSlot:
        await self._limiter.acquire()
        return self._slot

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        slot = self._slot
        if exc is not None and slot.outcome == "success":
            slot.failed(exc)
        self._limiter._release(slot.outcome)
