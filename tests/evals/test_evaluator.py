"""The seed's API works as written there: sync or async functions, weights, failures."""

from __future__ import annotations

import io
from typing import Any

from llmlab.evals import EvalCase, LLMEvaluator


def summary_scorer(output: str, expected: dict[str, Any]) -> float:
    """The seed's scorer, verbatim."""
    score = 0.0
    if expected["min_length"] <= len(output) <= expected["max_length"]:
        score += 0.4
    key_terms_present = sum(1 for term in expected["key_terms"] if term.lower() in output.lower())
    score += 0.6 * (key_terms_present / len(expected["key_terms"]))
    return min(1.0, score)


CASES = [
    EvalCase(
        input="Long technical article about kubernetes...",
        expected_properties={
            "min_length": 20,
            "max_length": 150,
            "key_terms": ["kubernetes", "container", "orchestration"],
        },
    ),
    EvalCase(
        input="A short note about databases",
        expected_properties={"min_length": 5, "max_length": 50, "key_terms": ["index"]},
        weight=2.0,
    ),
]


def summarize_text(text: str) -> str:
    if "kubernetes" in text:
        return "Kubernetes is container orchestration."
    return "Databases store rows."


def test_seed_example_sync_function() -> None:
    echo = io.StringIO()
    result = LLMEvaluator(CASES).evaluate(summarize_text, summary_scorer, echo=echo)
    assert (result.passed, result.failed) == (1, 1)
    assert result.scores == [1.0, 0.4]
    assert result.avg_score == (1.0 * 1 + 0.4 * 2) / 3  # weighted mean: Σwᵢsᵢ / Σwᵢ
    rate = result.passed / (result.passed + result.failed)
    assert f"Pass rate: {rate:.2%}" == "Pass rate: 50.00%"
    (failure,) = result.failures
    assert failure.input == "A short note about databases" and failure.score == 0.4
    assert echo.getvalue() == "FAIL: A short note about databases -> Score: 0.4\n"


async def test_async_function_errors_and_threshold() -> None:
    async def flaky(text: str) -> str:
        if "databases" in text:
            raise RuntimeError("upstream down")
        return "Kubernetes is container orchestration."

    result = await LLMEvaluator(CASES, threshold=0.95).aevaluate(flaky, summary_scorer, echo=None)
    assert (result.passed, result.failed) == (1, 1)
    assert result.failures[0].error == "RuntimeError: upstream down"
    assert result.scores == [1.0, 0.0]
    assert "ERROR: A short note about databases -> RuntimeError" in result.report()


def test_avg_score_is_a_weighted_mean_never_above_one() -> None:
    cases = [EvalCase(input="a", weight=3.0), EvalCase(input="b", weight=1.0)]
    result = LLMEvaluator(cases).evaluate(lambda text: text, lambda output, expected: 1.0)
    assert result.avg_score == 1.0  # was 2.0: the mean of score x weight
    result = LLMEvaluator(cases).evaluate(
        lambda text: text, lambda output, expected: 1.0 if output == "a" else 0.0
    )
    assert result.avg_score == 0.75 and result.scores == [1.0, 0.0]
    zero = [EvalCase(input="a", weight=0.0)]
    assert LLMEvaluator(zero).evaluate(lambda t: t, lambda o, e: 1.0).avg_score == 0.0
