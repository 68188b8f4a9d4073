"""Reference: every article with length bounds and key terms; the guide's scorer."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import yaml

from llmlab.evals import EvalCase

ARTICLES: dict[str, str] = yaml.safe_load((Path(__file__).parent / "articles.yaml").read_text())

KEY_TERMS = {
    "kubernetes": ["containers", "cluster", "versions"],
    "sourdough": ["starter", "yeast", "fermentation"],
    "heat_pumps": ["heat pump", "heat", "electricity"],
    "tides": ["tides", "moon", "gravity"],
    "passwords": ["passphrases", "password manager", "two-factor"],
    "bees": ["honeybees", "waggle dance", "flowers"],
    "vaccines": ["vaccines", "immune system", "germ"],
    "volcanoes": ["volcanoes", "magma", "lava"],
}


class Expected(TypedDict):
    """What a good summary of one article has."""

    min_length: int
    max_length: int
    key_terms: list[str]


CASES = [
    EvalCase(
        input=ARTICLES[key],
        expected_properties={"min_length": 40, "max_length": 160, "key_terms": terms},
        weight=1.0,
    )
    for key, terms in KEY_TERMS.items()
]


def score(output: str, expected: Expected) -> float:
    """0.4 for a length within bounds, 0.6 times the share of key terms present."""
    value = 0.0
    if expected["min_length"] <= len(output) <= expected["max_length"]:
        value += 0.4
    terms = expected["key_terms"]
    present = sum(1 for term in terms if term.lower() in output.lower())
    value += 0.6 * present / len(terms)
    return min(1.0, value)
