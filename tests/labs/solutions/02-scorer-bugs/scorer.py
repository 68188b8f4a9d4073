"""A second correct solution: Decimal for numbers, a regex to normalise words."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation


def normalise(text: str) -> Decimal | str:
    text = text.strip()
    try:
        return Decimal(re.sub(r"[,$\s]", "", text))
    except InvalidOperation:
        return re.sub(r"[^\w\s-]", "", text).strip().casefold()


def score(output: str, expected: str) -> float:
    return float(normalise(output) == normalise(expected))
