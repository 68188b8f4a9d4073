"""Every stats figure, from rollups (old hours) and from raw rows (this hour), equals the
same figure computed from the raw calls (percentiles within the stated error)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from llmlab.monitor import CallRecord, GroupStats, call_stats, flush, new_call_id, record
from llmlab.monitor import _histogram as hist
from llmlab.pricing import price_tokens
from llmlab.store import Store

from ._calls import nearest_rank

_MODELS = [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5")]


def _calls(n: int, start: datetime, span: timedelta) -> list[CallRecord]:
    rng = random.Random(11)
    out = []
    for i in range(n):
        provider, model = _MODELS[i % 2]
        status = "refused" if i % 13 == 0 else "error" if i % 7 == 0 else "ok"
        duration = rng.lognormvariate(-0.7, 0.6)
        tin, tout, cread = 200 + i % 40, 30 + i % 20, 64 if i % 3 == 0 else 0
        quote = price_tokens(
            provider, model, input_tokens=tin, output_tokens=tout, cache_read_tokens=cread
        )
        unpriced = i % 11 == 0
        out.append(
            CallRecord(
                id=new_call_id(),
                started_at=start + span * rng.random(),
                provider=provider,
                requested_model=model,
                duration_s=duration,
                ttft_s=duration * rng.uniform(0.1, 0.5) if i % 2 else None,
                input_tokens=tin,
                output_tokens=tout,
                cache_read_tokens=cread,
                cache_write_tokens=16 if i % 5 == 0 else 0,
                reasoning_tokens=10 if i % 4 == 0 else 0,
                cost=None if unpriced or status == "refused" else quote.cost,
                cost_status="unpriced" if unpriced else "priced",
                status=status,  # type: ignore[arg-type]
                tags={"feature": f"f{i % 3}"},
                experiment="exp" if i % 2 else None,
                arm=("a" if i % 4 == 1 else "b") if i % 2 else None,
                eval_run="run-1" if i % 6 == 0 else None,
                prompt_name="summarize",
                prompt_version=1 + i % 2,
            )
        )
    return out


def _check(t: GroupStats, inside: list[CallRecord]) -> None:
    ok = [c for c in inside if c.status == "ok"]
    priced = [c for c in inside if c.cost is not None]
    cost = sum((c.cost for c in priced if c.cost is not None), Decimal(0))
    priced_calls = sum(c.status != "refused" and c.cost_status != "unpriced" for c in inside)
    priced_tokens = sum(c.input_tokens + c.output_tokens for c in priced)
    expected = {
        "calls": len(inside),
        "errors": sum(c.status == "error" for c in inside),
        "refused": sum(c.status == "refused" for c in inside),
        "input_tokens": sum(c.input_tokens for c in inside),
        "output_tokens": sum(c.output_tokens for c in inside),
        "cache_read_tokens": sum(c.cache_read_tokens for c in inside),
        "cache_write_tokens": sum(c.cache_write_tokens for c in inside),
        "reasoning_tokens": sum(c.reasoning_tokens for c in inside),
        "unpriced": sum(c.cost_status == "unpriced" and c.status != "refused" for c in inside),
        "cost": cost,
    }
    for name, value in expected.items():
        assert getattr(t, name) == value, name
    assert t.error_rate == pytest.approx(expected["errors"] / len(inside))
    assert t.cost_per_call is not None and t.cost_per_1k_tokens is not None
    assert abs(t.cost_per_call - cost / priced_calls) <= Decimal("1e-9")
    per_1k = cost * 1000 / priced_tokens
    assert abs(t.cost_per_1k_tokens - per_1k) <= Decimal("1e-9")
    ok_seconds = sum(c.duration_s for c in ok)
    assert t.latency_mean_s == pytest.approx(ok_seconds / len(ok))
    assert t.output_tokens_per_s == pytest.approx(sum(c.output_tokens for c in ok) / ok_seconds)
    ttfts = [c.ttft_s for c in ok if c.ttft_s is not None]
    for q in (50, 95, 99):
        for name, values in (("latency", [c.duration_s for c in ok]), ("ttft", ttfts)):
            found = getattr(t, f"{name}_p{q}_s")
            assert found is not None
            exact = nearest_rank(values, q)
            assert abs(found / exact - 1) <= hist.RELATIVE_ERROR + 1e-9, (name, q)


def test_every_figure_equals_the_raw_rows(any_store: Store) -> None:
    now = datetime.now(UTC)
    old = _calls(400, now - timedelta(days=3), timedelta(days=2))  # rollups: days and hours
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    recent = _calls(60, this_hour, max(now - this_hour, timedelta(seconds=1)) * 0.9)
    for c in [*old, *recent]:
        record(c, store=any_store)
    assert flush(store=any_store)
    _check(call_stats(store=any_store).total, [*old, *recent])
    _check(call_stats(since=this_hour, store=any_store).total, recent)
    since = now - timedelta(days=2, hours=7, minutes=13)
    wanted = [c for c in [*old, *recent] if c.started_at >= since]
    _check(call_stats(since, store=any_store).total, wanted)


def test_cache_savings_and_every_group_by(store: Store) -> None:
    calls = _calls(120, datetime.now(UTC) - timedelta(hours=20), timedelta(hours=18))
    for c in calls:
        record(c, store=store)
    assert flush(store=store)
    by_model = {g.key: g for g in call_stats(store=store, by="model").groups}
    total_savings = Decimal(0)
    for provider, model in _MODELS:
        cached = sum(c.cache_read_tokens for c in calls if c.requested_model == model)
        full = price_tokens(provider, model, input_tokens=cached, output_tokens=0).cost
        paid = price_tokens(
            provider, model, input_tokens=cached, output_tokens=0, cache_read_tokens=cached
        ).cost
        assert full is not None and paid is not None and full > paid
        assert by_model[f"{provider}/{model}"].cache_savings == full - paid
        total_savings += full - paid
    assert call_stats(store=store).total.cache_savings == total_savings

    def counts(by: str) -> dict[str, int]:
        return {g.key: g.calls for g in call_stats(store=store, by=by).groups}

    assert counts("provider") == {"openai": 60, "anthropic": 60}
    assert counts("prompt") == {"summarize@1": 60, "summarize@2": 60}
    assert counts("arm") == {
        "exp/a": sum(c.arm == "a" for c in calls),
        "exp/b": sum(c.arm == "b" for c in calls),
        "(none)": sum(c.arm is None for c in calls),
    }
    assert counts("eval_run") == {"run-1": 20, "(none)": 100}
    assert counts("tag:feature") == {"f0": 40, "f1": 40, "f2": 40}
