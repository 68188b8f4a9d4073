"""SQL for alerts, their webhook outbox and alert rules (the rules live in
``llmlab.monitor``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, update

from llmlab._json import JsonObject
from llmlab.store._handle import Store
from llmlab.store._tables_monitor import alert_rules, alerts
from llmlab.store._upsert import insert_ignoring, upsert

__all__ = [
    "AlertRow",
    "AlertRuleRow",
    "claim_delivery",
    "delete_alert_rule",
    "due_deliveries",
    "insert_alert",
    "list_alert_rules",
    "list_alerts",
    "pending_deliveries",
    "set_delivery",
    "set_rule_firing",
    "upsert_alert_rule",
]


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One row of ``alerts`` (``id`` None before it is inserted)."""

    created_at: datetime
    kind: str
    source: str
    dedupe_key: str
    value: float
    limit_value: float
    message: str
    delivery: str
    delivery_state: str = ""
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None

    def to_dict(self) -> JsonObject:
        """JSON-ready dict (``created_at`` as ISO text)."""
        out: JsonObject = {name: getattr(self, name) for name in _ALERT_FIELDS}
        for name in ("created_at", "next_attempt_at", "delivered_at"):
            moment = getattr(self, name)
            out[name] = moment.isoformat() if moment is not None else None
        return out


@dataclass(frozen=True, slots=True)
class AlertRuleRow:
    """One row of ``alert_rules``."""

    name: str
    metric: str
    window_s: int
    limit_value: float
    min_calls: int
    firing: bool
    created_at: datetime


def insert_alert(store: Store, row: AlertRow) -> bool:
    """Insert an alert unless one with the same ``dedupe_key`` exists; True if inserted."""
    values = {name: getattr(row, name) for name in _ALERT_FIELDS if name != "id"}
    stmt = insert_ignoring(store.dialect, alerts, ["dedupe_key"]).values(**values)
    with store.write() as conn:
        return conn.execute(stmt.returning(alerts.c.id)).first() is not None


_ALERT_FIELDS = tuple(f.name for f in fields(AlertRow))
_RULE_FIELDS = tuple(f.name for f in fields(AlertRuleRow))


def list_alerts(store: Store, limit: int = 50) -> list[AlertRow]:
    """The newest alerts first."""
    stmt = (
        select(*(alerts.c[name] for name in _ALERT_FIELDS))
        .order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
        .limit(limit)
    )
    with store.read() as conn:
        return [AlertRow(*row) for row in conn.execute(stmt).all()]


def due_deliveries(store: Store, now: datetime, limit: int = 50) -> list[AlertRow]:
    """Alerts waiting for webhook delivery whose next attempt is due, oldest first."""
    a = alerts.c
    stmt = (
        select(*(a[name] for name in _ALERT_FIELDS))
        .where(
            a.delivery_state == "pending",
            or_(a.next_attempt_at.is_(None), a.next_attempt_at <= now),
        )
        .order_by(a.id)
        .limit(limit)
    )
    with store.read() as conn:
        return [AlertRow(*row) for row in conn.execute(stmt).all()]


def pending_deliveries(store: Store) -> tuple[int, datetime | None]:
    """How many alerts wait for delivery, and when the soonest is due."""
    a = alerts.c
    stmt = select(func.count(), func.min(a.next_attempt_at)).where(a.delivery_state == "pending")
    with store.read() as conn:
        count, soonest = conn.execute(stmt).one()
    return int(count or 0), soonest


def claim_delivery(store: Store, row: AlertRow, until: datetime) -> bool:
    """Take a due delivery for this sender until ``until`` (another process sees it as
    not due meanwhile); False when someone else took or finished it."""
    a = alerts.c
    due = (
        a.next_attempt_at.is_(None)
        if row.next_attempt_at is None
        else (a.next_attempt_at == row.next_attempt_at)
    )
    with store.write() as conn:
        taken = conn.execute(
            update(alerts)
            .where(a.id == row.id, a.delivery_state == "pending", due)
            .values(next_attempt_at=until)
        ).rowcount
    return bool(taken)


def set_delivery(
    store: Store,
    alert_id: int,
    *,
    state: str,
    attempts: int,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome of a delivery attempt."""
    values: dict[str, object] = {
        "delivery_state": state,
        "attempts": attempts,
        "next_attempt_at": next_attempt_at,
        "last_error": error,
    }
    if state == "delivered":
        values["delivered_at"] = datetime.now(UTC)
    with store.write() as conn:
        conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))


def upsert_alert_rule(store: Store, row: AlertRuleRow) -> None:
    """Create or replace an alert rule by name."""
    values = {name: getattr(row, name) for name in _RULE_FIELDS}
    stmt = upsert(store.dialect, alert_rules, ["name"], (n for n in values if n != "name"))
    with store.write() as conn:
        conn.execute(stmt.values(**values))


def delete_alert_rule(store: Store, name: str) -> bool:
    """Delete a rule; False when there was none."""
    with store.write() as conn:
        return bool(conn.execute(delete(alert_rules).where(alert_rules.c.name == name)).rowcount)


def list_alert_rules(store: Store) -> list[AlertRuleRow]:
    """Every alert rule, by name."""
    stmt = select(*(alert_rules.c[name] for name in _RULE_FIELDS)).order_by(alert_rules.c.name)
    with store.read() as conn:
        return [
            AlertRuleRow(
                name, metric, int(window), float(limit), int(min_calls), bool(firing), created
            )
            for name, metric, window, limit, min_calls, firing, created in conn.execute(stmt)
        ]


def set_rule_firing(store: Store, name: str, firing: bool) -> bool:
    """Flip a rule's state; True when it changed (so the crossing is reported once)."""
    with store.write() as conn:
        changed = conn.execute(
            update(alert_rules)
            .where(alert_rules.c.name == name, alert_rules.c.firing == (not firing))
            .values(firing=firing)
        ).rowcount
    return bool(changed)
