"""Money is exact on every backend: round trips, sums, comparisons, helpers for SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from llmlab.store import (
    CALL_COLUMNS,
    CallFilter,
    Money,
    Store,
    as_money,
    from_pico,
    insert_calls,
    money_float,
    money_scaled,
    recent_calls,
    to_pico,
)
from llmlab.store._tables_calls import calls

# 12 significant digits after six zeros: far below a float's resolution around the total.
TINY = Decimal("0.000000123457")
PRECISE = Decimal("0.123456789012")


def row(n: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(CALL_COLUMNS)
    base.update(
        id=f"money{n:027d}",
        started_at=datetime(2026, 1, 2, tzinfo=UTC) + timedelta(seconds=n),
        duration_s=0.5,
        provider="openai",
        requested_model="gpt-4o-mini",
        input_tokens=100,
        output_tokens=10,
        cache_read_tokens=0,
        cache_write_tokens=0,
        reasoning_tokens=0,
        usage_reported=True,
        currency="USD",
        cost_status="priced",
        status="ok",
        attempts=1,
        streamed=False,
        tags={},
        cache_hit=False,
    )
    base.update(changes)
    return base


def _costs(store: Store) -> dict[str, Decimal | None]:
    with store.read() as conn:
        return dict(conn.execute(select(calls.c.id, calls.c.cost)).all())


def test_costs_round_trip_exactly_through_both_insert_paths(store: Store) -> None:
    values = [TINY, PRECISE, Decimal("123456.000000000001"), Decimal(0), Decimal("-0.5"), None]
    # Every column present: the driver-level fast path; one missing: SQLAlchemy's insert.
    fast = [row(n, cost=value) for n, value in enumerate(values)]
    slow = [row(100 + n, cost=value) for n, value in enumerate(values)]
    for r in slow:
        del r["ttft_s"]
    insert_calls(store, fast)
    insert_calls(store, slow)
    got = _costs(store)
    for offset in (0, 100):
        for n, value in enumerate(values):
            stored = got[row(offset + n)["id"]]
            assert stored == value
            assert value is None or isinstance(stored, Decimal)


def test_sums_of_many_tiny_costs_are_exact(store: Store) -> None:
    # 16 significant digits each, more than a binary float holds (SQLite's NUMERIC affinity
    # stores REAL); the total, about $4.5 million, is near SQLite's pico-dollar range.
    costs = [Decimal(n) + TINY + Decimal("1e-12") * (n % 7) for n in range(3000)]
    insert_calls(store, [row(n, cost=c) for n, c in enumerate(costs)])
    expected = sum(costs, Decimal(0))
    # Summed as binary floats (what SQLite's NUMERIC affinity stores), the total drifts.
    assert Decimal(sum(float(c) for c in costs)).quantize(Decimal("1e-12")) != expected
    with store.read() as conn:
        total = conn.execute(select(func.sum(calls.c.cost))).scalar_one()
        tiny_total = conn.execute(
            select(func.sum(calls.c.cost)).where(calls.c.cost == TINY)
        ).scalar_one()
    assert isinstance(total, Decimal)
    assert total == expected
    assert tiny_total == TINY


def test_comparisons_bind_money_and_helpers_give_dollars(store: Store) -> None:
    insert_calls(
        store,
        [
            row(1, cost=Decimal("0.0000015")),
            row(2, cost=Decimal("0.0000025")),
            row(3, cost=Decimal("-0.0000015")),
            row(4, cost=None),
        ],
    )
    ids = {r.id for r in recent_calls(store, CallFilter(min_cost=Decimal("0.000002")))}
    assert ids == {row(2)["id"]}
    c = calls.c.cost
    with store.read() as conn:
        nanos = dict(conn.execute(select(calls.c.id, money_scaled(c, 9))).all())
        micros = dict(conn.execute(select(calls.c.id, money_scaled(c, 6))).all())
        mean = conn.execute(select(func.avg(money_float(c)))).scalar_one()
        doubled = conn.execute(select(func.sum(c * 2))).scalar_one()
    assert [nanos[row(n)["id"]] for n in (1, 2, 3, 4)] == [1500, 2500, -1500, None]
    # Half away from zero, the same on SQLite and PostgreSQL.
    assert [micros[row(n)["id"]] for n in (1, 2, 3, 4)] == [2, 3, -2, None]
    assert mean == pytest.approx(0.0000025 / 3)
    assert doubled == Decimal("0.000005")


def test_more_than_twelve_decimals_round_half_away_from_zero_on_every_backend(
    store: Store,
) -> None:
    insert_calls(
        store,
        [
            row(1, cost=Decimal("0.0000001234565")),
            row(2, cost=Decimal("-0.0000001234565")),
            row(3, cost=Decimal("0.00000012345649999")),
        ],
    )
    got = _costs(store)
    assert [got[row(n)["id"]] for n in (1, 2, 3)] == [
        Decimal("0.000000123457"),
        Decimal("-0.000000123457"),
        Decimal("0.000000123456"),
    ]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_floats_are_refused(dialect: object) -> None:
    with pytest.raises(TypeError, match="floats are not exact"):
        Money().process_bind_param(0.1, dialect)  # type: ignore[arg-type]


def test_sqlite_stores_integer_pico_dollars(tmp_path: Path) -> None:
    with Store(str(tmp_path / "raw.db")) as store:
        insert_calls(store, [row(1, cost=PRECISE)])
        with store.read() as conn:
            raw = conn.exec_driver_sql("SELECT cost, typeof(cost) FROM calls").one()
    assert tuple(raw) == (123456789012, "integer")


@pytest.mark.parametrize(
    ("amount", "pico"),
    [
        (Decimal("0.0000001125"), 112_500),  # 112.5 nano-dollars: exact, no rounding at all
        (Decimal("0.0000000000005"), 1),  # half a pico-dollar: away from zero
        (Decimal("-0.0000000000005"), -1),
        (Decimal("0.0000000000004999"), 0),
        (Decimal("0.0000000000015"), 2),
        ("1.25", 1_250_000_000_000),
        (3, 3_000_000_000_000),
    ],
)
def test_one_unit_and_one_rounding_rule(amount: Decimal | str | int, pico: int) -> None:
    assert to_pico(amount) == pico
    assert from_pico(pico) == as_money(amount)
    assert as_money(amount) == Decimal(pico).scaleb(-12)


def test_every_money_column_is_the_money_type() -> None:
    from llmlab.store import metadata

    money_like = ("cost", "limit_amount", "spent", "reserved", "amount")
    found = {
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if column.name in money_like or "nanos" in column.name or "pico" in column.name
    }
    assert found  # the calls, budgets, ledger and rollup columns
    for name in found:
        table, column = name.split(".")
        assert isinstance(metadata.tables[table].c[column].type, Money), name
