"""Latency percentiles describe calls a provider answered: cache hits are counted apart
(issue 9 item 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from llmlab.monitor import CallRecord, call_stats, flush, new_call_id, rebuild_rollups, record
from llmlab.store import Store


def _calls(start: datetime) -> list[CallRecord]:
    out = []
    for i in range(40):
        hit = i % 2 == 1
        out.append(
            CallRecord(
                id=new_call_id(),
                started_at=start + timedelta(seconds=30 * i),
                provider="openai",
                requested_model="gpt-4o-mini",
                duration_s=0.003 if hit else 0.5 + i / 100,
                ttft_s=0.001 if hit else 0.2,
                cost=Decimal(0) if hit else Decimal("0.0001"),
                cost_status="priced",
                cache_hit=hit,
            )
        )
    return out


def test_cache_hits_are_left_out_of_latency_and_counted_apart(any_store: Store) -> None:
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    for c in _calls(start):
        record(c, store=any_store)
    assert flush(store=any_store)
    real = sorted(0.5 + i / 100 for i in range(0, 40, 2))

    def check(since: datetime, until: datetime, n_hits: int, n_real: int) -> None:
        t = call_stats(since, until, store=any_store).total
        assert t.calls == n_hits + n_real
        assert t.latency_p50_s is not None and t.latency_p50_s >= 0.5
        assert t.ttft_p50_s is not None and t.ttft_p50_s >= 0.19
        assert t.latency_mean_s is not None and t.latency_mean_s >= 0.5
        assert t.cache_hits == n_hits

    # Whole hours (rollups) and a window cut inside the hour (raw rows).
    check(start - timedelta(hours=1), start + timedelta(hours=2), 20, 20)
    check(start + timedelta(minutes=5), start + timedelta(minutes=15), 10, 10)
    whole = call_stats(start - timedelta(hours=1), start + timedelta(hours=2), store=any_store)
    assert abs(whole.total.latency_mean_s - sum(real) / len(real)) < 1e-9  # type: ignore[operator]
    rebuild_rollups(store=any_store)
    check(start - timedelta(hours=1), start + timedelta(hours=2), 20, 20)
