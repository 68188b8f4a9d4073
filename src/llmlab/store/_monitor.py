"""SQL for budgets, their ledger and alerts (the rules live in ``llmlab.monitor``).

The budget check is one atomic statement per budget, inside a transaction that takes the
write lock first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row locks from ``UPDATE``)::

    UPDATE budget_usage SET reserved = reserved + :x
    WHERE budget = :b AND period_key = :p AND spent + reserved + :x <= :limit

so concurrent callers in any number of processes can never reserve past the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from llmlab.store._sqlite import begin_write
from llmlab.store._tables_monitor import (
    alert_rules,
    alerts,
    budget_reservations,
    budget_usage,
    budgets,
)

__all__ = [
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
    limit_nanos: int
    hard: bool
    thresholds: tuple[float, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A reservation against one budget in one period (``limit_nanos`` None: soft)."""

    budget: str
    period_key: str
    amount_nanos: int
    limit_nanos: int | None


@dataclass(frozen=True, slots=True)
class BudgetShortfall:
    """Why a reservation was refused."""

    budget: str
    spent_nanos: int
    reserved_nanos: int
    limit_nanos: int
    requested_nanos: int


def upsert_budget(engine: Engine, row: BudgetRow) -> None:
    """Create or replace a budget by name."""
    values = {
        "name": row.name,
        "scope": row.scope,
        "scope_key": row.scope_key,
        "scope_value": row.scope_value,
        "period": row.period,
        "limit_nanos": row.limit_nanos,
        "hard": row.hard,
        "thresholds": list(row.thresholds),
        "created_at": row.created_at,
    }
    with begin_write(engine) as conn:
        conn.execute(delete(budgets).where(budgets.c.name == row.name))
        conn.execute(insert(budgets).values(**values))


def delete_budget(engine: Engine, name: str) -> bool:
    """Remove a budget and its ledger; False when no such budget."""
    with begin_write(engine) as conn:
        gone = conn.execute(delete(budgets).where(budgets.c.name == name)).rowcount
        conn.execute(delete(budget_usage).where(budget_usage.c.budget == name))
        conn.execute(delete(budget_reservations).where(budget_reservations.c.budget == name))
    return bool(gone)


def list_budgets(engine: Engine) -> list[BudgetRow]:
    """Every budget, by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(budgets).order_by(budgets.c.name)).mappings().all()
    return [
        BudgetRow(
            name=r["name"],
            scope=r["scope"],
            scope_key=r["scope_key"],
            scope_value=r["scope_value"],
            period=r["period"],
            limit_nanos=int(r["limit_nanos"]),
            hard=bool(r["hard"]),
            thresholds=tuple(float(t) for t in (r["thresholds"] or [])),
            created_at=r["created_at"],
        )
        for r in rows
    ]


def read_usage(
    engine: Engine, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(spent, reserved) nanos for each (budget, period_key); missing rows are (0, 0)."""
    out: dict[tuple[str, str], tuple[int, int]] = {k: (0, 0) for k in keys}
    if not keys:
        return out
    with engine.connect() as conn:
        for budget, period_key in keys:
            row = conn.execute(
                select(budget_usage.c.spent_nanos, budget_usage.c.reserved_nanos).where(
                    budget_usage.c.budget == budget, budget_usage.c.period_key == period_key
                )
            ).first()
            if row is not None:
                out[(budget, period_key)] = (int(row[0]), int(row[1]))
    return out


def _ensure_usage_rows(conn: Connection, entries: Sequence[LedgerEntry]) -> None:
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for entry in entries:
        conn.execute(
            dialect_insert(budget_usage)
            .values(
                budget=entry.budget,
                period_key=entry.period_key,
                spent_nanos=0,
                reserved_nanos=0,
                calls=0,
            )
            .on_conflict_do_nothing()
        )


class _Refused(Exception):
    def __init__(self, shortfall: BudgetShortfall):
        self.shortfall = shortfall


def reserve_ledger(
    engine: Engine, reservation_id: str, entries: Sequence[LedgerEntry]
) -> BudgetShortfall | None:
    """Reserve every entry atomically; on a hard limit's refusal reserve none of them."""
    now = datetime.now(UTC)
    try:
        with begin_write(engine) as conn:
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
        if entry.limit_nanos is not None:
            cond.append(
                budget_usage.c.spent_nanos + budget_usage.c.reserved_nanos + entry.amount_nanos
                <= entry.limit_nanos
            )
        done = conn.execute(
            update(budget_usage)
            .where(and_(*cond))
            .values(reserved_nanos=budget_usage.c.reserved_nanos + entry.amount_nanos)
        ).rowcount
        if not done:
            spent, reserved = conn.execute(
                select(budget_usage.c.spent_nanos, budget_usage.c.reserved_nanos).where(*cond[:2])
            ).one()
            raise _Refused(
                BudgetShortfall(
                    entry.budget,
                    int(spent),
                    int(reserved),
                    int(entry.limit_nanos or 0),
                    entry.amount_nanos,
                )
            )
        conn.execute(
            insert(budget_reservations).values(
                id=reservation_id,
                budget=entry.budget,
                period_key=entry.period_key,
                amount_nanos=entry.amount_nanos,
                created_at=now,
            )
        )


