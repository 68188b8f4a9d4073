"""Alerts: recorded once per crossing, logged, and POSTed to a webhook when configured.

The webhook (``LLMLAB_ALERT_WEBHOOK`` or :func:`configure_alerts`) is fed from a durable
outbox: the alert row itself, stored ``pending`` in the same write that records it. One
background thread per store (:class:`Outbox`) POSTs it, so a down or slow webhook never
slows model calls; failures are retried with backoff, then marked ``failed`` with the
reason; closing the store (at exit too) waits, bounded, for due deliveries, and what is
still pending is sent by the next process that uses the store. ``alerts list`` shows
each alert's delivery state.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from llmlab._json import JsonObject
from llmlab.store import (
    Store,
    claim_delivery,
    due_deliveries,
    insert_alert,
    list_alerts,
    pending_deliveries,
    resolve_store,
    set_delivery,
)

if TYPE_CHECKING:
    import httpx

    from llmlab.monitor._budgets import Budget
    from llmlab.store import AlertRow, SpentAfter  # row types: they load SQLAlchemy

__all__ = [
    "Alert",
    "Outbox",
    "budget_threshold_alerts",
    "configure_alerts",
    "emit_alert",
    "flush_alerts",
    "recent_alerts",
]

log = logging.getLogger("llmlab.monitor")
WEBHOOK_ENV = "LLMLAB_ALERT_WEBHOOK"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as sent to the webhook (``to_dict``) and listed by ``alerts list``."""

    kind: str  # budget | latency | error_rate
    source: str
    value: float
    limit: float
    message: str
    created_at: datetime

    def to_dict(self) -> JsonObject:
        """The webhook's JSON body."""
        return {
            "version": 1,
            "kind": self.kind,
            "source": self.source,
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(slots=True)
class _Settings:
    webhook_url: str | None = None
    attempts: int = 5
    backoff_s: float = 0.5
    timeout_s: float = 2.0
    exit_wait_s: float = 5.0


_settings = _Settings()
_explicit = False


def configure_alerts(
    webhook_url: str | None = None,
    *,
    attempts: int = 5,
    backoff_s: float = 0.5,
    timeout_s: float = 2.0,
    exit_wait_s: float = 5.0,
) -> None:
    """Send alerts to ``webhook_url`` (None: only the log).

    Args:
        webhook_url: where alerts are POSTed as JSON.
        attempts: tries per alert before it is marked failed (4xx other than 429: one).
        backoff_s: the wait after the first failure, doubled after each next one.
        timeout_s: the limit of one POST.
        exit_wait_s: how long closing the store (at exit) waits for due deliveries.
    """
    global _explicit
    _settings.webhook_url = webhook_url
    _settings.attempts = max(1, attempts)
    _settings.backoff_s = backoff_s
    _settings.timeout_s = timeout_s
    _settings.exit_wait_s = exit_wait_s
    _explicit = True


def _webhook_url() -> str | None:
    if _explicit:
        return _settings.webhook_url
    return os.environ.get(WEBHOOK_ENV) or None


def _body(row: AlertRow) -> JsonObject:
    return Alert(
        row.kind, row.source, row.value, row.limit_value, row.message, row.created_at
    ).to_dict()


class Outbox:
    """Delivers the store's pending webhook alerts (a store component).

    Alerts wait in the ``alerts`` table (state ``pending``) until delivered: one
    background thread POSTs them, retrying with backoff; closing the store (also at
    interpreter exit) waits up to ``exit_wait_s`` for the deliveries due by then. A
    delivery is claimed in the database before it is sent, so processes sharing the
    store do not send it twice; the claim of a process that died expires and another
    process sends it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        # One deliverer at a time in a process (the thread, or a flush), so that its
        # alerts reach the webhook in the order they were raised.
        self._sending = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inflight = 0

    def kick(self) -> None:
        """Deliver what is due now (from the background thread)."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="llmlab-alerts", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        # Lazy: httpx (~0.1 s to import) is needed only once a webhook alert is sent; this
        # module loads with every recorder (budgets, alert rules), e.g. for one `llmlab run`.
        import httpx

        with httpx.Client() as client:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    wait = self.deliver_due(client)
                except Exception as exc:  # the store is busy or gone: try again later
                    log.warning("alert delivery failed: %s", exc)
                    wait = 5.0
                self._wake.wait(wait if wait is not None else 60.0)

    def deliver_due(self, client: httpx.Client) -> float | None:
        """Send every due delivery once; seconds until the next one is due (None: none)."""
        url = _webhook_url()
        if url is None:
            return None
        with self._sending:
            while True:
                now = datetime.now(UTC)
                due = due_deliveries(self.store, now)
                if not due:
                    break
                for row in due:
                    if self._stop.is_set() and threading.current_thread() is self._thread:
                        return None  # closing: the closing thread finishes the work
                    self._deliver(client, url, row, now)
        count, soonest = pending_deliveries(self.store)
        if not count or soonest is None:
            return None if not count else 0.0
        return max(0.0, (soonest - datetime.now(UTC)).total_seconds())

    def _deliver(self, client: httpx.Client, url: str, row: AlertRow, now: datetime) -> None:
        assert row.id is not None
        claim = now + timedelta(seconds=_settings.timeout_s + 5)
        if not claim_delivery(self.store, row, claim):
            return
        attempts = row.attempts + 1
        error = ""
        retry = True
        import httpx  # loaded already: the client passed in is an httpx.Client

        with self._lock:
            self._inflight += 1
        try:
            response = client.post(url, json=_body(row), timeout=_settings.timeout_s)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            response = None
        finally:
            with self._lock:
                self._inflight -= 1
        if response is not None:
            if response.status_code < 300:
                set_delivery(self.store, row.id, state="delivered", attempts=attempts)
                return
            error = f"HTTP {response.status_code}"
            retry = response.status_code >= 500 or response.status_code in (408, 429)
        if retry and attempts < _settings.attempts:
            delay = _settings.backoff_s * 2 ** (attempts - 1)
            set_delivery(
                self.store,
                row.id,
                state="pending",
                attempts=attempts,
                next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
                error=error,
            )
            return
        set_delivery(self.store, row.id, state="failed", attempts=attempts, error=error)
        log.warning(
            "alert webhook failed after %d attempt(s) (%s); alert %d marked failed "
            "(see `llmlab alerts list`): %s",
            attempts,
            error,
            row.id,
            row.message,
        )

    def flush(self, timeout: float) -> bool:
        """Deliver in this thread what is due within ``timeout``; True when nothing is
        left pending."""
        deadline = time.monotonic() + timeout
        import httpx  # lazy: only a store with webhook alerts pays for it

        with httpx.Client() as client:
            while True:
                wait = self.deliver_due(client)
                if wait is None:
                    return pending_deliveries(self.store)[0] == 0
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if wait > left and not self._inflight:
                    return False  # nothing comes due in time (nor is being sent here)
                # A delivery this process is sending ends before its claim: poll for it.
                time.sleep(min(max(wait, 0.01), 0.05 if self._inflight else left))

    def close(self) -> None:
        """Stop the thread, then wait (bounded) for the deliveries due meanwhile."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=_settings.timeout_s + 1)
        if _webhook_url() is None:
            return
        try:
            if not self.flush(_settings.exit_wait_s):
                count = pending_deliveries(self.store)[0]
                if count:
                    log.warning(
                        "%d alert(s) not delivered yet; they stay pending and are sent "
                        "by the next llmlab process using %s",
                        count,
                        self.store.safe_url,
                    )
        except Exception as exc:
            log.warning("alert delivery at exit failed: %s", exc)

    def after_fork(self) -> None:
        """A forked child starts its own thread when it needs one."""
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None


def flush_alerts(timeout: float = 10.0, *, store: Store | None = None) -> bool:
    """Deliver the pending webhook alerts of ``store`` that are due within ``timeout``
    seconds; True when none is left pending (delivered or marked failed)."""
    handle = resolve_store(store)
    return handle.component(Outbox, Outbox).flush(timeout)


def emit_alert(
    store: Store,
    *,
    kind: str,
    source: str,
    dedupe_key: str,
    value: float,
    limit: float,
    message: str,
) -> Alert | None:
    """Record, log and send an alert, unless ``dedupe_key`` was alerted before."""
    now = datetime.now(UTC)
    url = _webhook_url()
    from llmlab.store import AlertRow  # loads SQLAlchemy: only here

    inserted = insert_alert(
        store,
        AlertRow(
            created_at=now,
            kind=kind,
            source=source,
            dedupe_key=dedupe_key,
            value=value,
            limit_value=limit,
            message=message,
            delivery="webhook" if url else "log",
            delivery_state="pending" if url else "",
        ),
    )
    if not inserted:
        return None
    alert = Alert(kind, source, value, limit, message, now)
    log.warning("llmlab alert: %s", message)
    if url:
        store.component(Outbox, Outbox).kick()
    return alert


def budget_threshold_alerts(
    store: Store, spent: Sequence[SpentAfter], budgets: Sequence[Budget]
) -> list[Alert]:
    """Alert for each budget threshold that a budget's spend has passed."""
    by_name = {b.name: b for b in budgets}
    out: list[Alert] = []
    for after in spent:
        name, period_key = after.budget, after.period_key
        budget = by_name.get(name)
        if budget is None:
            continue
        fraction = float(after.spent / budget.limit)
        for threshold in budget.thresholds:
            if fraction < threshold:
                continue
            # Exact: a float rounded to 6 places showed $0.000010 for a $0.0000105 spend.
            dollars = after.spent.normalize()
            alert = emit_alert(
                store,
                kind="budget",
                source=name,
                dedupe_key=f"budget:{name}:{period_key}:{threshold:g}",
                value=fraction,
                limit=threshold,
                message=(
                    f"budget {name!r} ({budget.scope_label}, {budget.period} {period_key}) "
                    f"reached {fraction:.0%} of ${budget.limit:f}: spent ${dollars:f} "
                    f"(threshold {threshold:.0%})"
                ),
            )
            if alert is not None:
                out.append(alert)
    return out


def budget_refusal_alert(
    store: Store, budget: Budget, period_key: str, used: float, refusal: str
) -> Alert | None:
    """Alert once per period when a hard budget first refuses a call: spend stops short of
    the limit then, so its 100 % threshold may never be crossed."""
    return emit_alert(
        store,
        kind="budget",
        source=budget.name,
        dedupe_key=f"budget:{budget.name}:{period_key}:refused",
        value=used,
        limit=1.0,
        message=f"{refusal} ({budget.scope_label}, {budget.period} {period_key})",
    )


def recent_alerts(limit: int = 50, *, store: Store | None = None) -> list[AlertRow]:
    """The newest alerts first (``AlertRow.to_dict()`` for JSON)."""
    return list_alerts(resolve_store(store), limit)
