"""Budgets and calls that do not line up in time: a budget created while calls are in
flight, a cached answer under a hard budget (through the real call path)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest

from llmlab import BudgetExceeded
from llmlab.models import Request, get_model
from llmlab.monitor import budget_status, flush, set_budget
from llmlab.store import Store, recent_calls
from llmlab.testing import WireServer

KEY = "sk-llmlabtest-budgets-late-0123456789ab"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("OPENAI_BASE_URL", "LLMLAB_PRICES", "LLMLAB_BUDGET_WAIT_S"):
        monkeypatch.delenv(name, raising=False)
    yield


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
        with pytest.raises(BudgetExceeded, match="no price"):
            await model.generate(Request.of("something new", max_tokens=5))
    finally:
        await model.aclose()
    assert hit.cache_hit and hit.text == first.text and hit.cost == 0
    assert wire_server.count() == 1
    (status,) = budget_status(store=llmlab_store)
    assert status.spent == 0 and status.reserved == 0
    assert flush(llmlab_store)
    statuses = sorted(r.status for r in recent_calls(llmlab_store))
    assert statuses == ["ok", "ok", "refused"]
