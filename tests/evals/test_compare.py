"""Paired comparison of stored runs, judge verdict parsing, re-scoring from the stored suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab.evals import (
    EvalSuite,
    Includes,
    KeyTerms,
    compare_runs,
    load_suite,
    parse_verdict,
    rescore_run,
    run_eval,
)
from llmlab.models import scripted

from .conftest import write_suite


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ('{"reasoning": "fine", "score": 0.75}', 0.75),
        ('Sure!\n```json\n{"reasoning": "no", "score": 0}\n```', 0.0),
        ('{"passed": true, "reasoning": "ok"}', 1.0),
    ],
)
def test_parse_verdict(text: str, score: float) -> None:
    assert parse_verdict(text)[0] == score


@pytest.mark.parametrize(
    "text", ["looks good to me", '{"score": "high"}', '{"score": 7}', "{broken", "[1, 2]"]
)
def test_unparsable_verdicts_raise(text: str) -> None:
    with pytest.raises(ValueError):
        parse_verdict(text)


async def test_compare_two_scorers_with_holm(tmp_path: Path, llmlab_db: str) -> None:
    cases = [{"id": str(i), "input": f"q{i}"} for i in range(40)]
    scorers = [(Includes("good"), 1.0), (KeyTerms(["good", "answer"]), 1.0)]
    scripted("weak", function=lambda request: "bad")
    scripted("strong", function=lambda request: "good answer")
    suite = EvalSuite(name="cmp", prompt="{{ input }}", cases=cases, scorers=scorers)
    a = await run_eval(suite, model="scripted/weak")
    b = await run_eval(suite, model="scripted/strong")
    comparison = compare_runs(a.id, b.id)
    assert comparison.n == 40 and not comparison.regression
    assert comparison.verdict().startswith("B better on pass rate")
    metrics = [t.metric for t in comparison.tests]
    assert metrics == ["pass rate", "score", "scorer includes", "scorer key_terms"]
    assert all(t.p_adjusted >= t.p_value for t in comparison.tests)
    assert comparison.tests[0].b_only == 40
    reverse = compare_runs(b.id, a.id)
    assert reverse.regression
    data = comparison.to_dict()
    assert data["side_by_side"]["delta"]["pass_rate"] == 1.0


async def test_rescore_uses_the_stored_suite_and_calls_no_model(
    tmp_path: Path, llmlab_db: str
) -> None:
    bot = scripted("rescore", function=lambda request: "echo: " + request.messages[-1].content)
    suite = load_suite(write_suite(tmp_path, 10, fail_every=2))
    first = await run_eval(suite, model="scripted/rescore")
    calls = len(bot.history)
    assert first.summary["passed"] == 5
    again = await rescore_run(first.id)
    assert again.summary["passed"] == 5 and again.id != first.id
    assert len(bot.history) == calls
    stricter = await rescore_run(first.id, suite=suite, threshold=0.7)
    assert stricter.summary["results"] == 10
