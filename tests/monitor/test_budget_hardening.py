"""Budgets hardened (issue 9 items 2, 3, 5): unpriced calls, money spent before a budget
existed, reservations of dead processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from llmlab._errors import BudgetExceeded
from llmlab.cli import main
from llmlab.monitor import (
    CallRecord,
    budget_status,
    flush,
    new_call_id,
    record,
    reserve_budget,
    set_budget,
)
from llmlab.store import Store
from llmlab.store._tables_monitor import budget_reservations

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_unpriced_reservation_is_refused_by_a_hard_budget_unless_allowed(store: Store) -> None:
    set_budget("hard", "1", store=store)
    with pytest.raises(BudgetExceeded, match="no price"):
        reserve_budget("openai", "new-model", {}, None, None, store=store)
    set_budget("hard", "1", allow_unpriced=True, store=store)
    assert reserve_budget("openai", "new-model", {}, None, None, store=store).active
    # Another model's scope does not refuse this one.
    set_budget("hard", "1", scope="model", value="openai/gpt-4o", store=store)
    assert not reserve_budget("openai", "new-model", {}, None, None, store=store).active


def _call(at: datetime, cost: str | None, model: str = "gpt-4o-mini", **kw: object) -> CallRecord:
    return CallRecord(
        id=new_call_id(),
        started_at=at,
        provider="openai",
        requested_model=model,
        cost=Decimal(cost) if cost is not None else None,
        cost_status="priced" if cost is not None else "unpriced",
        **kw,  # type: ignore[arg-type]
    )


def test_a_new_budget_counts_what_was_spent_in_its_period(any_store: Store) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=45)
    for rec in (
        _call(now, "0.30"),
        _call(now, "0.20", model="gpt-4o", tags={"user": "alice"}),
        _call(now, None, model="mystery"),
        _call(now, "0.05", status="refused"),  # refused: nothing was spent
        _call(long_ago, "0.50"),
    ):
        record(rec, store=any_store)
    assert flush(any_store)
    set_budget("daily", "5", period="day", store=any_store)
    set_budget(
        "mini", "5", scope="model", value="openai/gpt-4o-mini", period="month", store=any_store
    )
    set_budget("alice", "5", scope="tag", value="user=alice", period="day", store=any_store)
    set_budget("life", "5", period="total", store=any_store)
    spent = {s.budget.name: s.spent for s in budget_status(store=any_store)}
    assert spent == {
        "daily": Decimal("0.5"),
        "mini": Decimal("0.3"),
        "alice": Decimal("0.2"),
        "life": Decimal("1"),
    }
    # The seeded spend counts against the limit.
    set_budget("tight", "0.6", period="day", store=any_store)
    with pytest.raises(BudgetExceeded):
        reserve_budget("openai", "gpt-4o-mini", {}, None, Decimal("0.2"), store=any_store)
    # Replacing a budget with the same scope and period keeps its ledger, no double count.
    set_budget("daily", "6", period="day", store=any_store)
    assert {s.budget.name: s.spent for s in budget_status(store=any_store)}["daily"] == Decimal(
        "0.5"
    )


def _child_holding_a_reservation(url: str, ready: Path) -> subprocess.Popen[bytes]:
    script = textwrap.dedent(
        f"""
        import sys, time
        from decimal import Decimal
        sys.path.insert(0, {SRC!r})
        from llmlab.monitor import reserve_budget
        from llmlab.store import Store
        store = Store({url!r})
        reserve_budget("openai", "gpt-4o", {{}}, None, Decimal("0.8"), store=store)
        open({str(ready)!r}, "w").close()
        time.sleep(600)
        """
    )
    return subprocess.Popen([sys.executable, "-c", script])


def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, "the child died before reserving"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_reservation_of_a_killed_process_is_released_at_once(
    any_store: Store, tmp_path: Path
) -> None:
    set_budget("one", "1.00", period="total", store=any_store)
    ready = tmp_path / "ready"
    child = _child_holding_a_reservation(any_store.url, ready)
    try:
        _wait_for(ready, child)
        # Alive: its reservation holds.
        with pytest.raises(BudgetExceeded):
            reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.5"), store=any_store)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    started = time.monotonic()
    res = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.5"), store=any_store)
    assert time.monotonic() - started < 5
    assert res.active
    (status,) = budget_status(store=any_store)
    assert status.reserved == Decimal("0.5")


def test_reservation_without_heartbeat_from_another_host_is_released(store: Store) -> None:
    set_budget("one", "1.00", period="total", store=store)
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.8"), store=store)
    stale = datetime.now(UTC) - timedelta(minutes=10)
    with store.write() as conn:
        conn.execute(update(budget_reservations).values(owner_host="elsewhere", heartbeat_at=stale))
    assert reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.5"), store=store).active
    held.settle(Decimal("0.1"))  # settling a reclaimed reservation adds the spend only
    (status,) = budget_status(store=store)
    assert (status.spent, status.reserved) == (Decimal("0.1"), Decimal("0.5"))


def test_live_reservations_keep_their_heartbeat(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmlab.monitor import _holders

    monkeypatch.setattr(_holders, "HEARTBEAT_S", 0.1)
    set_budget("one", "1.00", period="total", store=store)
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.8"), store=store)
    stale = datetime.now(UTC) - timedelta(minutes=10)
    with store.write() as conn:
        conn.execute(update(budget_reservations).values(owner_host="elsewhere", heartbeat_at=stale))
    time.sleep(0.5)  # the heartbeat thread refreshes it
    with pytest.raises(BudgetExceeded):
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.5"), store=store)
    held.settle(Decimal("0.8"))


def test_operator_releases_a_budgets_reservations(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    set_budget("one", "1.00", period="total", store=store)
    reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.8"), store=store)
    code, out = _cli(capsys, "budgets", "release", "one")
    assert code == 0, out
    assert "released 0 reservation" in out  # the holder (this process) is alive
    code, out = _cli(capsys, "budgets", "release", "one", "--all")
    assert code == 0, out
    assert "released 1 reservation" in out and "$0.8" in out
    (status,) = budget_status(store=store)
    assert status.reserved == 0
    code, out = _cli(capsys, "budgets", "release", "nope")
    assert code == 2 and "nope" in out


def test_calls_recorded_by_llm_monitor_count_against_budgets(store: Store) -> None:
    from llmlab.monitor import LLMMonitor

    set_budget("cap", "0.001", period="day", store=store)
    rec = LLMMonitor(store=store).record_call("gpt-4o-mini", 1000, 1000, 120.0, "h")
    assert rec.cost is not None and rec.cost > 0
    (status,) = budget_status(store=store)
    assert status.spent == rec.cost and status.reserved == 0
    with pytest.raises(BudgetExceeded):
        reserve_budget("openai", "gpt-4o-mini", {}, None, Decimal("0.00095"), store=store)


@pytest.mark.parametrize("limit", ["1e30", "1e10", "1e7"])
def test_limits_past_what_the_store_holds_are_refused_in_one_line(
    store: Store, limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _cli(capsys, "budgets", "set", "x", limit)
    assert code == 2 and "Traceback" not in out
    assert "at most $1,000,000 per period" in out


def test_settle_retries_a_database_that_is_briefly_busy(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmlab._errors import StoreError
    from llmlab.monitor import _reserve

    set_budget("b", "1", period="total", store=store)
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.5"), store=store)
    real = _reserve.settle_ledger
    failures = iter([True, True])

    def flaky(*args: object, **kw: object) -> object:
        if next(failures, False):
            busy = StoreError("database is locked; retry")
            busy.kind, busy.retryable = "locked", True
            raise busy
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_reserve, "settle_ledger", flaky)
    held.settle(Decimal("0.2"))
    (status,) = budget_status(store=store)
    assert (status.spent, status.reserved) == (Decimal("0.2"), Decimal("0"))
