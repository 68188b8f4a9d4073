"""Alerts: recorded once per crossing, logged, and POSTed to a webhook when configured.

The webhook (``LLMLAB_ALERT_WEBHOOK`` or :func:`configure_alerts`) is called from one
background thread: a call that raises an alert only puts it on a bounded queue, so a down
or slow webhook never slows model calls. Each alert is tried a few times with backoff and
then dropped with a logged warning.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from llmlab.monitor._stores import store_of
from llmlab.store import AlertRow, SpentAfter, Store, insert_alert, list_alerts

if TYPE_CHECKING:
    from llmlab.monitor._budgets import Budget

__all__ = [
    "Alert",
    "budget_threshold_alerts",
    "configure_alerts",
    "emit_alert",
    "flush_alerts",
    "recent_alerts",
]

log = logging.getLogger("llmlab.monitor")
WEBHOOK_ENV = "LLMLAB_ALERT_WEBHOOK"
QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as sent to the webhook (``to_dict``) and listed by ``alerts list``."""

    kind: str  # budget | latency | error_rate
    source: str
    value: float
    limit: float
    message: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
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
    attempts: int = 3
    backoff_s: float = 0.5
    timeout_s: float = 2.0


_settings = _Settings()
_explicit = False


def configure_alerts(
    webhook_url: str | None = None,
    *,
    attempts: int = 3,
    backoff_s: float = 0.5,
    timeout_s: float = 2.0,
) -> None:
    """Send alerts to ``webhook_url`` (None: only the log), with these retry bounds."""
    global _explicit
    _settings.webhook_url = webhook_url
    _settings.attempts = max(1, attempts)
    _settings.backoff_s = backoff_s
    _settings.timeout_s = timeout_s
    _explicit = True


def _webhook_url() -> str | None:
    if _explicit:
        return _settings.webhook_url
    return os.environ.get(WEBHOOK_ENV) or None


class _Sender:
    """The one background thread that POSTs alerts."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(QUEUE_SIZE)
        self.pending = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="llmlab-alerts", daemon=True)
        self.thread.start()

    def submit(self, url: str, body: dict[str, Any]) -> None:
        with self.cond:
            self.pending += 1
        try:
            self.queue.put_nowait((url, body))
        except queue.Full:
            self._done()
            log.warning("alert queue full; dropped alert: %s", body.get("message"))

    def _done(self) -> None:
        with self.cond:
            self.pending -= 1
            self.cond.notify_all()

    def _run(self) -> None:
        with httpx.Client() as client:
            while True:
                url, body = self.queue.get()
                try:
                    self._deliver(client, url, body)
                finally:
                    self._done()

    def _deliver(self, client: httpx.Client, url: str, body: dict[str, Any]) -> None:
        error = ""
        for attempt in range(_settings.attempts):
            if attempt:
                time.sleep(_settings.backoff_s * 2 ** (attempt - 1))
            try:
                response = client.post(url, json=body, timeout=_settings.timeout_s)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code < 300:
                return
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break
        log.warning(
            "alert webhook failed after %d attempt(s) (%s); dropped alert: %s",
            _settings.attempts,
            error,
            body.get("message"),
        )

    def wait(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.pending == 0, timeout)


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _get_sender() -> _Sender:
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = _Sender()
        return _sender


def flush_alerts(timeout: float = 10.0) -> bool:
    """Wait until queued webhook deliveries finished (sent or dropped); False on timeout."""
    return _sender.wait(timeout) if _sender is not None else True


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
        ),
    )
    if not inserted:
        return None
    alert = Alert(kind, source, value, limit, message, now)
    log.warning("llmlab alert: %s", message)
    if url:
        _get_sender().submit(url, alert.to_dict())
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
    return list_alerts(store_of(store), limit)
