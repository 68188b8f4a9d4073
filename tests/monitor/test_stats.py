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
from llmlab.store import get_engine, insert_calls

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


def test_stats_from_rollups_match_raw_rows(any_url: str) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    calls = make_calls(3000, start=start, span=timedelta(days=3))
    for c in calls:
        record(c, url=any_url)
    assert flush(url=any_url)
    # a window with partial hours at both ends and whole days and hours inside
    since = start + timedelta(hours=5, minutes=17)
    until = start + timedelta(days=2, hours=20, minutes=41)
    report = call_stats(since, until, url=any_url)
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
    assert call_stats(url=any_url).total.calls == 3000


def test_group_by_model_tag_prompt_and_time(db_url: str) -> None:
    start = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    calls = make_calls(600, start=start, span=timedelta(hours=30))
    for c in calls:
        record(c, url=db_url)
    flush(url=db_url)
    by_model = {g.key: g for g in call_stats(url=db_url, by="model").groups}
    assert set(by_model) == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "openai/gpt-4o"}
    assert by_model["openai/gpt-4o"].unpriced == by_model["openai/gpt-4o"].calls - sum(
        c.status == "refused" for c in calls
    )
    assert by_model["openai/gpt-4o"].cost == 0
    by_user = {g.key: g.calls for g in call_stats(url=db_url, by="tag:user").groups}
    assert by_user["(none)"] == sum(not c.tags for c in calls)
    assert by_user["u1"] == sum(c.tags.get("user") == "u1" for c in calls)
    by_prompt = {g.key: g.calls for g in call_stats(url=db_url, by="prompt").groups}
    assert by_prompt == {"summarize@2": 120, "(none)": 480}
    by_hour = call_stats(url=db_url, by="hour").groups
    assert len(by_hour) == 30 and sum(g.calls for g in by_hour) == 600
    by_day = call_stats(url=db_url, by="day").groups
    assert sum(g.calls for g in by_day) == 600 and len(by_day) in (2, 3)


def test_rebuild_rollups_for_bulk_loaded_calls(any_url: str) -> None:
    start = datetime.now(UTC) - timedelta(days=4)
    calls = make_calls(500, start=start, span=timedelta(days=2))
    engine = get_engine(any_url)
    from dataclasses import asdict

    insert_calls(engine, [asdict(c) for c in calls])  # behind the recorder's back
    assert call_stats(url=any_url).total.calls == 0  # rollups know nothing yet
    assert rebuild_rollups(any_url) == 500
    total = call_stats(url=any_url).total
    assert total.calls == 500
    assert total.cost == sum((c.cost for c in calls if c.cost is not None), Decimal(0))
    rebuild_rollups(any_url)  # idempotent
    assert call_stats(url=any_url).total.calls == 500


def test_empty_window(db_url: str) -> None:
    report = call_stats(since="1h", url=db_url)
    assert report.total.calls == 0 and report.total.latency_p95_s is None
    assert report.groups == ()


@pytest.mark.parametrize("bad", ["yesterdayish", "12x", "2026-13-45"])
def test_malformed_window_names_accepted_forms(db_url: str, bad: str) -> None:
    with pytest.raises(InputError, match=r"30m, 24h, 7d.*ISO date"):
        call_stats(since=bad, url=db_url)


def test_unknown_group_by_lists_valid_ones(db_url: str) -> None:
    with pytest.raises(InputError, match=r"model, provider, prompt, arm, eval_run, tag:KEY"):
        call_stats(by="colour", url=db_url)


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


def test_recorded_rollups_equal_rebuilt_ones(any_url: str) -> None:
    from sqlalchemy import select

    from llmlab.store._tables_monitor import call_rollups

    start = datetime.now(UTC) - timedelta(days=1, hours=3)
    for c in make_calls(1500, start=start, span=timedelta(hours=30), seed=11):
        record(c, url=any_url)
    assert flush(url=any_url)

    def snapshot() -> dict:  # type: ignore[type-arg]
        with get_engine(any_url).connect() as conn:
            rows = conn.execute(select(call_rollups)).mappings().all()
        return {(r["grain"], r["bucket_start"], r["dim"], r["key"]): dict(r) for r in rows}

    incremental = snapshot()
    rebuild_rollups(any_url)
    rebuilt = snapshot()
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
