"""Money as text: plain decimals, never scientific notation (``1.2E-7``)."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["dollars", "plain_decimal"]


def plain_decimal(value: Decimal) -> str:
    """``value`` without trailing zeros or an exponent: ``0.00000012``, ``3``, ``0``."""
    return f"{value.normalize():f}" if value else "0"


def dollars(value: Decimal) -> str:
    """``value`` as dollars for people: ``$0.00000012``, ``$3``, ``$0``."""
    return f"${plain_decimal(value)}"
