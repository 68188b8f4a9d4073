"""Alert webhooks go through a durable outbox (issue 9 item 6): retried with backoff,
flushed at exit, and their true delivery state listed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab.cli import main
from llmlab.monitor import configure_alerts, flush_alerts, recent_alerts, reserve_budget, set_budget
from llmlab.store import Store

from ._receiver import receiver

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def _spend(store: Store, amount: str) -> None:
    held = reserve_budget("openai", "gpt-4o", {}, None, Decimal(amount), store=store)
    held.settle(Decimal(amount))


def _alerting_child(url: str, hook: str, *, then: str) -> str:
    return textwrap.dedent(
        f"""
        import os, sys, time
        from decimal import Decimal
        sys.path.insert(0, {SRC!r})
        os.environ["LLMLAB_ALERT_WEBHOOK"] = {hook!r}
        import llmlab
        from llmlab.monitor import reserve_budget, set_budget
        store = llmlab.open({url!r})
        set_budget("b", "1.00", hard=False, thresholds=(0.5,), store=store)
        held = reserve_budget("openai", "gpt-4o", {{}}, None, Decimal("0.6"), store=store)
        held.settle(Decimal("0.6"))
        {then}
        """
    )


def test_alert_is_delivered_when_the_process_exits_right_after_it(
    store: Store, db_url: str
) -> None:
    with receiver(delay_s=0.3) as hook:
        script = _alerting_child(db_url, hook.url + "/hook", then="sys.exit(0)")
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        # Delivered before the child exited: nothing left to wait for here.
        assert hook.count("/hook") == 1
    (alert,) = recent_alerts(store=store)
    assert (alert.delivery_state, alert.attempts) == ("delivered", 1)


def test_alert_of_a_killed_process_is_delivered_by_the_next_one(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver(delay_s=5.0) as slow:  # the child is killed while its POST hangs
        script = _alerting_child(db_url, slow.url, then="time.sleep(600)")
        child = subprocess.Popen([sys.executable, "-c", script])
        try:
            assert slow.wait_for("/", 1, timeout=60)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
    (alert,) = recent_alerts(store=store)
    assert alert.delivery_state == "pending"
    with receiver() as hook:
        configure_alerts(hook.url, backoff_s=0.05)
        assert flush_alerts(30, store=store)  # its claim expired: sent again, once
        assert hook.count("/") == 1
    (alert,) = recent_alerts(store=store)
    assert alert.delivery_state == "delivered"


def test_failing_webhook_is_retried_with_backoff_then_delivered(store: Store) -> None:
    with receiver(status=503) as hook:
        configure_alerts(hook.url, attempts=5, backoff_s=0.1)
        set_budget("b", "1.00", hard=False, thresholds=(0.5,), store=store)
        _spend(store, "0.6")
        assert hook.wait_for("/", 2, timeout=10)
        hook.status = 200
        assert flush_alerts(10, store=store)
    (alert,) = recent_alerts(store=store)
    assert alert.delivery_state == "delivered" and alert.attempts >= 3


def test_rejected_webhook_is_failed_with_its_reason_in_alerts_list(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiver(status=404) as hook:
        configure_alerts(hook.url, attempts=5, backoff_s=0.05)
        set_budget("b", "1.00", hard=False, thresholds=(0.5,), store=store)
        _spend(store, "0.6")
        assert flush_alerts(10, store=store)
        assert hook.count("/") == 1  # a 404 is not retried
    (alert,) = recent_alerts(store=store)
    assert (alert.delivery_state, alert.last_error) == ("failed", "HTTP 404")
    code, out = _cli(capsys, "alerts", "list")
    assert code == 0 and "failed: HTTP 404" in out


def test_alerts_list_shows_pending_and_logged(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    set_budget("b", "1.00", hard=False, thresholds=(0.5, 0.9), store=store)
    _spend(store, "0.6")  # no webhook: logged only
    configure_alerts("http://127.0.0.1:9/never", attempts=50, backoff_s=30)
    _spend(store, "0.35")
    time.sleep(0.2)
    code, out = _cli(capsys, "alerts", "list")
    assert code == 0
    assert "pending" in out and "log only" in out
