"""Money as text: plain decimals, never scientific notation (``1.2E-7``)."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["dollars", "plain_decimal", "plain_number"]


def plain_decimal(value: Decimal) -> str:
    """``value`` without trailing zeros or an exponent: ``0.00000012``, ``3``, ``0``."""
    return f"{value.normalize():f}" if value else "0"


def dollars(value: Decimal) -> str:
    """``value`` as dollars for people: ``$0.00000012``, ``$3``, ``$0``."""
    return f"${plain_decimal(value)}"


def plain_number(value: float, significant: int = 3, *, sign: bool = False) -> str:
    """``value`` to ``significant`` digits, never in scientific notation.

    ``7.5e-06`` becomes ``0.0000075``, ``123456.7`` with 3 digits ``123000``; ``sign``
    puts ``+`` before positive numbers (differences). Infinities and NaN stay as words.
    """
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    rounded = Decimal(format(value, f".{significant}g"))
    text = plain_decimal(rounded) if rounded else "0"
    if sign and not text.startswith("-"):
        text = f"+{text}"
    return text
