"""SQL for budgets, their ledger and alerts (the rules live in ``llmlab.monitor``).

The budget check is one atomic statement per budget, inside a transaction that takes the
write lock first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row locks from ``UPDATE``)::

    UPDATE budget_usage SET reserved = reserved + :x
    WHERE budget = :b AND period_key = :p AND spent + reserved + :x <= :limit

so concurrent callers in any number of processes can never reserve past the limit. Money
is the exact ``Money`` type: ``Decimal`` dollars in Python, exact sums in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from llmlab.store._handle import Store
from llmlab.store._tables_monitor import (
    alert_rules,
    alerts,
    budget_reservations,
    budget_usage,
    budgets,
)

__all__ = [
    "AlertRow",
    "AlertRuleRow",
    "BudgetRow",
    "BudgetShortfall",
    "LedgerEntry",
    "delete_alert_rule",
    "delete_budget",
    "insert_alert",
    "list_alert_rules",
    "list_alerts",
    "list_budgets",
    "read_usage",
    "release_stale_reservations",
    "reserve_ledger",
    "set_rule_firing",
    "settle_ledger",
    "SpentAfter",
    "upsert_alert_rule",
    "upsert_budget",
]


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One row of ``budgets``."""

    name: str
    scope: str
    scope_key: str | None
    scope_value: str | None
    period: str
    limit: Decimal
    hard: bool
    thresholds: tuple[float, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A reservation against one budget in one period (``limit`` None: soft)."""

    budget: str
    period_key: str
    amount: Decimal
    limit: Decimal | None


@dataclass(frozen=True, slots=True)
class BudgetShortfall:
    """Why a reservation was refused."""

    budget: str
    spent: Decimal
    reserved: Decimal
    limit: Decimal
    requested: Decimal


@dataclass(frozen=True, slots=True)
class SpentAfter:
    """A budget's spend in one period after a call was settled."""

    budget: str
    period_key: str
    spent: Decimal


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
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``created_at`` as ISO text)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _ALERT_FIELDS}
        out["created_at"] = self.created_at.isoformat()
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


def upsert_budget(store: Store, row: BudgetRow) -> None:
    """Create or replace a budget by name."""
    values = {
        "name": row.name,
        "scope": row.scope,
        "scope_key": row.scope_key,
        "scope_value": row.scope_value,
        "period": row.period,
        "limit_amount": row.limit,
        "hard": row.hard,
        "thresholds": list(row.thresholds),
        "created_at": row.created_at,
    }
    with store.write() as conn:
        conn.execute(delete(budgets).where(budgets.c.name == row.name))
        conn.execute(insert(budgets).values(**values))


def delete_budget(store: Store, name: str) -> bool:
    """Remove a budget and its ledger; False when no such budget."""
    with store.write() as conn:
        gone = conn.execute(delete(budgets).where(budgets.c.name == name)).rowcount
        conn.execute(delete(budget_usage).where(budget_usage.c.budget == name))
        conn.execute(delete(budget_reservations).where(budget_reservations.c.budget == name))
    return bool(gone)


def list_budgets(store: Store) -> list[BudgetRow]:
    """Every budget, by name."""
    b = budgets.c
    stmt = select(
        b.name, b.scope, b.scope_key, b.scope_value, b.period, b.limit_amount, b.hard,
        b.thresholds, b.created_at,
    ).order_by(b.name)  # fmt: skip
    with store.read() as conn:
        rows = conn.execute(stmt).all()
    return [
        BudgetRow(
            name=name,
            scope=scope,
            scope_key=key,
            scope_value=value,
            period=period,
            limit=limit,
            hard=bool(hard),
            thresholds=tuple(float(t) for t in (thresholds or [])),
            created_at=created_at,
        )
        for name, scope, key, value, period, limit, hard, thresholds, created_at in rows
    ]


