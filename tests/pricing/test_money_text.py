"""Money is shown as plain decimals, never in scientific notation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from llmlab.pricing import dollars, plain_decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.23E-7"), "0.000000123"),
        (Decimal("0.000120000"), "0.00012"),
        (Decimal("3.000"), "3"),
        (Decimal("1E+2"), "100"),
        (Decimal("0E-12"), "0"),
        (Decimal("-0.5"), "-0.5"),
    ],
)
def test_plain_decimal(value: Decimal, text: str) -> None:
    assert plain_decimal(value) == text
    assert dollars(value) == f"${text}"
