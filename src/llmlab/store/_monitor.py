"""SQL for budgets and their ledger (the rules live in ``llmlab.monitor``).

The budget check is one atomic statement per budget, inside a transaction that takes the
write lock first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row locks from ``UPDATE``)::

    UPDATE budget_usage SET reserved = reserved + :x
    WHERE budget = :b AND period_key = :p AND spent + reserved + :x <= :limit

so concurrent callers in any number of processes can never reserve past the limit. Money
is the exact ``Money`` type: ``Decimal`` dollars in Python, exact sums in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from llmlab.store._handle import Store
from llmlab.store._tables_calls import calls
from llmlab.store._tables_monitor import (
    budget_reservations,
    budget_usage,
    budgets,
)
from llmlab.store._upsert import insert_ignoring, upsert

__all__ = [
    "BudgetRow",
    "BudgetShortfall",
    "LedgerEntry",
    "Owner",
    "ReservationRow",
    "delete_budget",
    "list_budgets",
    "read_usage",
    "heartbeat_reservations",
    "list_reservations",
    "release_reservations",
    "spent_by_calls",
    "reserve_ledger",
    "settle_ledger",
    "SpentAfter",
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
    allow_unpriced: bool = False


@dataclass(frozen=True, slots=True)
class ReservationRow:
    """One outstanding reservation against one budget, with who holds it."""

    id: str
    budget: str
    period_key: str
    amount: Decimal
    created_at: datetime
    owner_pid: int
    owner_host: str
    heartbeat_at: datetime


@dataclass(frozen=True, slots=True)
class Owner:
    """The process a reservation belongs to."""

    pid: int
    host: str


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


def upsert_budget(
    store: Store, row: BudgetRow, period: tuple[str, datetime | None] | None = None
) -> None:
    """Create or replace a budget by name.

    A new budget (or one whose scope or period changed) starts its ledger from the money
    the calls it covers already spent in ``period`` (its current period key and start,
    None: since ever); a budget replaced with the same scope and period keeps its ledger.
    """
    values = {
        "name": row.name,
        "scope": row.scope,
        "scope_key": row.scope_key,
        "scope_value": row.scope_value,
        "period": row.period,
        "limit_amount": row.limit,
        "hard": row.hard,
        "thresholds": list(row.thresholds),
        "allow_unpriced": row.allow_unpriced,
        "created_at": row.created_at,
    }
    b = budgets.c
    with store.write() as conn:
        old = conn.execute(
            select(b.scope, b.scope_key, b.scope_value, b.period).where(b.name == row.name)
        ).first()
        same = old is not None and tuple(old) == (
            row.scope,
            row.scope_key,
            row.scope_value,
            row.period,
        )
        changed = (n for n in values if n != "name")
        conn.execute(upsert(store.dialect, budgets, ["name"], changed).values(**values))
        if same:
            return
        conn.execute(delete(budget_usage).where(budget_usage.c.budget == row.name))
        conn.execute(delete(budget_reservations).where(budget_reservations.c.budget == row.name))
        if period is None:
            return
        key, since = period
        conn.execute(
            insert(budget_usage).values(
                budget=row.name,
                period_key=key,
                spent=spent_by_calls(conn, row, since),
                reserved=Decimal(0),
                calls=0,
            )
        )


def spent_by_calls(conn: Connection, row: BudgetRow, since: datetime | None) -> Decimal:
    """What the recorded calls in a budget's scope cost since ``since`` (refused calls
    and unpriced ones count nothing)."""
    c = calls.c
    cond = [c.cost.is_not(None), c.status != "refused"]
    if since is not None:
        cond.append(c.started_at >= since)
    value = row.scope_value or ""
    if row.scope == "model":
        provider, sep, model = value.partition("/")
        by_model = c.requested_model == value
        cond.append(
            or_(by_model, and_(c.provider == provider, c.requested_model == model))
            if sep
            else by_model
        )
    elif row.scope == "provider":
        cond.append(c.provider == value)
    elif row.scope == "prompt":
        cond.append(c.prompt_name == value)
    if row.scope != "tag":
        total = conn.execute(select(func.sum(c.cost)).where(*cond)).scalar()
        return Decimal(total) if total is not None else Decimal(0)
    found = Decimal(0)
    for cost, tags in conn.execute(select(c.cost, c.tags).where(*cond)):
        if isinstance(tags, dict) and tags.get(row.scope_key) == value:
            found += cost
    return found


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
        b.thresholds, b.created_at, b.allow_unpriced,
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
            allow_unpriced=bool(allow),
        )
        for name, scope, key, value, period, limit, hard, thresholds, created_at, allow in rows
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
    stmt = insert_ignoring(conn.dialect.name, budget_usage, ["budget", "period_key"])
    for entry in entries:
        conn.execute(
            stmt.values(
                budget=entry.budget,
                period_key=entry.period_key,
                spent=Decimal(0),
                reserved=Decimal(0),
                calls=0,
            )
        )


class _Refused(Exception):
    def __init__(self, shortfall: BudgetShortfall):
        self.shortfall = shortfall


def reserve_ledger(
    store: Store, reservation_id: str, entries: Sequence[LedgerEntry], owner: Owner
) -> BudgetShortfall | None:
    """Reserve every entry atomically; on a hard limit's refusal reserve none of them."""
    now = datetime.now(UTC)
    try:
        with store.write() as conn:
            _reserve_all(conn, reservation_id, entries, now, owner)
    except _Refused as refused:
        return refused.shortfall
    return None


