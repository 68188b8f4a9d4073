"""``LLMMonitor``: the training material's monitor, backed by the llmlab store.

For calls made outside llmlab's call path (your own SDK code)::

    monitor = LLMMonitor()
    monitor.record_call("claude-3-5-sonnet-20241022", 1200, 300, 850.0, "a1b2c3")
    monitor.get_stats(last_hours=1)

Costs come from ``llmlab.pricing`` as ``Decimal``; a model without a known price is
recorded as *unpriced* (cost None, counted in ``unpriced_calls``), never as $0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from llmlab.monitor._record import CallRecord, new_call_id
from llmlab.monitor._recorder import flush, record
from llmlab.monitor._reserve import charge_budget
from llmlab.monitor._stats import call_stats
from llmlab.pricing import price_tokens
from llmlab.store import Store

__all__ = ["LLMMonitor", "MonitorStats", "guess_provider"]

# Model-name prefixes of the big providers, for names given without "provider/".
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("chatgpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding", "openai"),
    ("gemini", "google"),
    ("mistral", "mistral"),
    ("command", "cohere"),
)


def guess_provider(model: str) -> tuple[str, str]:
    """``(provider, model)`` from ``provider/model`` or a well-known model-name prefix."""
    provider, sep, name = model.partition("/")
    if sep and name:
        return provider, name
    lowered = model.lower()
    for prefix, found in _PREFIXES:
        if lowered.startswith(prefix):
            return found, model
    return "unknown", model


class MonitorStats(TypedDict, total=False):
    """:meth:`LLMMonitor.get_stats`: the totals, or only ``error`` when there is no call."""

    error: str
    calls: int
    errors: int
    total_cost: Decimal
    unpriced_calls: int
    cost_per_call: Decimal | None
    avg_latency_ms: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    p99_latency_ms: float | None
    total_tokens: int
    input_tokens: int
    output_tokens: int
    avg_tokens_per_call: float


class LLMMonitor:
    """Record calls made outside llmlab and read their cost and latency back.

    Args:
        store: the store (default: the default handle, ``LLMLAB_DB`` else
            ``.llmlab/llmlab.db``).
        tags: tags put on every call this monitor records.
    """

    def __init__(self, store: Store | None = None, tags: dict[str, str] | None = None) -> None:
        self.store = store
        self.tags = {"source": "LLMMonitor", **(tags or {})}

    def calculate_cost(self, model: str, input_tokens: int, output_tokens: int) -> Decimal | None:
        """Cost in USD of one call, or None when the model has no known price.

        An unpriced model is logged once as a warning; its calls are recorded as unpriced.
        """
        provider, name = guess_provider(model)
        return price_tokens(
            provider, name, input_tokens=input_tokens, output_tokens=output_tokens
        ).cost

    def record_call(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        latency_ms: float,
        prompt_hash: str,
    ) -> CallRecord:
        """Record one call (returns at once; written in the background, priced now)."""
        provider, name = guess_provider(model)
        quote = price_tokens(
            provider, name, input_tokens=prompt_tokens, output_tokens=completion_tokens
        )
        rec = CallRecord(
            id=new_call_id(),
            started_at=datetime.now(UTC) - timedelta(milliseconds=latency_ms),
            provider=provider,
            requested_model=name,
            resolved_model=name,
            duration_s=latency_ms / 1000.0,
            input_tokens=prompt_tokens,
            output_tokens=completion_tokens,
            cost=quote.cost,
            currency=quote.currency,
            cost_status=quote.status,
            price_source=quote.source,
            prompt_hash=prompt_hash,
            tags=dict(self.tags),
        )
        record(rec, store=self.store)
        # Already made and paid: not refusable, but its spend counts against budgets.
        charge_budget(provider, name, rec.tags, None, rec.cost, store=self.store)
        return rec

    def get_stats(self, last_hours: float = 1) -> MonitorStats:
        """Totals of the last ``last_hours`` hours, or ``{"error": "No data in time window"}``.

        Keys: calls, errors, total_cost (Decimal), unpriced_calls, avg_latency_ms,
        p50/p95/p99_latency_ms, total_tokens, input_tokens, output_tokens,
        avg_tokens_per_call, cost_per_call. Covers every recorded call in the store, not
        only this monitor's.
        """
        flush(store=self.store)
        total = call_stats(last_hours=last_hours, store=self.store).total
        if total.calls == 0:
            return {"error": "No data in time window"}
        tokens = total.input_tokens + total.output_tokens
        return {
            "calls": total.calls,
            "errors": total.errors,
            "total_cost": total.cost,
            "unpriced_calls": total.unpriced,
            "cost_per_call": total.cost_per_call,
            "avg_latency_ms": _ms(total.latency_mean_s),
            "p50_latency_ms": _ms(total.latency_p50_s),
            "p95_latency_ms": _ms(total.latency_p95_s),
            "p99_latency_ms": _ms(total.latency_p99_s),
            "total_tokens": tokens,
            "input_tokens": total.input_tokens,
            "output_tokens": total.output_tokens,
            "avg_tokens_per_call": tokens / total.calls,
        }


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000.0 if seconds is not None else None
