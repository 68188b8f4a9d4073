"""Reference: compare numbers as numbers and words without case or punctuation."""

from __future__ import annotations

import math
import string


def _number(text: str) -> float | None:
    cleaned = text.strip().replace(",", "").replace("$", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


def _words(text: str) -> str:
    return text.strip().strip(string.punctuation + " ").lower()


def score(output: str, expected: str) -> float:
    """1.0 when `output` is the `expected` answer, else 0.0."""
    got, want = _number(output), _number(expected)
    if got is not None and want is not None:
        return 1.0 if math.isclose(got, want, rel_tol=0, abs_tol=1e-9) else 0.0
    return 1.0 if _words(output) == _words(expected) else 0.0
