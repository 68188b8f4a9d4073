"""The seed's LLMMonitor works as written there, backed by the store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from llmlab.monitor import CallRecord, LLMMonitor, call_stats, new_call_id, record
from llmlab.monitor._llm_monitor import guess_provider
from llmlab.store import Store


def test_seed_usage_as_written(store: Store) -> None:
    monitor = LLMMonitor()  # the seed's shape: the default handle (this test's store)
    assert monitor.get_stats(last_hours=1) == {"error": "No data in time window"}
    cost = monitor.calculate_cost("claude-3-5-sonnet-20241022", 1000, 500)
    assert cost == Decimal("0.0105")  # $3 / $15 per million tokens
    monitor.record_call("claude-3-5-sonnet-20241022", 1000, 500, 850.0, "a1b2c3")
    monitor.record_call("claude-3-haiku-20240307", 2000, 100, 150.0, "a1b2c3")
    stats = monitor.get_stats(last_hours=1)
    assert stats["calls"] == 2
    haiku = monitor.calculate_cost("claude-3-haiku-20240307", 2000, 100)
    assert haiku is not None and stats["total_cost"] == Decimal("0.0105") + haiku
    assert stats["avg_latency_ms"] == pytest.approx(500.0)
    assert stats["total_tokens"] == 3600
    assert stats["unpriced_calls"] == 0


def test_unknown_model_is_unpriced_not_free(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    monitor = LLMMonitor(store=store)
    with caplog.at_level(logging.WARNING):
        assert monitor.calculate_cost("house-model-7", 10, 10) is None
    assert "house-model-7" in caplog.text and "unpriced" in caplog.text
    rec = monitor.record_call("house-model-7", 10, 10, 100.0, "h")
    assert rec.cost is None and rec.cost_status == "unpriced"
    stats = monitor.get_stats()
    assert stats["unpriced_calls"] == 1 and stats["total_cost"] == 0
    assert call_stats(store=store, by="model").groups[0].key == "unknown/house-model-7"


def test_provider_guess() -> None:
    assert guess_provider("openai/gpt-4o") == ("openai", "gpt-4o")
    assert guess_provider("gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert guess_provider("claude-3-haiku-20240307")[0] == "anthropic"
    assert guess_provider("whatever")[0] == "unknown"


def test_get_stats_counts_only_the_last_hours(store: Store) -> None:
    monitor = LLMMonitor(store=store)
    earlier = datetime.now(UTC) - timedelta(hours=3)
    record(
        CallRecord(
            id=new_call_id(),
            started_at=earlier,
            provider="anthropic",
            requested_model="claude-3-haiku-20240307",
            duration_s=2.0,
            input_tokens=7,
            output_tokens=3,
        ),
        store=store,
    )
    assert monitor.get_stats(last_hours=1) == {"error": "No data in time window"}
    monitor.record_call("claude-3-haiku-20240307", 100, 20, 200.0, "p")
    recent = monitor.get_stats(last_hours=1)
    assert (recent["calls"], recent["total_tokens"]) == (1, 120)
    assert recent["avg_latency_ms"] == pytest.approx(200.0)
    both = monitor.get_stats(last_hours=4)
    assert (both["calls"], both["total_tokens"], both["input_tokens"]) == (2, 130, 107)
    assert both["avg_latency_ms"] == pytest.approx(1100.0)
