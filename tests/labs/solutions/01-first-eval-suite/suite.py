"""A second correct solution: all-or-nothing checks, a required-terms ratio, weights."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from llmlab.evals import EvalCase

ARTICLES: dict[str, str] = yaml.safe_load((Path(__file__).parent / "articles.yaml").read_text())


def case(key: str, must: list[str], weight: float = 1.0) -> EvalCase:
    return EvalCase(
        input=ARTICLES[key],
        expected_properties={"words": (8, 25), "must_mention": must},
        weight=weight,
    )


CASES = [
    case("kubernetes", ["Kubernetes", "container"], 2.0),
    case("sourdough", ["sourdough", "starter"]),
    case("heat_pumps", ["heat pump"]),
    case("tides", ["tide", "Moon"]),
    case("passwords", ["password"], 2.0),
    case("bees", ["bee", "dance"]),
    case("vaccines", ["vaccine", "immune"]),
    case("volcanoes", ["magma"]),
]


def score(output: str, expected: dict[str, Any]) -> float:
    """Zero when the length is off; otherwise the share of required mentions."""
    low, high = expected["words"]
    words = len(re.findall(r"\w+", output))
    if not low <= words <= high:
        return 0.0
    text = output.lower()
    mentioned = [term for term in expected["must_mention"] if term.lower() in text]
    return len(mentioned) / len(expected["must_mention"])
