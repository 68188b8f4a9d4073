"""Budgets: atomic reservations that hold under concurrency, scopes, periods, bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab._errors import BudgetExceeded, InputError, NotFoundError
from llmlab.monitor import (
    budget_status,
    list_budget_definitions,
    remove_budget,
    reserve_budget,
    set_budget,
)
from llmlab.monitor._budgets import period_key
from llmlab.store import Store

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_no_budget_is_a_no_op(store: Store) -> None:
    res = reserve_budget("openai", "gpt-4o", {}, None, Decimal("5"), store=store)
    assert not res.active
    res.settle(Decimal("1"))  # nothing to settle, no error


def _spend_concurrently(store: Store, n: int, cost: Decimal) -> tuple[int, int]:
    ok = refused = 0
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one() -> None:
        nonlocal ok, refused
        start.wait()
        try:
            res = reserve_budget("openai", "gpt-4o", {"user": "u1"}, None, cost, store=store)
        except BudgetExceeded:
            with lock:
                refused += 1
            return
        time.sleep(0.005)
        res.settle(cost)
        with lock:
            ok += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, refused


def test_fifty_concurrent_calls_never_pass_a_budget_that_fits_ten(any_store: Store) -> None:
    set_budget("team", "1.00", period="day", store=any_store)
    ok, refused = _spend_concurrently(any_store, 50, Decimal("0.10"))
    assert (ok, refused) == (10, 40)
    (status,) = budget_status(store=any_store)
    assert status.spent == Decimal("1")
    assert status.reserved == 0


def test_processes_share_one_budget(store: Store, db_url: str) -> None:
    set_budget("shared", "1.00", period="total", store=store)
    script = textwrap.dedent(
        f"""
        import sys, time
        from decimal import Decimal
        sys.path.insert(0, {SRC!r})
        import llmlab
        from llmlab import BudgetExceeded
        from llmlab.monitor import reserve_budget
        store = llmlab.open({db_url!r})
        ok = 0
        for _ in range(8):
            try:
                r = reserve_budget("openai", "gpt-4o", {{}}, None, Decimal("0.1"), store=store)
            except BudgetExceeded:
                continue
            time.sleep(0.002)
            r.settle(Decimal("0.1"))
            ok += 1
        print(ok)
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    total = 0
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        total += int(out.strip())
    assert total == 10
    (status,) = budget_status(store=store)
    assert status.spent == Decimal("1")


def test_refusal_names_budget_spent_reserved_and_limit(store: Store) -> None:
    set_budget("small", "0.25", store=store)
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.10"), store=store)
    reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.05"), store=store).settle(
        Decimal("0.05")
    )
    with pytest.raises(BudgetExceeded) as info:
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.20"), store=store)
    err = info.value
    assert (err.budget, err.spent, err.reserved, err.limit) == (
        "small",
        Decimal("0.05"),
        Decimal("0.1"),
        Decimal("0.25"),
    )
    assert "small" in str(err) and "0.25" in str(err)
    for part in ("'small'", "spent $0.05", "reserved $0.1", "up to $0.2", "limit $0.25"):
        assert part in str(err), part
    held.release()
    # released money is free again, and a cheaper real cost frees the difference
    res = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.20"), store=store)
    res.settle(Decimal("0.01"))
    (status,) = budget_status(store=store)
    assert status.spent == Decimal("0.06") and status.reserved == 0


def test_scopes_apply_only_to_matching_calls(store: Store) -> None:
    set_budget("m", "0.10", scope="model", value="openai/gpt-4o", store=store)
    set_budget("t", "0.10", scope="tag", value="user=alice", store=store)
    set_budget("p", "0.10", scope="prompt", value="summarize", store=store)
    big = Decimal("0.50")
    # matches none of them
    reserve_budget("anthropic", "claude", {"user": "bob"}, "other", big, store=store).settle(big)
    for args in [
        ("openai", "gpt-4o", {}, None),
        ("anthropic", "claude", {"user": "alice"}, None),
        ("anthropic", "claude", {}, "summarize"),
    ]:
        with pytest.raises(BudgetExceeded):
            reserve_budget(*args, big, store=store)


def test_soft_budget_never_refuses(store: Store) -> None:
    set_budget("soft", "0.10", hard=False, store=store)
    for _ in range(3):
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.1"), store=store).settle(
            Decimal("0.1")
        )
    (status,) = budget_status(store=store)
    assert status.spent == Decimal("0.3")


def test_unpriced_call_reserves_nothing_but_real_cost_counts(store: Store) -> None:
    set_budget("b", "1", store=store)
    res = reserve_budget("openai", "new-model", {}, None, None, store=store)
    assert res.active
    res.settle(Decimal("0.4"))
    (status,) = budget_status(store=store)
    assert status.spent == Decimal("0.4")


