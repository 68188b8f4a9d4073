"""Alerts: budget thresholds and rules, once per crossing, webhook that never slows calls."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from llmlab._errors import BudgetExceeded, InputError
from llmlab.monitor import (
    check_alert_rules,
    configure_alerts,
    flush,
    flush_alerts,
    list_rules,
    record,
    reserve_budget,
    set_alert_rule,
    set_budget,
)
from llmlab.monitor._alerts import recent_alerts
from llmlab.store import Store

from ._calls import make_calls
from ._receiver import closed_port_url, receiver


def _spend(store: Store, amount: str) -> None:
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal(amount), store=store)
    held.settle(Decimal(amount))


def test_budget_thresholds_alert_once_each_to_log_and_webhook(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with receiver() as hook, caplog.at_level(logging.WARNING, "llmlab.monitor"):
        configure_alerts(hook.url + "/hook")
        set_budget("team", "1.00", hard=False, thresholds=(0.5, 1.0), store=store)
        _spend(store, "0.30")
        _spend(store, "0.30")  # crosses 50 %
        _spend(store, "0.10")
        _spend(store, "0.50")  # crosses 100 %
        _spend(store, "0.50")
        assert flush_alerts(5)
        bodies = hook.json_bodies("/hook")
    assert [(b["kind"], b["source"], b["limit"]) for b in bodies] == [
        ("budget", "team", 0.5),
        ("budget", "team", 1.0),
    ]
    assert bodies[0]["version"] == 1 and "60%" in bodies[0]["message"]
    assert "spent $0.6 " in bodies[0]["message"] and "spent $1.2 " in bodies[1]["message"]
    assert caplog.text.count("llmlab alert") == 2
    stored = recent_alerts(store=store)
    assert [a.limit_value for a in stored] == [1.0, 0.5]


def test_budget_alert_states_the_exact_spend(store: Store) -> None:
    set_budget("tiny", "0.00001", hard=False, thresholds=(1.0,), store=store)
    _spend(store, "0.0000105")
    (alert,) = recent_alerts(store=store)
    assert "reached 105% of $0.00001: spent $0.0000105 " in alert.message


def test_hard_budget_alerts_once_when_it_first_refuses(store: Store) -> None:
    set_budget("cap", "1.00", thresholds=(1.0,), store=store)
    _spend(store, "0.90")  # below 100 %: no threshold alert, and none ever (calls refused)
    for _ in range(3):
        with pytest.raises(BudgetExceeded):
            reserve_budget("openai", "gpt-4o", {}, None, Decimal("0.20"), store=store)
    (alert,) = recent_alerts(store=store)
    assert alert.kind == "budget" and alert.source == "cap"
    assert "refused the call" in alert.message and "limit $1" in alert.message
    assert alert.value == pytest.approx(0.9)


def test_down_webhook_does_not_slow_calls_and_is_dropped_with_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    configure_alerts(closed_port_url(), attempts=3, backoff_s=0.05)
    set_budget("b", "0.10", thresholds=(0.1,), hard=False, store=store)
    with caplog.at_level(logging.WARNING, "llmlab.monitor"):
        started = time.perf_counter()
        _spend(store, "0.05")
        elapsed = time.perf_counter() - started
        assert flush_alerts(10)
    assert elapsed < 0.5
    assert "failed after 3 attempt(s)" in caplog.text and "dropped alert" in caplog.text


def test_slow_webhook_does_not_slow_calls(store: Store) -> None:
    with receiver(delay_s=1.0) as hook:
        configure_alerts(hook.url, timeout_s=0.2, attempts=1)
        set_budget("b", "0.10", thresholds=(0.1,), hard=False, store=store)
        started = time.perf_counter()
        _spend(store, "0.05")
        assert time.perf_counter() - started < 0.5
        assert flush_alerts(10)


def _record(store: Store, n: int, status: str, duration: float = 0.2) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    for c in make_calls(n, start=start, span=timedelta(minutes=4)):
        c.status = status  # type: ignore[assignment]
        c.duration_s = duration
        record(c, store=store)
    flush(store=store)


def test_error_rate_rule_alerts_once_per_crossing(store: Store) -> None:
    with receiver() as hook:
        configure_alerts(hook.url)
        set_alert_rule("errors", "error_rate", 0.2, window="1h", min_calls=5, store=store)
        _record(store, 10, "ok")
        assert check_alert_rules(store=store) == []
        _record(store, 10, "error")  # 50 % errors
        (alert,) = check_alert_rules(store=store)
        assert alert.kind == "error_rate" and alert.value == pytest.approx(0.5)
        assert check_alert_rules(store=store) == []  # still firing: no repeat
        assert list_rules(store=store)[0].firing
        _record(store, 80, "ok")  # back to 10 %: re-armed
        assert check_alert_rules(store=store) == []
        assert not list_rules(store=store)[0].firing
        _record(store, 100, "error")
        assert len(check_alert_rules(store=store)) == 1
        assert flush_alerts(5)
        assert [b["kind"] for b in hook.json_bodies("/")] == ["error_rate", "error_rate"]


def test_p95_latency_rule(store: Store) -> None:
    set_alert_rule("slow", "p95_latency", 1.0, window="30m", min_calls=5, store=store)
    _record(store, 20, "ok", duration=0.5)
    assert check_alert_rules(store=store) == []
    _record(store, 20, "ok", duration=3.0)
    (alert,) = check_alert_rules(store=store)
    assert alert.value == pytest.approx(3.0, rel=0.02)


def test_bad_rules_are_refused(store: Store) -> None:
    with pytest.raises(InputError, match="p95_latency, error_rate"):
        set_alert_rule("x", "cpu", 1.0, store=store)
    with pytest.raises(InputError, match="out of range"):
        set_alert_rule("x", "error_rate", 1.5, store=store)
    with pytest.raises(InputError, match="30m, 24h"):
        set_alert_rule("x", "error_rate", 0.5, window="soon", store=store)
