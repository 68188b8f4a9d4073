"""Your first eval suite, in the guide's shape: EvalCase + a scorer for LLMEvaluator.

Write one EvalCase per article (articles.yaml) with the properties a good summary has,
and a scorer that turns an output and those properties into a score in [0, 1].
`llmlab labs check` runs LLMEvaluator(CASES).evaluate(function, score) on a known-good
summariser (it must pass every case) and on buggy ones (each must fail).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import yaml

from llmlab.evals import EvalCase

ARTICLES: dict[str, str] = yaml.safe_load((Path(__file__).parent / "articles.yaml").read_text())


class Expected(TypedDict, total=False):
    """The properties a good summary has, one key each: declare those your scorer reads."""


CASES = [
    EvalCase(input=ARTICLES["kubernetes"], expected_properties={}),
    EvalCase(input=ARTICLES["sourdough"], expected_properties={}),
]


def score(output: str, expected: Expected) -> float:
    """Score one output (0.0-1.0) given the case's expected properties."""
    return 1.0 if output else 0.0
