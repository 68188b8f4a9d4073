"""The scorer of a question-answering eval: 1.0 when the answer is right, else 0.0.

People checked sixteen answers by hand (labels.jsonl: `human` 1 = right, 0 = wrong).
This scorer disagrees with them: find why, and fix it.
"""

from __future__ import annotations


def score(output: str, expected: str) -> float:
    """1.0 when `output` is the `expected` answer, else 0.0."""
    return 1.0 if output == expected else 0.0