def settle_ledger(
    engine: Engine, reservation_id: str, actual_nanos: int | None
) -> list[tuple[str, str, int]]:
    """Replace a reservation by the real cost (None: release it, nothing spent).

    Returns (budget, period_key, spent_nanos after) for each budget the call counted against.
    """
    out: list[tuple[str, str, int]] = []
    with begin_write(engine) as conn:
        rows = conn.execute(
            select(
                budget_reservations.c.budget,
                budget_reservations.c.period_key,
                budget_reservations.c.amount_nanos,
            ).where(budget_reservations.c.id == reservation_id)
        ).all()
        for budget, period_key, amount in rows:
            spent_add = int(actual_nanos or 0)
            conn.execute(
                update(budget_usage)
                .where(budget_usage.c.budget == budget, budget_usage.c.period_key == period_key)
                .values(
                    reserved_nanos=budget_usage.c.reserved_nanos - int(amount),
                    spent_nanos=budget_usage.c.spent_nanos + spent_add,
                    calls=budget_usage.c.calls + (1 if actual_nanos is not None else 0),
                )
            )
            spent = conn.execute(
                select(budget_usage.c.spent_nanos).where(
                    budget_usage.c.budget == budget, budget_usage.c.period_key == period_key
                )
            ).scalar_one()
            out.append((str(budget), str(period_key), int(spent)))
        conn.execute(delete(budget_reservations).where(budget_reservations.c.id == reservation_id))
    return out


def release_stale_reservations(engine: Engine, budget: str, older_than: datetime) -> int:
    """Release reservations left by processes that died mid-call; returns how many."""
    with begin_write(engine) as conn:
        rows = conn.execute(
            select(
                budget_reservations.c.id,
                budget_reservations.c.period_key,
                budget_reservations.c.amount_nanos,
            ).where(
                budget_reservations.c.budget == budget,
                budget_reservations.c.created_at < older_than,
            )
        ).all()
        for rid, period_key, amount in rows:
            conn.execute(
                update(budget_usage)
                .where(budget_usage.c.budget == budget, budget_usage.c.period_key == period_key)
                .values(reserved_nanos=budget_usage.c.reserved_nanos - int(amount))
            )
            conn.execute(
                delete(budget_reservations).where(
                    budget_reservations.c.id == rid, budget_reservations.c.budget == budget
                )
            )
    return len(rows)


def insert_alert(engine: Engine, values: dict[str, Any]) -> bool:
    """Insert an alert unless one with the same ``dedupe_key`` exists; True if inserted."""
    try:
        with begin_write(engine) as conn:
            exists = conn.execute(
                select(alerts.c.id).where(alerts.c.dedupe_key == values["dedupe_key"])
            ).first()
            if exists is not None:
                return False
            conn.execute(insert(alerts).values(**values))
    except IntegrityError:
        return False
    return True


def list_alerts(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The newest alerts first."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def upsert_alert_rule(engine: Engine, values: dict[str, Any]) -> None:
    """Create or replace an alert rule by name."""
    with begin_write(engine) as conn:
        conn.execute(delete(alert_rules).where(alert_rules.c.name == values["name"]))
        conn.execute(insert(alert_rules).values(**values))


def delete_alert_rule(engine: Engine, name: str) -> bool:
    """Delete a rule; False when there was none."""
    with begin_write(engine) as conn:
        return bool(conn.execute(delete(alert_rules).where(alert_rules.c.name == name)).rowcount)


def list_alert_rules(engine: Engine) -> list[dict[str, Any]]:
    """Every alert rule, by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(alert_rules).order_by(alert_rules.c.name)).mappings().all()
    return [dict(r) for r in rows]


def set_rule_firing(engine: Engine, name: str, firing: bool) -> bool:
    """Flip a rule's state; True when it changed (so the crossing is reported once)."""
    with begin_write(engine) as conn:
        changed = conn.execute(
            update(alert_rules)
            .where(alert_rules.c.name == name, alert_rules.c.firing == (not firing))
            .values(firing=firing)
        ).rowcount
    return bool(changed)
