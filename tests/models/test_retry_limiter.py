"""Retry arithmetic (Retry-After parsing, backoff bounds) and the AIMD limiter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from llmlab import ProviderError, RetriesExhausted
from llmlab.models import AdaptiveLimiter, RetryPolicy, parse_retry_after
from llmlab.models._retry import backoff_delay, with_retries


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-3") == 0.0


def test_backoff_is_jittered_bounded_and_retry_after_capped() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, max_retry_after_s=10.0)
    delays = [backoff_delay(policy, 10, None) for _ in range(200)]
    assert all(0 <= d <= 5.0 for d in delays)
    assert len(set(delays)) > 100  # full jitter, not a fixed schedule
    assert backoff_delay(policy, 0, 3.0) == 3.0
    assert backoff_delay(policy, 0, 3600.0) == 10.0


async def test_with_retries_counts_attempts_and_stops_on_non_retryable() -> None:
    policy = RetryPolicy(max_retries=3, base_delay_s=0.0)
    seen: list[int] = []

    async def flaky() -> str:
        seen.append(1)
        if len(seen) < 3:
            raise ProviderError("busy", retryable=True, status_code=503)
        return "ok"

    assert await with_retries(flaky, policy, provider="p", model="m") == ("ok", 3)

    async def broken() -> str:
        raise ProviderError("bad", retryable=False, status_code=400)

    with pytest.raises(ProviderError, match="bad"):
        await with_retries(broken, policy, provider="p", model="m")

    async def always() -> str:
        raise ProviderError("busy", provider="p", model="m", retryable=True)

    with pytest.raises(RetriesExhausted, match="p/m: gave up after 4 attempt"):
        await with_retries(always, policy, provider="p", model="m")


async def test_limiter_halves_on_429_and_recovers_additively() -> None:
    limiter = AdaptiveLimiter(8, min_limit=1, max_limit=16, cooldown_s=0.0)
    with pytest.raises(ProviderError):
        async with limiter.slot():
            raise ProviderError("slow down", status_code=429, retryable=True)
    assert limiter.limit == 4
    with pytest.raises(ProviderError):
        async with limiter.slot():
            raise ProviderError("server", status_code=500, retryable=True)
    assert limiter.limit == 4  # only overload lowers the limit
    for _ in range(5):
        async with limiter.slot():
            pass
    assert limiter.limit == 5  # about +1 per window (4 to 5 successes) of successes
    for _ in range(200):
        async with limiter.slot():
            pass
    assert limiter.limit == 16


async def test_limiter_caps_concurrency_and_cools_down() -> None:
    limiter = AdaptiveLimiter(3, max_limit=3, cooldown_s=60.0)
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        async with limiter.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(work() for _ in range(20)))
    assert peak == 3
    limiter.on_overload()
    limiter.on_overload()  # same burst, within the cooldown: halved once
    assert limiter.limit == 1
    assert limiter.overloads == 2


async def test_limiter_admits_waiters_in_order_and_a_cancelled_waiter_holds_no_slot() -> None:
    limiter = AdaptiveLimiter(1, max_limit=1)
    order: list[str] = []
    release_first = asyncio.Event()

    async def first() -> None:
        async with limiter.slot():
            order.append("first")
            await release_first.wait()

    async def later(name: str) -> None:
        async with limiter.slot():
            order.append(name)

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(later("cancelled"))
    second = asyncio.create_task(later("second"))
    third = asyncio.create_task(later("third"))
    await asyncio.sleep(0)
    assert limiter.in_flight == 1
    cancelled.cancel()  # gives up while waiting: must not take (or leak) the slot
    await asyncio.sleep(0)
    release_first.set()
    await asyncio.gather(holder, second, third)
    assert cancelled.cancelled()
    assert order == ["first", "second", "third"]
    assert limiter.in_flight == 0


async def test_limiter_slot_is_given_back_when_the_block_is_cancelled() -> None:
    limiter = AdaptiveLimiter(2, max_limit=2)
    entered = asyncio.Event()

    async def stuck() -> None:
        async with limiter.slot():
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(stuck())
    await entered.wait()
    assert limiter.in_flight == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limiter.in_flight == 0
    assert limiter.limit == 2  # a cancellation is neither a success nor an overload


async def test_limiter_hands_room_to_a_waiter_admitted_then_cancelled() -> None:
    limiter = AdaptiveLimiter(1, max_limit=1)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    nxt = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    await limiter.release("neutral")  # hands the slot to ``waiter`` ...
    waiter.cancel()  # ... which is cancelled before it runs: the slot goes on to ``nxt``
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.wait_for(nxt, 1.0)
    assert limiter.in_flight == 1
