"""Stats from rollups match the raw calls; windows and group-bys; bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from llmlab._errors import InputError
from llmlab.monitor import _histogram as hist
from llmlab.monitor import call_stats, flush, rebuild_rollups, record
from llmlab.monitor._window import parse_window
from llmlab.store import Store, as_money, insert_calls

from ._calls import make_calls, nearest_rank


def test_histogram_percentiles_within_stated_error() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(-1.0, 1.2, 20_000)
    counts = np.bincount(hist.buckets_of(values), minlength=hist.NUM_BUCKETS)
    for q in (50, 90, 95, 99, 99.9):
        exact = nearest_rank(values.tolist(), q)
        found = hist.percentile(counts, q)
        assert found is not None and abs(found / exact - 1) <= hist.RELATIVE_ERROR + 1e-9
    assert hist.RELATIVE_ERROR < 0.02
    half = len(values) // 2
    a = np.bincount(hist.buckets_of(values[:half]), minlength=hist.NUM_BUCKETS)
    b = np.bincount(hist.buckets_of(values[half:]), minlength=hist.NUM_BUCKETS)
    merged = hist.merge([hist.encode(a), hist.encode(b)])
    assert (merged == counts).all()
    assert hist.percentile(hist.empty(), 50) is None
    many = hist.percentiles([counts, a, hist.empty(), b], (50, 95, 99))
    for row, one in zip(many, [counts, a, hist.empty(), b], strict=True):
        assert row == [hist.percentile(one, q) for q in (50, 95, 99)]


def _exact(calls: list, since: datetime, until: datetime) -> dict:  # type: ignore[type-arg]
    inside = [c for c in calls if since <= c.started_at < until]
    ok = [c.duration_s for c in inside if c.status == "ok"]
    return {
        "calls": len(inside),
        "errors": sum(c.status == "error" for c in inside),
        "cost": sum((c.cost for c in inside if c.cost is not None), Decimal(0)),
        "input": sum(c.input_tokens for c in inside),
        "p95": nearest_rank(ok, 95),
        "p50": nearest_rank(ok, 50),
        "unpriced": sum(c.cost_status == "unpriced" for c in inside),
    }


def test_stats_from_rollups_match_raw_rows(any_store: Store) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    calls = make_calls(3000, start=start, span=timedelta(days=3))
    for c in calls:
        record(c, store=any_store)
    assert flush(store=any_store)
    # a window with partial hours at both ends and whole days and hours inside
    since = start + timedelta(hours=5, minutes=17)
    until = start + timedelta(days=2, hours=20, minutes=41)
    report = call_stats(since, until, store=any_store)
    exact = _exact(calls, since, until)
    t = report.total
    assert (t.calls, t.errors, t.input_tokens, t.unpriced) == (
        exact["calls"],
        exact["errors"],
        exact["input"],
        exact["unpriced"],
    )
    assert abs(t.cost - exact["cost"]) < Decimal("1e-6")
    assert t.latency_p95_s is not None and t.latency_p50_s is not None
    assert abs(t.latency_p95_s / exact["p95"] - 1) <= hist.RELATIVE_ERROR + 1e-9
    assert abs(t.latency_p50_s / exact["p50"] - 1) <= hist.RELATIVE_ERROR + 1e-9
    assert t.error_rate == pytest.approx(exact["errors"] / exact["calls"])
    # everything
    assert call_stats(store=any_store).total.calls == 3000


def test_group_by_model_tag_prompt_and_time(store: Store) -> None:
    start = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    calls = make_calls(600, start=start, span=timedelta(hours=30))
    for c in calls:
        record(c, store=store)
    flush(store=store)
    by_model = {g.key: g for g in call_stats(store=store, by="model").groups}
    assert set(by_model) == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "openai/gpt-4o"}
    assert by_model["openai/gpt-4o"].unpriced == by_model["openai/gpt-4o"].calls - sum(
        c.status == "refused" for c in calls
    )
    assert by_model["openai/gpt-4o"].cost == 0
    by_user = {g.key: g.calls for g in call_stats(store=store, by="tag:user").groups}
    assert by_user["(none)"] == sum(not c.tags for c in calls)
    assert by_user["u1"] == sum(c.tags.get("user") == "u1" for c in calls)
    by_prompt = {g.key: g.calls for g in call_stats(store=store, by="prompt").groups}
    assert by_prompt == {"summarize@2": 120, "(none)": 480}
    by_hour = call_stats(store=store, by="hour").groups
    assert len(by_hour) == 30 and sum(g.calls for g in by_hour) == 600
    by_day = call_stats(store=store, by="day").groups
    assert sum(g.calls for g in by_day) == 600 and len(by_day) in (2, 3)


def test_rebuild_rollups_for_bulk_loaded_calls(any_store: Store) -> None:
    start = datetime.now(UTC) - timedelta(days=4)
    calls = make_calls(500, start=start, span=timedelta(days=2))
    from dataclasses import asdict

    insert_calls(any_store, [asdict(c) for c in calls])  # behind the recorder's back
    assert call_stats(store=any_store).total.calls == 0  # rollups know nothing yet
    assert rebuild_rollups(store=any_store) == 500
    total = call_stats(store=any_store).total
    assert total.calls == 500
    assert total.cost == sum((c.cost for c in calls if c.cost is not None), Decimal(0))
    rebuild_rollups(store=any_store)  # idempotent
    assert call_stats(store=any_store).total.calls == 500


def test_empty_window(store: Store) -> None:
    report = call_stats(since="1h", store=store)
    assert report.total.calls == 0 and report.total.latency_p95_s is None
    assert report.groups == ()


@pytest.mark.parametrize("bad", ["yesterdayish", "12x", "2026-13-45"])
def test_malformed_window_names_accepted_forms(store: Store, bad: str) -> None:
    with pytest.raises(InputError, match=r"30m, 24h, 7d.*ISO date"):
        call_stats(since=bad, store=store)


def test_unknown_group_by_lists_valid_ones(store: Store) -> None:
    with pytest.raises(InputError, match=r"model, provider, prompt, arm, eval_run, tag:KEY"):
        call_stats(by="colour", store=store)


def test_window_forms() -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert parse_window("24h", now=now)[0] == now - timedelta(hours=24)
    assert parse_window("2026-11-01", "2026-11-02T06:00Z", now=now) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 2, 6, tzinfo=UTC),
    )
    assert parse_window(last_hours=2, now=now)[0] == now - timedelta(hours=2)
    with pytest.raises(InputError, match="at or after"):
        parse_window("2026-11-02", "2026-11-01", now=now)


def _rollup_snapshot(store: Store) -> dict:  # type: ignore[type-arg]
    from sqlalchemy import select

    from llmlab.store._tables_monitor import call_rollups

    with store.read() as conn:
        rows = conn.execute(select(call_rollups)).mappings().all()
    return {(r["grain"], r["bucket_start"], r["dim"], r["key"]): dict(r) for r in rows}


def test_recorded_rollups_equal_rebuilt_ones(any_store: Store) -> None:
    start = datetime.now(UTC) - timedelta(days=1, hours=3)
    for c in make_calls(1500, start=start, span=timedelta(hours=30), seed=11):
        record(c, store=any_store)
    assert flush(store=any_store)

    incremental = _rollup_snapshot(any_store)
    rebuild_rollups(store=any_store)
    rebuilt = _rollup_snapshot(any_store)
    assert incremental.keys() == rebuilt.keys()
    for key, row in rebuilt.items():
        other = incremental[key]
        for name, value in row.items():
            if isinstance(value, float):
                assert other[name] == pytest.approx(value), (key, name)
            elif name.endswith("_hist"):
                assert (hist.decode(other[name]) == hist.decode(value)).all(), (key, name)
            else:
                assert other[name] == value, (key, name)


AWKWARD_COSTS = [
    Decimal("0.0000001125"),  # 112.5 nano-dollars: once 112 live and 113 rebuilt
    Decimal("0.000000000001"),  # one pico-dollar
    Decimal("0.000000000002"),
    Decimal("0.0000000000015"),  # half a pico-dollar more than the unit: rounds to 2
    Decimal("0.0000000000005"),  # half a pico-dollar: rounds away from zero, to 1
    Decimal("0.1"),
    Decimal("12345.678901234567"),
    Decimal(0),
    None,
]


def test_live_rollups_equal_rebuilt_ones_on_awkward_amounts(any_store: Store) -> None:
    """One unit and one rounding: the batch hook and rebuild_rollups() agree to the
    pico-dollar, and both equal the sum of the stored costs."""
    start = datetime.now(UTC) - timedelta(hours=5)
    calls = make_calls(2000, start=start, span=timedelta(hours=4), seed=5)
    for i, c in enumerate(calls):
        c.status = "ok"
        c.cost = AWKWARD_COSTS[i % len(AWKWARD_COSTS)]
        c.cost_status = "priced" if c.cost is not None else "unpriced"
        record(c, store=any_store)
    assert flush(store=any_store)
    stored = sum((as_money(c.cost) for c in calls if c.cost is not None), Decimal(0))

    live = _rollup_snapshot(any_store)
    live_total = call_stats(store=any_store).total.cost
    rebuild_rollups(store=any_store)
    rebuilt = _rollup_snapshot(any_store)
    assert {k: v["cost"] for k, v in live.items()} == {k: v["cost"] for k, v in rebuilt.items()}
    days = [v["cost"] for (grain, _, dim, _k), v in rebuilt.items() if (grain, dim) == ("d", "all")]
    assert sum(days, Decimal(0)) == stored
    assert live_total == call_stats(store=any_store).total.cost == stored.normalize()
