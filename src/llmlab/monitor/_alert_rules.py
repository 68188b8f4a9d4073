"""Alert rules on call quality: p95 latency or error rate over a sliding window.

Rules are checked after recorded batches (at most every ``CHECK_INTERVAL_S`` per store
handle; the schedule is a component of the handle) and by :func:`check_alert_rules`.
A rule alerts once when it starts firing and re-arms when the metric is back under its limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmlab._errors import InputError, NotFoundError
from llmlab._json import JsonObject
from llmlab.monitor._alerts import Alert, emit_alert
from llmlab.monitor._recorder import add_batch_listener
from llmlab.monitor._window import parse_instant
from llmlab.store import (
    Store,
    delete_alert_rule,
    list_alert_rules,
    resolve_store,
    set_rule_firing,
    upsert_alert_rule,
)

if TYPE_CHECKING:
    from llmlab.store import AlertRuleRow  # row types: they load SQLAlchemy

__all__ = [
    "METRICS",
    "AlertRule",
    "check_alert_rules",
    "list_rules",
    "remove_alert_rule",
    "set_alert_rule",
]

METRICS = ("p95_latency", "error_rate")
CHECK_INTERVAL_S = 10.0


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Alert when ``metric`` over the last ``window_s`` seconds passes ``limit``."""

    name: str
    metric: str
    window_s: int
    limit: float
    min_calls: int
    firing: bool

    def to_dict(self) -> JsonObject:
        """JSON-ready dict."""
        return asdict(self)


def set_alert_rule(
    name: str,
    metric: str,
    limit: float,
    *,
    window: str = "15m",
    min_calls: int = 10,
    store: Store | None = None,
) -> AlertRule:
    """Create or replace a rule.

    Args:
        name: the rule's name.
        metric: ``p95_latency`` (seconds) or ``error_rate`` (0..1).
        limit: alert when the metric is above this.
        window: how far back to look: ``5m``, ``1h`` ...
        min_calls: no alert on fewer calls than this in the window.

    Raises:
        InputError: unknown metric, bad window or limit.
    """
    if metric not in METRICS:
        raise InputError(f"unknown alert metric {metric!r}; use one of: {', '.join(METRICS)}")
    if limit <= 0 or (metric == "error_rate" and limit >= 1):
        raise InputError(
            f"alert limit {limit} is out of range: seconds > 0 for p95_latency, "
            "a fraction between 0 and 1 for error_rate"
        )
    now = datetime.now(UTC)
    window_s = int((now - parse_instant(window, now=now, option="--window")).total_seconds())
    if window_s <= 0:
        raise InputError(f"--window {window!r} must be a duration such as 15m or 1h")
    from llmlab.store import AlertRuleRow  # loads SQLAlchemy: only here

    row = AlertRuleRow(
        name=name,
        metric=metric,
        window_s=window_s,
        limit_value=float(limit),
        min_calls=max(1, min_calls),
        firing=False,
        created_at=now,
    )
    handle = resolve_store(store)
    upsert_alert_rule(handle, row)
    _schedule(handle).forget()
    return _to_rule(row)


def remove_alert_rule(name: str, *, store: Store | None = None) -> None:
    """Delete a rule.

    Raises:
        NotFoundError: no rule by that name.
    """
    handle = resolve_store(store)
    if not delete_alert_rule(handle, name):
        candidates = [r.name for r in list_rules(store=handle)]
        raise NotFoundError("alert rule", name, candidates=candidates)
    _schedule(handle).forget()


def list_rules(*, store: Store | None = None) -> list[AlertRule]:
    """Every rule, by name."""
    return [_to_rule(r) for r in list_alert_rules(resolve_store(store))]


def _to_rule(row: AlertRuleRow) -> AlertRule:
    return AlertRule(
        name=row.name,
        metric=row.metric,
        window_s=row.window_s,
        limit=row.limit_value,
        min_calls=row.min_calls,
        firing=row.firing,
    )


def check_alert_rules(*, store: Store | None = None) -> list[Alert]:
    """Evaluate every rule now; returns the alerts raised (rules that started firing)."""
    handle = resolve_store(store)
    raised = []
    for rule in list_rules(store=handle):
        alert = _check(handle, rule)
        if alert is not None:
            raised.append(alert)
    return raised


def _check(store: Store, rule: AlertRule) -> Alert | None:
    # Lazy: the statistics (numpy, pricing) are needed only once a rule exists, and this
    # module loads with every recorder (its batch listener), e.g. for one `llmlab run`.
    from llmlab.monitor._stats import call_stats

    total = call_stats(last_hours=rule.window_s / 3600, store=store).total
    if rule.metric == "p95_latency":
        value = total.latency_p95_s
        what = "p95 latency"
        shown = f"{value:.3f} s" if value is not None else "-"
        limit_shown = f"{rule.limit:.3f} s"
    else:
        value = total.error_rate if total.calls else None
        what = "error rate"
        shown = f"{value:.1%}" if value is not None else "-"
        limit_shown = f"{rule.limit:.1%}"
    over = value is not None and total.calls >= rule.min_calls and value > rule.limit
    if not over:
        if rule.firing:
            set_rule_firing(store, rule.name, False)
        return None
    if not set_rule_firing(store, rule.name, True):
        return None  # already firing: alerted at the crossing
    assert value is not None
    now = datetime.now(UTC)
    return emit_alert(
        store,
        kind=rule.metric,
        source=rule.name,
        dedupe_key=f"rule:{rule.name}:{now.isoformat()}",
        value=value,
        limit=rule.limit,
        message=(
            f"alert rule {rule.name!r}: {what} over the last {rule.window_s // 60} min is "
            f"{shown} across {total.calls} calls, above the limit {limit_shown}"
        ),
    )


class _Schedule:
    """When the rules of one store were last checked, and whether it has any (a component)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.last_check = -CHECK_INTERVAL_S
        self.has_rules: tuple[float, bool] | None = None

    def due(self) -> bool:
        """True at most once every ``CHECK_INTERVAL_S``."""
        now = time.monotonic()
        with self.lock:
            if now - self.last_check < CHECK_INTERVAL_S:
                return False
            self.last_check = now
        return True

    def any_rules(self) -> bool:
        """Whether the store has rules (cached ``CHECK_INTERVAL_S``)."""
        now = time.monotonic()
        hit = self.has_rules
        if hit is not None and now - hit[0] < CHECK_INTERVAL_S:
            return hit[1]
        found = self.store.any_rows("alert_rules")  # one cheap query, no SQLAlchemy
        self.has_rules = (now, found)
        return found

    def forget(self) -> None:
        """Rules changed in this process: look again on the next batch."""
        self.has_rules = None

    def after_fork(self) -> None:
        """A forked child needs its own lock."""
        self.lock = threading.Lock()


def _schedule(store: Store) -> _Schedule:
    return store.component(_Schedule, _Schedule)


def _after_batch(store: Store, rows: Sequence[Mapping[str, Any]]) -> None:
    """Recorder listener: check the rules now and then, off the callers' path."""
    schedule = _schedule(store)
    if schedule.due() and schedule.any_rules():
        check_alert_rules(store=store)


add_batch_listener(_after_batch)