@pytest.mark.parametrize("limit", ["0", "-5", "abc", "NaN"])
def test_bad_limits_are_refused(store: Store, limit: str) -> None:
    with pytest.raises(InputError, match="limit"):
        set_budget("x", limit, store=store)


def test_bad_scope_period_and_tag(store: Store) -> None:
    with pytest.raises(InputError, match="scope"):
        set_budget("x", "1", scope="planet", store=store)
    with pytest.raises(InputError, match="period"):
        set_budget("x", "1", period="fortnight", store=store)
    with pytest.raises(InputError, match="KEY=VALUE"):
        set_budget("x", "1", scope="tag", value="alice", store=store)
    with pytest.raises(InputError, match="needs a value"):
        set_budget("x", "1", scope="model", store=store)


def test_list_and_remove(store: Store) -> None:
    set_budget("a", "2.5", scope="tag", value="feature=chat", period="hour", store=store)
    (b,) = list_budget_definitions(store=store)
    assert (b.name, b.limit, b.scope_label, b.period) == (
        "a",
        Decimal("2.5"),
        "tag:feature=chat",
        "hour",
    )
    remove_budget("a", store=store)
    assert list_budget_definitions(store=store) == []
    with pytest.raises(NotFoundError):
        remove_budget("a", store=store)


def test_period_keys() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 29, 13, 45, tzinfo=UTC)
    assert [period_key(p, at) for p in ("hour", "day", "month", "total")] == [
        "2026-11-29T13",
        "2026-11-29",
        "2026-11",
        "total",
    ]
    assert period_key("run", at, eval_run="capitals-1") == "run:capitals-1"
    assert period_key("run", at) is None  # outside an eval run: a run budget does not apply


def test_budget_set_elsewhere_applies_after_the_cache_ttl(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from llmlab.monitor import _budgets
    from llmlab.store import BudgetRow, upsert_budget

    monkeypatch.setattr(_budgets, "CACHE_TTL_S", 0.2)
    assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), store=store).active
    # Another handle (as another process would) adds a hard budget: this handle's cache
    # does not know yet.
    limit = Decimal("0.5")
    row = BudgetRow("other", "all", None, None, "total", limit, True, (), datetime.now(UTC))
    with Store(store.url) as other:
        upsert_budget(other, row)
    assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), store=store).active
    time.sleep(0.25)
    with pytest.raises(BudgetExceeded):
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), store=store)


def test_run_budget_caps_each_eval_run_apart(store: Store) -> None:
    set_budget("per-run", "1.00", period="run", store=store)

    def spend(run: str | None) -> int:
        spent = 0
        for _ in range(5):
            try:
                res = reserve_budget(
                    "openai", "gpt-4o", {}, None, Decimal("0.30"), eval_run=run, store=store
                )
            except BudgetExceeded as exc:
                assert exc.budget == "per-run" and exc.limit == Decimal("1.00")
                break
            res.settle(Decimal("0.30"))
            spent += 1
        return spent

    assert spend("run-a") == 3  # 3 x $0.30 fit in $1.00, the 4th would not
    assert spend("run-b") == 3  # a new run starts from zero
    assert spend(None) == 5  # calls outside an eval run are not counted
    (status,) = budget_status(store=store)
    assert status.period_key.startswith("run:")


def test_the_no_budget_path_makes_no_filesystem_call(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), store=store).active

    def refuse() -> str:
        raise AssertionError("os.getcwd() called on the call path")

    monkeypatch.setattr(os, "getcwd", refuse)
    for _ in range(3):
        assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1")).active


def test_the_budget_cache_belongs_to_the_handle(tmp_path: Path) -> None:
    # Two databases in one process: a budget in one never applies to the other.
    with Store(str(tmp_path / "a.db")) as a, Store(str(tmp_path / "b.db")) as b:
        set_budget("cap", "0.01", store=a)
        with pytest.raises(BudgetExceeded):
            reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), store=a)
        assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), store=b).active


def test_limits_and_spend_are_exact_to_the_pico_dollar(store: Store) -> None:
    set_budget("fine", "0.000000000003", store=store)  # three pico-dollars
    for _ in range(3):
        step = Decimal("0.000000000001")
        reserve_budget("openai", "gpt-4o", {}, None, step, store=store).settle(step)
    with pytest.raises(BudgetExceeded):
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.000000000001"), store=store)
    (status,) = budget_status(store=store)
    assert status.spent == Decimal("0.000000000003") and status.reserved == 0