def _reserve_all(
    conn: Connection,
    reservation_id: str,
    entries: Sequence[LedgerEntry],
    now: datetime,
    owner: Owner,
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
                owner_pid=owner.pid,
                owner_host=owner.host,
                heartbeat_at=now,
            )
        )


def settle_ledger(
    store: Store,
    reservation_id: str,
    actual: Decimal | None,
    entries: Sequence[LedgerEntry] = (),
) -> list[SpentAfter]:
    """Replace a reservation by the real cost (None: release it, nothing spent).

    ``entries`` are what was reserved: a cost is still added to a budget whose
    reservation was released meanwhile (its holder was taken for dead), so money spent
    is never lost from the ledger. Returns the spend after it of each budget the call
    counted against.
    """
    out: list[SpentAfter] = []
    r = budget_reservations.c
    with store.write() as conn:
        rows = conn.execute(
            select(r.budget, r.period_key, r.amount).where(r.id == reservation_id)
        ).all()
        held = {(str(b), str(k)): amount for b, k, amount in rows}
        targets = list(held)
        if actual is not None:
            targets += [
                (e.budget, e.period_key) for e in entries if (e.budget, e.period_key) not in held
            ]
        if actual is not None and len(targets) > len(held):
            _ensure_usage_rows(
                conn,
                [LedgerEntry(b, k, Decimal(0), None) for b, k in targets if (b, k) not in held],
            )
        for budget, period_key in targets:
            amount = held.get((budget, period_key), Decimal(0))
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
            ).scalar()
            if spent is not None:
                out.append(SpentAfter(budget, period_key, spent))
        conn.execute(delete(budget_reservations).where(r.id == reservation_id))
    return out


def list_reservations(store: Store, budget: str | None = None) -> list[ReservationRow]:
    """Outstanding reservations (of one budget), oldest first."""
    r = budget_reservations.c
    stmt = select(
        r.id, r.budget, r.period_key, r.amount, r.created_at, r.owner_pid, r.owner_host,
        r.heartbeat_at,
    ).order_by(r.created_at)  # fmt: skip
    if budget is not None:
        stmt = stmt.where(r.budget == budget)
    with store.read() as conn:
        return [
            ReservationRow(str(i), str(b), str(k), a, c, int(pid), str(host), hb)
            for i, b, k, a, c, pid, host, hb in conn.execute(stmt).all()
        ]


def release_reservations(store: Store, found: Sequence[ReservationRow]) -> Decimal:
    """Release these reservations (their money is no longer held); returns how much was
    released (reservations already settled or released are skipped)."""
    released = Decimal(0)
    r = budget_reservations.c
    with store.write() as conn:
        for row in found:
            gone = conn.execute(
                delete(budget_reservations).where(r.id == row.id, r.budget == row.budget)
            ).rowcount
            if not gone:
                continue
            conn.execute(
                update(budget_usage)
                .where(
                    budget_usage.c.budget == row.budget,
                    budget_usage.c.period_key == row.period_key,
                )
                .values(reserved=budget_usage.c.reserved - row.amount)
            )
            released += row.amount
    return released


def heartbeat_reservations(store: Store, ids: Sequence[str]) -> None:
    """Mark these reservations' holder as alive now."""
    if not ids:
        return
    r = budget_reservations.c
    with store.write() as conn:
        conn.execute(
            update(budget_reservations)
            .where(r.id.in_(list(ids)))
            .values(heartbeat_at=datetime.now(UTC))
        )
