"""Hard budgets through the real call path (official SDK over HTTP to the wire server):
replies without usage, unpriced models, concurrency (issue 9 items 1, 2, 4), a budget
created while calls are in flight, a cached answer under a hard budget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from llmlab import BudgetExceeded
from llmlab.cli import main
from llmlab.models import Model, Request, Response, TextDelta, get_model
from llmlab.monitor import budget_status, flush, set_budget
from llmlab.store import Store, recent_calls
from llmlab.testing import WireServer

KEY = "sk-llmlabtest-budgets-0123456789abcdef"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("OPENAI_BASE_URL", "LLMLAB_PRICES", "LLMLAB_BUDGET_WAIT_S"):
        monkeypatch.delenv(name, raising=False)
    yield


async def _calls(model: Model, n: int) -> int:
    ok = 0
    for _ in range(n):
        try:
            await model.generate(Request.of("hello there", max_tokens=50))
        except BudgetExceeded:
            continue
        ok += 1
    return ok


@pytest.fixture
async def gpt4o(wire_server: WireServer, llmlab_store: Store) -> AsyncIterator[Model]:
    # Not gpt-4o-mini: the no-usage warning is logged once per model and process, and
    # tests/models checks it for that model.
    model = get_model("openai/gpt-4o", base_url=wire_server.openai_base_url)
    yield model
    await model.aclose()


@pytest.fixture
async def unpriced(wire_server: WireServer, llmlab_store: Store) -> AsyncIterator[Model]:
    model = get_model("openai/llmlab-unpriced-x9", base_url=wire_server.openai_base_url)
    yield model
    await model.aclose()


async def test_reply_without_usage_is_charged_its_worst_case_and_marked_estimated(
    wire_server: WireServer,
    llmlab_store: Store,
    gpt4o: Model,
    capsys: pytest.CaptureFixture[str],
) -> None:
    worst = gpt4o._worst_case(Request.of("hello there", max_tokens=50))
    assert worst is not None
    set_budget("six", worst * 6, period="day", store=llmlab_store)
    wire_server.faults.add("no_usage", probability=1.0)
    ok = await _calls(gpt4o, 24)
    assert ok == 6  # was 24: a reply without usage released its reservation
    (status,) = budget_status(store=llmlab_store)
    assert status.spent == worst * 6 and status.reserved == 0
    assert flush(llmlab_store)
    rows = [r for r in recent_calls(llmlab_store, limit=100) if r.status == "ok"]
    assert len(rows) == 6
    assert all(not r.usage_reported and r.cost_status == "estimated" for r in rows)
    assert all(r.cost == worst for r in rows)
    code, shown = _cli(capsys, "monitor", "calls")
    assert code == 0, shown
    assert "estimated" in shown


async def test_unpriced_model_is_refused_by_a_hard_budget_with_how_to_price_it(
    wire_server: WireServer, llmlab_store: Store, unpriced: Model
) -> None:
    set_budget("cap", "1.00", period="day", store=llmlab_store)
    with pytest.raises(BudgetExceeded) as refused:
        await unpriced.generate(Request.of("hi", max_tokens=5))
    message = str(refused.value)
    assert "\n" not in message
    assert "no price" in message and "LLMLAB_PRICES" in message and "--allow-unpriced" in message
    assert wire_server.count() == 0
    # Explicitly allowed: it goes through (its real cost is unknown, counted as nothing).
    set_budget("cap", "1.00", period="day", allow_unpriced=True, store=llmlab_store)
    assert await _calls(unpriced, 2) == 2
    # A soft budget never refuses.
    set_budget("cap", "1.00", period="day", hard=False, store=llmlab_store)
    assert await _calls(unpriced, 1) == 1


async def test_fifty_concurrent_calls_use_most_of_a_hard_budget_and_never_pass_it(
    wire_server: WireServer, any_store: Store
) -> None:
    """Calls that do not fit only because of other calls' reservations wait for them to
    settle instead of being refused: >= 90 % of the budget is used, never more than it."""
    model = get_model("openai/gpt-4o-mini", base_url=wire_server.openai_base_url, store=any_store)
    request = Request.of("hello there", max_tokens=4)
    worst = model._worst_case(request)
    assert worst is not None
    limit = worst * 12  # fits 12 worst cases at once, about 30 real calls
    set_budget("team", limit, period="day", store=any_store)
    wire_server.config.latency_ms = 200  # reservations overlap: 50 calls start at once

    async def one() -> bool:
        try:
            await model.generate(request)
        except BudgetExceeded:
            return False
        return True

    try:
        outcomes = await asyncio.gather(*(one() for _ in range(50)))
    finally:
        await model.aclose()
    (status,) = budget_status(store=any_store)
    assert status.reserved == 0
    assert status.spent <= limit
    print(f"\nusable fraction {status.spent / limit:.3f}, {outcomes.count(True)} of 50 calls")
    assert status.spent / limit >= Decimal("0.9"), (status.spent / limit, outcomes.count(True))
    assert 0 < outcomes.count(False) < 50 - 12  # some refused, far fewer than before
    assert wire_server.count() == outcomes.count(True)
    assert flush(any_store)
    rows = [r for r in recent_calls(any_store, limit=100) if r.status == "ok"]
    assert sum(r.cost or 0 for r in rows) == status.spent


def _spent(store: Store) -> dict[str, Decimal]:
    return {s.budget.name: s.spent for s in budget_status(store=store) if not s.reserved}


@pytest.mark.parametrize("budget_before", [False, True])
async def test_a_budget_created_during_calls_counts_them(
    wire_server: WireServer, any_store: Store, budget_before: bool
) -> None:
    if budget_before:  # the calls reserve against this one only
        set_budget("early", "5.00", scope="provider", value="openai", store=any_store)
    model = get_model("openai/gpt-4o-mini", base_url=wire_server.openai_base_url, store=any_store)
    wire_server.config.latency_ms = 400
    try:
        calls = [asyncio.create_task(model.generate(Request.of(f"hi {n}"))) for n in range(3)]
        while wire_server.count() < 3:  # all three are in flight
            await asyncio.sleep(0.01)
        set_budget("late", "5.00", period="day", store=any_store)
        replies = await asyncio.gather(*calls)
        cost = sum((r.cost or Decimal(0) for r in replies), Decimal(0))
        assert cost > 0
        expected = {"late": cost} | ({"early": cost} if budget_before else {})
        assert _spent(any_store) == expected  # each counted once, in every budget
        # A call after it counts as before: reserved, then settled.
        more = (await model.generate(Request.of("once more"))).cost
    finally:
        await model.aclose()
    assert more is not None and _spent(any_store)["late"] == cost + more


async def test_a_cached_answer_of_an_unpriced_model_passes_a_hard_budget(
    wire_server: WireServer, llmlab_store: Store
) -> None:
    model = get_model("openai/llmlab-unpriced-x9", base_url=wire_server.openai_base_url, cache=True)
    request = Request.of("hi", max_tokens=5)
    try:
        first = await model.generate(request)  # no budget yet: called, cached
        set_budget("cap", "1.00", period="day", store=llmlab_store)
        hit = await model.generate(request)  # costs nothing: served
        pieces = [piece async for piece in model.stream(request)]  # streamed: served too
        with pytest.raises(BudgetExceeded, match="no price"):
            await model.generate(Request.of("something new", max_tokens=5))
    finally:
        await model.aclose()
    assert hit.cache_hit and hit.text == first.text and hit.cost == 0
    streamed = pieces[-1]
    assert isinstance(streamed, Response) and streamed.cache_hit and streamed.cost == 0
    assert "".join(p.text for p in pieces[:-1] if isinstance(p, TextDelta)) == first.text
    assert wire_server.count() == 1
    (status,) = budget_status(store=llmlab_store)
    assert status.spent == 0 and status.reserved == 0
    assert flush(llmlab_store)
    statuses = sorted(r.status for r in recent_calls(llmlab_store))
    assert statuses == ["ok", "ok", "ok", "refused"]
