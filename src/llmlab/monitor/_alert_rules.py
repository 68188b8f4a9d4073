"""Alert rules on call quality: p95 latency or error rate over a sliding window.

Rules are checked after recorded batches (at most every ``CHECK_INTERVAL_S`` per store
and process) and by :func:`check_alert_rules`. A rule alerts once when it starts firing
and re-arms when the metric is back under its limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from llmlab._errors import InputError, NotFoundError
from llmlab.monitor._alerts import Alert, emit_alert
from llmlab.monitor._recorder import add_batch_listener
from llmlab.monitor._stats import call_stats
from llmlab.monitor._window import parse_instant
from llmlab.store import (
    delete_alert_rule,
    get_engine,
    list_alert_rules,
    set_rule_firing,
    upsert_alert_rule,
)

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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "metric": self.metric,
            "window_s": self.window_s,
            "limit": self.limit,
            "min_calls": self.min_calls,
            "firing": self.firing,
        }


def set_alert_rule(
    name: str,
    metric: str,
    limit: float,
    *,
    window: str = "15m",
    min_calls: int = 10,
    url: str | None = None,
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
    values = {
        "name": name,
        "metric": metric,
        "window_s": window_s,
        "limit_value": float(limit),
        "min_calls": max(1, min_calls),
        "firing": False,
        "created_at": now,
    }
    upsert_alert_rule(get_engine(url), values)
    _rule_cache.clear()
    return _to_rule(values)


def remove_alert_rule(name: str, *, url: str | None = None) -> None:
    """Delete a rule.

    Raises:
        NotFoundError: no rule by that name.
    """
    engine = get_engine(url)
    if not delete_alert_rule(engine, name):
        raise NotFoundError("alert rule", name, candidates=[r.name for r in list_rules(url=url)])
    _rule_cache.clear()


def list_rules(*, url: str | None = None) -> list[AlertRule]:
    """Every rule, by name."""
    return [_to_rule(r) for r in list_alert_rules(get_engine(url))]


def _to_rule(row: Mapping[str, Any]) -> AlertRule:
    return AlertRule(
        name=row["name"],
        metric=row["metric"],
        window_s=int(row["window_s"]),
        limit=float(row["limit_value"]),
        min_calls=int(row["min_calls"]),
        firing=bool(row["firing"]),
    )


def check_alert_rules(*, url: str | None = None) -> list[Alert]:
    """Evaluate every rule now; returns the alerts raised (rules that started firing)."""
    engine = get_engine(url)
    raised = []
    for rule in list_rules(url=url):
        alert = _check(engine, rule, url)
        if alert is not None:
            raised.append(alert)
    return raised


def _check(engine: Engine, rule: AlertRule, url: str | None) -> Alert | None:
    total = call_stats(last_hours=rule.window_s / 3600, url=url).total
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
            set_rule_firing(engine, rule.name, False)
        return None
    if not set_rule_firing(engine, rule.name, True):
        return None  # already firing: alerted at the crossing
    assert value is not None
    now = datetime.now(UTC)
    return emit_alert(
        engine,
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


_rule_cache: dict[str, tuple[float, bool]] = {}
_last_check: dict[str, float] = {}
_check_lock = threading.Lock()


def _has_rules(engine: Engine, key: str) -> bool:
    hit = _rule_cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CHECK_INTERVAL_S:
        return hit[1]
    found = bool(list_alert_rules(engine))
    _rule_cache[key] = (now, found)
    return found


def _after_batch(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Recorder listener: check the rules now and then, off the callers' path."""
    key = engine.url.render_as_string(hide_password=False)
    now = time.monotonic()
    with _check_lock:
        if now - _last_check.get(key, -CHECK_INTERVAL_S) < CHECK_INTERVAL_S:
            return
        _last_check[key] = now
    if _has_rules(engine, key):
        check_alert_rules(url=key)


add_batch_listener(_after_batch)
