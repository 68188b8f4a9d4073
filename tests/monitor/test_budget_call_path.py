"""Hard budgets through the real call path (official SDK over HTTP to the wire server):
replies without usage, unpriced models, concurrency (issue 9 items 1, 2, 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from llmlab import BudgetExceeded
from llmlab.cli import app
from llmlab.models import Request, get_model
from llmlab.monitor import budget_status, flush, set_budget
from llmlab.store import Store, recent_calls
from llmlab.testing import WireServer

KEY = "sk-llmlabtest-budgets-0123456789abcdef"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("OPENAI_BASE_URL", "LLMLAB_PRICES", "LLMLAB_BUDGET_WAIT_S"):
        monkeypatch.delenv(name, raising=False)
    yield


async def _calls(model_name: str, server: WireServer, store: Store, n: int, **kw: object) -> int:
    model = get_model(model_name, base_url=server.openai_base_url, store=store)
    ok = 0
    try:
        for _ in range(n):
            try:
                await model.generate(Request.of("hello there", max_tokens=50, **kw))  # type: ignore[arg-type]
            except BudgetExceeded:
                continue
            ok += 1
    finally:
        await model.aclose()
    return ok


async def test_reply_without_usage_is_charged_its_worst_case_and_marked_estimated(
    wire_server: WireServer, llmlab_store: Store
) -> None:
    model = get_model("openai/gpt-4o-mini", base_url=wire_server.openai_base_url)
    worst = model._worst_case(Request.of("hello there", max_tokens=50))
    await model.aclose()
    assert worst is not None
    set_budget("six", worst * 6, period="day", store=llmlab_store)
    wire_server.faults.add("no_usage")
    ok = await _calls("openai/gpt-4o-mini", wire_server, llmlab_store, 24)
    assert ok == 6  # was 24: a reply without usage released its reservation
    (status,) = budget_status(store=llmlab_store)
    assert status.spent == worst * 6 and status.reserved == 0
    assert flush(llmlab_store)
    rows = [r for r in recent_calls(llmlab_store, limit=100) if r.status == "ok"]
    assert len(rows) == 6
    assert all(not r.usage_reported and r.cost_status == "estimated" for r in rows)
    assert all(r.cost == worst for r in rows)
    shown = CliRunner().invoke(app, ["monitor", "calls"])
    assert shown.exit_code == 0, shown.output
    assert "estimated" in shown.output


async def test_unpriced_model_is_refused_by_a_hard_budget_with_how_to_price_it(
    wire_server: WireServer, llmlab_store: Store
) -> None:
    set_budget("cap", "1.00", period="day", store=llmlab_store)
    with pytest.raises(BudgetExceeded) as refused:
        model = get_model("openai/llmlab-unpriced-x9", base_url=wire_server.openai_base_url)
        try:
            await model.generate(Request.of("hi", max_tokens=5))
        finally:
            await model.aclose()
    message = str(refused.value)
    assert "\n" not in message
    assert "no price" in message and "LLMLAB_PRICES" in message and "--allow-unpriced" in message
    assert wire_server.count() == 0
    # Explicitly allowed: it goes through (its real cost is unknown, counted as nothing).
    set_budget("cap", "1.00", period="day", allow_unpriced=True, store=llmlab_store)
    assert await _calls("openai/llmlab-unpriced-x9", wire_server, llmlab_store, 2) == 2
    # A soft budget never refuses.
    set_budget("cap", "1.00", period="day", hard=False, store=llmlab_store)
    assert await _calls("openai/llmlab-unpriced-x9", wire_server, llmlab_store, 1) == 1