def read_usage(
    store: Store, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(spent, reserved) dollars for each (budget, period_key); missing rows are (0, 0)."""
    zero = Decimal(0)
    out: dict[tuple[str, str], tuple[Decimal, Decimal]] = {k: (zero, zero) for k in keys}
    if not keys:
        return out
    with store.read() as conn:
        for budget, period_key in keys:
            row = conn.execute(
                select(budget_usage.c.spent, budget_usage.c.reserved).where(
                    budget_usage.c.budget == budget, budget_usage.c.period_key == period_key
                )
            ).first()
            if row is not None:
                out[(budget, period_key)] = (row[0], row[1])
    return out


def _ensure_usage_rows(conn: Connection, entries: Sequence[LedgerEntry]) -> None:
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for entry in entries:
        conn.execute(
            dialect_insert(budget_usage)
            .values(
                budget=entry.budget,
                period_key=entry.period_key,
                spent=Decimal(0),
                reserved=Decimal(0),
                calls=0,
            )
            .on_conflict_do_nothing()
        )


class _Refused(Exception):
    def __init__(self, shortfall: BudgetShortfall):
        self.shortfall = shortfall


def reserve_ledger(
    store: Store, reservation_id: str, entries: Sequence[LedgerEntry]
) -> BudgetShortfall | None:
    """Reserve every entry atomically; on a hard limit's refusal reserve none of them."""
    now = datetime.now(UTC)
    try:
        with store.write() as conn:
            _reserve_all(conn, reservation_id, entries, now)
    except _Refused as refused:
        return refused.shortfall
    return None


def _reserve_all(
    conn: Connection, reservation_id: str, entries: Sequence[LedgerEntry], now: datetime
) -> None:
    _ensure_usage_rows(conn, entries)
    for entry in entries:
        cond = [
            budget_usage.c.budget == entry.budget,
            budget_usage.c.period_key == entry.period_key,
        ]
        if entry.limit is not None:
            cond.append(
                budget_usage.c.spent + budget_usage.c.reserved + entry.amount <= entry.limit
            )
        done = conn.execute(
            update(budget_usage)
            .where(and_(*cond))
            .values(reserved=budget_usage.c.reserved + entry.amount)
        ).rowcount
        if not done:
            spent, reserved = conn.execute(
                select(budget_usage.c.spent, budget_usage.c.reserved).where(*cond[:2])
            ).one()
            limit = entry.limit if entry.limit is not None else Decimal(0)
            raise _Refused(BudgetShortfall(entry.budget, spent, reserved, limit, entry.amount))
        conn.execute(
            insert(budget_reservations).values(
                id=reservation_id,
                budget=entry.budget,
                period_key=entry.period_key,
                amount=entry.amount,
                created_at=now,
            )
        )


def settle_ledger(store: Store, reservation_id: str, actual: Decimal | None) -> list[SpentAfter]:
    """Replace a reservation by the real cost (None: release it, nothing spent).

    Returns the spend after it of each budget the call counted against.
    """
    out: list[SpentAfter] = []
    with store.write() as conn:
        rows = conn.execute(
            select(
                budget_reservations.c.budget,
                budget_reservations.c.period_key,
                budget_reservations.c.amount,
            ).where(budget_reservations.c.id == reservation_id)
        ).all()
        for budget, period_key, amount in rows:
            spent_add = actual if actual is not None else Decimal(0)
            conn.execute(
                update(budget_usage)
                .where(budget_usage.c.budget == budget, budget_usage.c.period_key == period_key)
                .values(
                    reserved=budget_usage.c.reserved - amount,
                    spent=budget_usage.c.spent + spent_add,
                    calls=budget_usage.c.calls + (1 if actual is not None else 0),
                )
            )
            spent = conn.execute(
                select(budget_usage.c.spent).where(
                    budget_usage.c.budget == budget, budget_usage.c.period_key == period_key
                )
            ).scalar_one()
            out.append(SpentAfter(str(budget), str(period_key), spent))
        conn.execute(delete(budget_reservations).where(budget_reservations.c.id == reservation_id))
    return out


def release_stale_reservations(store: Store, budget: str, older_than: datetime) -> int:
    """Release reservations left by processes that died mid-call; returns how many."""
    with store.write() as conn:
        rows = conn.execute(
            select(
                budget_reservations.c.id,
                budget_reservations.c.period_key,
                budget_reservations.c.amount,
            ).where(
                budget_reservations.c.budget == budget,
                budget_reservations.c.created_at < older_than,
            )
        ).all()
        for rid, period_key, amount in rows:
            conn.execute(
                update(budget_usage)
                .where(budget_usage.c.budget == budget, budget_usage.c.period_key == period_key)
                .values(reserved=budget_usage.c.reserved - amount)
            )
            conn.execute(
                delete(budget_reservations).where(
                    budget_reservations.c.id == rid, budget_reservations.c.budget == budget
                )
            )
    return len(rows)


def insert_alert(store: Store, row: AlertRow) -> bool:
    """Insert an alert unless one with the same ``dedupe_key`` exists; True if inserted."""
    values = {name: getattr(row, name) for name in _ALERT_FIELDS if name != "id"}
    try:
        with store.write() as conn:
            exists = conn.execute(
                select(alerts.c.id).where(alerts.c.dedupe_key == row.dedupe_key)
            ).first()
            if exists is not None:
                return False
            conn.execute(insert(alerts).values(**values))
    except IntegrityError:
        return False
    return True


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


def upsert_alert_rule(store: Store, row: AlertRuleRow) -> None:
    """Create or replace an alert rule by name."""
    values = {name: getattr(row, name) for name in _RULE_FIELDS}
    with store.write() as conn:
        conn.execute(delete(alert_rules).where(alert_rules.c.name == row.name))
        conn.execute(insert(alert_rules).values(**values))


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
