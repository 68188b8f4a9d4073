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

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_no_budget_is_a_no_op(db_url: str) -> None:
    res = reserve_budget("openai", "gpt-4o", {}, None, Decimal("5"), url=db_url)
    assert not res.active
    res.settle(Decimal("1"))  # nothing to settle, no error


def _spend_concurrently(url: str, n: int, cost: Decimal) -> tuple[int, int]:
    ok = refused = 0
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one() -> None:
        nonlocal ok, refused
        start.wait()
        try:
            res = reserve_budget("openai", "gpt-4o", {"user": "u1"}, None, cost, url=url)
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


def test_fifty_concurrent_calls_never_pass_a_budget_that_fits_ten(any_url: str) -> None:
    set_budget("team", "1.00", period="day", url=any_url)
    ok, refused = _spend_concurrently(any_url, 50, Decimal("0.10"))
    assert (ok, refused) == (10, 40)
    (status,) = budget_status(url=any_url)
    assert status.spent == Decimal("1")
    assert status.reserved == 0


def test_processes_share_one_budget(db_url: str) -> None:
    set_budget("shared", "1.00", period="total", url=db_url)
    script = textwrap.dedent(
        f"""
        import sys, time
        from decimal import Decimal
        sys.path.insert(0, {SRC!r})
        from llmlab import BudgetExceeded
        from llmlab.monitor import reserve_budget
        ok = 0
        for _ in range(8):
            try:
                r = reserve_budget("openai", "gpt-4o", {{}}, None, Decimal("0.1"), url={db_url!r})
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
    (status,) = budget_status(url=db_url)
    assert status.spent == Decimal("1")


def test_refusal_names_budget_spent_reserved_and_limit(db_url: str) -> None:
    set_budget("small", "0.25", url=db_url)
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.10"), url=db_url)
    reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.05"), url=db_url).settle(
        Decimal("0.05")
    )
    with pytest.raises(BudgetExceeded) as info:
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.20"), url=db_url)
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
    res = reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.20"), url=db_url)
    res.settle(Decimal("0.01"))
    (status,) = budget_status(url=db_url)
    assert status.spent == Decimal("0.06") and status.reserved == 0


def test_scopes_apply_only_to_matching_calls(db_url: str) -> None:
    set_budget("m", "0.10", scope="model", value="openai/gpt-4o", url=db_url)
    set_budget("t", "0.10", scope="tag", value="user=alice", url=db_url)
    set_budget("p", "0.10", scope="prompt", value="summarize", url=db_url)
    big = Decimal("0.50")
    # matches none of them
    reserve_budget("anthropic", "claude", {"user": "bob"}, "other", big, url=db_url).settle(big)
    for args in [
        ("openai", "gpt-4o", {}, None),
        ("anthropic", "claude", {"user": "alice"}, None),
        ("anthropic", "claude", {}, "summarize"),
    ]:
        with pytest.raises(BudgetExceeded):
            reserve_budget(*args, big, url=db_url)


def test_soft_budget_never_refuses(db_url: str) -> None:
    set_budget("soft", "0.10", hard=False, url=db_url)
    for _ in range(3):
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.1"), url=db_url).settle(
            Decimal("0.1")
        )
    (status,) = budget_status(url=db_url)
    assert status.spent == Decimal("0.3")


def test_unpriced_call_reserves_nothing_but_real_cost_counts(db_url: str) -> None:
    set_budget("b", "1", url=db_url)
    res = reserve_budget("openai", "new-model", {}, None, None, url=db_url)
    assert res.active
    res.settle(Decimal("0.4"))
    (status,) = budget_status(url=db_url)
    assert status.spent == Decimal("0.4")


@pytest.mark.parametrize("limit", ["0", "-5", "abc", "NaN"])
def test_bad_limits_are_refused(db_url: str, limit: str) -> None:
    with pytest.raises(InputError, match="limit"):
        set_budget("x", limit, url=db_url)


def test_bad_scope_period_and_tag(db_url: str) -> None:
    with pytest.raises(InputError, match="scope"):
        set_budget("x", "1", scope="planet", url=db_url)
    with pytest.raises(InputError, match="period"):
        set_budget("x", "1", period="fortnight", url=db_url)
    with pytest.raises(InputError, match="KEY=VALUE"):
        set_budget("x", "1", scope="tag", value="alice", url=db_url)
    with pytest.raises(InputError, match="needs a value"):
        set_budget("x", "1", scope="model", url=db_url)


def test_list_and_remove(db_url: str) -> None:
    set_budget("a", "2.5", scope="tag", value="feature=chat", period="hour", url=db_url)
    (b,) = list_budget_definitions(url=db_url)
    assert (b.name, b.limit, b.scope_label, b.period) == (
        "a",
        Decimal("2.5"),
        "tag:feature=chat",
        "hour",
    )
    remove_budget("a", url=db_url)
    assert list_budget_definitions(url=db_url) == []
    with pytest.raises(NotFoundError):
        remove_budget("a", url=db_url)


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
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from llmlab.monitor import _budgets
    from llmlab.store import BudgetRow, get_engine, upsert_budget

    monkeypatch.setattr(_budgets, "CACHE_TTL_S", 0.2)
    assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), url=db_url).active
    # Another process adds a hard budget: this process's cache does not know yet.
    row = BudgetRow("other", "all", None, None, "total", 1, True, (), datetime.now(UTC))
    upsert_budget(get_engine(db_url), row)
    assert not reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), url=db_url).active
    time.sleep(0.25)
    with pytest.raises(BudgetExceeded):
        reserve_budget("openai", "gpt-4o", {}, None, Decimal("1"), url=db_url)


def test_run_budget_caps_each_eval_run_apart(db_url: str) -> None:
    set_budget("per-run", "1.00", period="run", url=db_url)

    def spend(run: str | None) -> int:
        spent = 0
        for _ in range(5):
            try:
                res = reserve_budget(
                    "openai", "gpt-4o", {}, None, Decimal("0.30"), eval_run=run, url=db_url
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
    (status,) = budget_status(url=db_url)
    assert status.period_key.startswith("run:")
