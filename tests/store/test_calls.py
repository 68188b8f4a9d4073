"""The calls table: batch insert, exact money, UTC times, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from llmlab._errors import InputError
from llmlab.store import CALL_COLUMNS, CallFilter, Store, dashboard, insert_calls
from llmlab.store import recent_calls as recent

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def row(n: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(CALL_COLUMNS)
    base.update(
        id=f"call{n:028d}",
        started_at=T0 + timedelta(seconds=n),
        duration_s=0.5,
        provider="openai",
        requested_model="gpt-4o-mini",
        input_tokens=100,
        output_tokens=10,
        cache_read_tokens=0,
        cache_write_tokens=0,
        reasoning_tokens=0,
        usage_reported=True,
        currency="USD",
        cost_status="priced",
        cost=Decimal("0.000123456789"),
        status="ok",
        attempts=1,
        streamed=False,
        tags={},
        cache_hit=False,
    )
    base.update(changes)
    return base


def test_round_trip_keeps_money_exact_and_times_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    started = datetime(2026, 5, 1, 12, 0, tzinfo=paris)
    insert_calls(store, [row(1, started_at=started, tags={"user": "ann"}, ttft_s=0.25)])
    [got] = recent(store)
    assert got.cost == Decimal("0.000123456789")
    assert isinstance(got.cost, Decimal)
    assert got.started_at == started
    assert got.started_at.tzinfo is not None
    assert got.started_at.utcoffset() == timedelta(0)
    assert got.tags == {"user": "ann"}
    assert got.ttft_s == 0.25


def test_recent_is_newest_first_with_limit(store: Store) -> None:
    insert_calls(store, [row(n) for n in range(10)])
    got = recent(store, limit=3)
    assert [r.id for r in got] == [row(n)["id"] for n in (9, 8, 7)]


def test_filters(store: Store) -> None:
    insert_calls(
        store,
        [
            row(1, requested_model="gpt-4o", cost=Decimal("0.5"), tags={"team": "a"}),
            row(2, status="error", error_type="rate_limit", cost=None, cost_status="unpriced"),
            row(3, provider="anthropic", requested_model="claude-haiku-4-5", duration_s=3.0),
            row(4, prompt_name="greet", prompt_version=2, tags={"team": "b"}),
            row(5, cost=Decimal("10")),
        ],
    )

    def ids(**filters: Any) -> list[int]:
        return sorted(int(r.id[4:]) for r in recent(store, CallFilter(**filters), limit=100))

    assert ids(model="gpt-4o") == [1]
    assert ids(model="anthropic/claude-haiku-4-5") == [3]
    assert ids(model="openai/claude-haiku-4-5") == []
    assert ids(status="error") == [2]
    assert ids(tags={"team": "b"}) == [4]
    assert ids(prompt="greet@2") == [4]
    assert ids(prompt="greet@1") == []
    assert ids(min_cost=Decimal("0.4")) == [1, 5]  # numeric, not text, comparison
    assert ids(min_latency_s=2.0) == [3]
    assert ids(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4)) == [2, 3]


def test_keyset_pages_walk_every_call_once_without_content(store: Store) -> None:
    # Two calls share a start time: the id breaks the tie, so none is skipped or repeated.
    rows = [row(n, request={"messages": [n]}, response_text=f"r{n}") for n in range(7)]
    rows.append(row(7, started_at=rows[3]["started_at"]))
    insert_calls(store, rows)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = dashboard.page_calls(store, CallFilter(), cursor=cursor, limit=3, content=False)
        assert all(r.request is None and r.response_text is None for r in page.rows)
        seen += [r.id for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [r.id for r in recent(store, limit=100)] and len(set(seen)) == 8
    full = dashboard.get_call(store, row(2)["id"])
    assert full is not None and full.request == {"messages": [2]} and full.response_text == "r2"
    assert dashboard.get_call(store, "nope") is None


def test_a_bad_prompt_version_or_cursor_is_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="NAME@VERSION"):
        recent(store, CallFilter(prompt="greet@x"))
    with pytest.raises(InputError, match="cursor"):
        dashboard.page_calls(store, cursor="bm90LWEtY3Vyc29y")
