"""The one SQLAlchemy MetaData every table module registers on, and the exact money type.

Money is exact everywhere (unit and rounding: ``llmlab.store._money``):
``NUMERIC(30, 12)`` where the database has exact decimals (PostgreSQL), integer
pico-dollars (10**-12) on SQLite, whose NUMERIC affinity would store a binary float.
Python code only ever sees ``Decimal``. In SQL, compare a money column with
Decimal values (``cost >= Decimal("0.01")``) and ``sum``/``min``/``max`` it freely (their
type follows the column); to turn it into anything else use ``money_float`` (dollars as a
float, for means and moments) or ``money_scaled`` (an integer count of 10**-digits dollars):
a bare ``cast`` or arithmetic would see pico-dollars on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Float, MetaData, Numeric
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Integer, TypeDecorator, TypeEngine

from llmlab.store._money import MONEY_SCALE, as_money, from_pico, to_pico

__all__ = [
    "MONEY",
    "MONEY_SCALE",
    "Money",
    "UtcDateTime",
    "metadata",
    "money_float",
    "money_scaled",
]

# Stable constraint names so that migrations are reproducible on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Operators whose other operand is a plain number, not an amount of money.
_SCALING_OPERATORS = frozenset(
    {operators.mul, operators.truediv, operators.floordiv, operators.mod}
)


class Money(TypeDecorator[Decimal]):
    """An exact amount of money (USD unless a currency column says otherwise).

    Stored as ``NUMERIC(30, 12)``, or as integer pico-dollars on SQLite (exact up to
    about $9.2 million per value and per ``sum``). Values are rounded half away from zero
    to 12 decimal places on every backend alike; floats are refused.
    """

    impl = Numeric(30, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(30, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_pico(value)
        return as_money(value)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "NULL" if bound is None else str(bound)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            # Integer pico-dollars; an average (AVG) comes back as a float of them.
            return from_pico(value if isinstance(value, int) else Decimal(repr(value)))
        if isinstance(value, Decimal):
            return value
        return Decimal(repr(value) if isinstance(value, float) else value)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # ``cost * 1000``: the 1000 is a number, not $1000 (which SQLite would bind as pico).
        if op in _SCALING_OPERATORS:
            return Integer() if isinstance(value, int) else Numeric(asdecimal=True)
        return self


MONEY = Money()
"""The type of every money column."""


class money_float(FunctionElement[float]):  # noqa: N801 (SQL function style)
    """A money column as dollars in a binary float (means, variances: not for totals)."""

    type = Float()
    inherit_cache = True
    name = "money_float"


class money_scaled(FunctionElement[int]):  # noqa: N801 (SQL function style)
    """A money column as an integer count of 10**-digits dollars, rounded half away from
    zero: ``money_scaled(calls.c.cost, 9)`` is nano-dollars. ``digits`` is 0 to 12."""

    type = BigInteger()
    inherit_cache = True
    name = "money_scaled"
    # ``digits`` changes the SQL: it must be part of the statement cache key.
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("digits", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: Any, digits: int) -> None:
        if not 0 <= digits <= MONEY_SCALE:
            raise ValueError(f"money_scaled: digits must be 0..{MONEY_SCALE}, not {digits}")
        self.digits = digits
        super().__init__(column)


@compiles(money_float)
def _money_float(element: money_float, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS FLOAT)"


@compiles(money_float, "sqlite")
def _money_float_sqlite(element: money_float, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS REAL) / 1e{MONEY_SCALE})"


@compiles(money_scaled)
def _money_scaled(element: money_scaled, compiler: SQLCompiler, **kw: Any) -> str:
    # NUMERIC rounding is half away from zero on PostgreSQL.
    return f"CAST(ROUND({compiler.process(element.clauses, **kw)} * 1e{element.digits}) AS BIGINT)"


@compiles(money_scaled, "sqlite")
def _money_scaled_sqlite(element: money_scaled, compiler: SQLCompiler, **kw: Any) -> str:
    pico = compiler.process(element.clauses, **kw)
    divisor = 10 ** (MONEY_SCALE - element.digits)
    if divisor == 1:
        return f"({pico})"
    half = divisor // 2
    # Integer division truncates toward zero: add half away from zero first (exact).
    return f"(({pico} + CASE WHEN {pico} >= 0 THEN {half} ELSE -{half} END) / {divisor})"


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time, always read back timezone-aware in UTC.

    SQLite keeps no offset, so values are stored as naive UTC there; PostgreSQL stores
    ``timestamptz``. A naive value given to it is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not isinstance(value, datetime):
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
