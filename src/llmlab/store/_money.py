"""The one unit and the one rounding rule for money, and the only converters.

Every money column (call costs, budgets and their ledger, rollups) is the
:class:`~llmlab.store._metadata.Money` type: exact dollars rounded half away from zero to
12 decimal places (one pico-dollar). PostgreSQL stores them as ``NUMERIC(30, 12)``,
SQLite as integer pico-dollars. Python code sees ``Decimal`` dollars, or, where sums run
in bulk (rollups, stats), integer pico-dollars; these functions are the only conversions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "MONEY_SCALE",
    "PICO",
    "as_money",
    "from_pico",
    "money_from_driver",
    "money_to_driver",
    "to_pico",
]

MONEY_SCALE = 12
"""Digits after the point: fractions of a micro-dollar matter for per-token prices."""
PICO = 10**MONEY_SCALE
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
# Wide enough for NUMERIC(30, 12) and any pico-dollar BIGINT, whatever the thread's context.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)
_BIGINT_MAX = 2**63 - 1


def as_money(value: Any) -> Decimal:
    """``value`` (Decimal, int or numeric text) as exact dollars, rounded half away from
    zero to one pico-dollar: THE rounding rule. Floats are refused (not exact).

    Raises:
        TypeError: a float or another non-number.
        ValueError: text that is no number, or an infinite / NaN amount.
    """
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not an amount of money: {value!r}") from None
    else:
        raise TypeError(
            f"money must be a Decimal (or int/str), not {type(value).__name__} {value!r}: "
            "floats are not exact"
        )
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    return amount.quantize(_QUANTUM, context=_CONTEXT)


def to_pico(value: Any) -> int:
    """Dollars as integer pico-dollars (rounded by :func:`as_money`; None is not money).

    Raises:
        ValueError: beyond what a 64-bit integer holds (about $9.2 million).
    """
    amount = as_money(value)
    pico = int(amount.scaleb(MONEY_SCALE, context=_CONTEXT))
    if abs(pico) > _BIGINT_MAX:
        raise ValueError(f"amount of money too large for the store: {amount}")
    return pico


def from_pico(pico: int | Decimal) -> Decimal:
    """Integer pico-dollars (or a Decimal count of them, from an average) as dollars."""
    return Decimal(pico).scaleb(-MONEY_SCALE, context=_CONTEXT).quantize(_QUANTUM, context=_CONTEXT)


def money_to_driver(pico: int, dialect: str) -> int | Decimal:
    """Integer pico-dollars as the driver value of a money column (raw SQL paths)."""
    return pico if dialect == "sqlite" else from_pico(pico)


def money_from_driver(value: Any, dialect: str) -> int:
    """A money column's raw driver value as integer pico-dollars (None: 0)."""
    if value is None:
        return 0
    if dialect == "sqlite":
        return int(value)
    return to_pico(value if isinstance(value, Decimal) else Decimal(str(value)))
