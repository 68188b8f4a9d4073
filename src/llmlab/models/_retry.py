"""Bounded retries with exponential backoff, full jitter and Retry-After; per-attempt timeout.

``RetryPolicy.max_retries`` counts *retries*: the default 4 means up to 5 attempts in all.
Only retryable failures are retried (``ProviderError.retryable``: 408, 429, 5xx,
connection errors, timeouts, malformed replies). When the server sends Retry-After, the
wait is exactly that (capped at ``max_retry_after_s``); otherwise it is drawn uniformly
from ``[0, min(max_delay_s, base_delay_s * 2**retry)]`` ("full jitter").

Every attempt runs under ``asyncio.timeout(timeout_s)``; running past it is a
``ModelTimeout`` (retryable). When the last attempt fails retryably the caller gets
``RetriesExhausted`` naming provider, model and the last cause; a non-retryable failure is
raised as it is, at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from llmlab._errors import ModelTimeout, ProviderError, RetriesExhausted

__all__ = [
    "RETRYABLE_STATUS",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable_status",
    "parse_retry_after",
    "with_retries",
]

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    """429, 408 and every 5xx are worth another attempt; other 4xx are the caller's fault."""
    return status in RETRYABLE_STATUS or status >= 500


class RetryPolicy(BaseModel):
    """How a call is retried and timed out.

    Attributes:
        max_retries: retries after the first attempt (4: up to 5 attempts).
        base_delay_s: first backoff ceiling; doubles each retry.
        max_delay_s: backoff ceiling.
        max_retry_after_s: the longest Retry-After honoured; longer asks are capped.
        timeout_s: limit for one attempt (None: no limit).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(default=4, ge=0)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=30.0, ge=0)
    max_retry_after_s: float = Field(default=60.0, ge=0)
    timeout_s: float | None = Field(default=120.0, gt=0)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date.

    Returns None when absent or unreadable; never negative.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(policy: RetryPolicy, retry: int, retry_after: float | None) -> float:
    """The wait before retry number ``retry`` (0-based)."""
    if retry_after is not None:
        return min(retry_after, policy.max_retry_after_s)
    ceiling = min(policy.max_delay_s, policy.base_delay_s * (2**retry))
    return random.uniform(0.0, ceiling)


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    provider: str,
    model: str,
    on_failure: Callable[[ProviderError], None] | None = None,
) -> tuple[T, int]:
    """Run ``attempt`` until it succeeds, fails for good, or the retries run out.

    Returns the result and the number of attempts made. ``on_failure`` sees every failed
    attempt (the adaptive limiter uses it to notice 429s).
    """
    retry = 0
    while True:
        try:
            if policy.timeout_s is None:
                return await attempt(), retry + 1
            try:
                async with asyncio.timeout(policy.timeout_s):
                    return await attempt(), retry + 1
            except TimeoutError:
                raise ModelTimeout(
                    f"{provider}/{model}: no answer within {policy.timeout_s:g} s "
                    "(raise the timeout with timeout_s=...)",
                    provider=provider,
                    model=model,
                    retryable=True,
                    error_type="timeout",
                ) from None
        except ProviderError as exc:
            if on_failure is not None:
                on_failure(exc)
            if not exc.retryable:
                raise
            if retry >= policy.max_retries:
                raise RetriesExhausted(exc, retry + 1) from exc
            await asyncio.sleep(backoff_delay(policy, retry, exc.retry_after))
            retry += 1
