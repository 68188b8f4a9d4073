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


async def test_unknown_run_lists_nearest_and_prefix_must_be_unique(llmlab_db: str) -> None:
    from llmlab import InputError, NotFoundError
    from llmlab.evals import show_run

    scripted("ids", function=lambda request: "x")
    runs = []
    for name in ("alpha", "alphabet", "zulu"):
        suite = EvalSuite(
            name=name, prompt="{{ input }}", cases=[{"input": "q"}], scorers=[Includes("x")]
        )
        runs.append(await run_eval(suite, model="scripted/ids"))
    typo = runs[2].id[:-1] + ("0" if runs[2].id[-1] != "0" else "1")
    with pytest.raises(NotFoundError) as info:
        show_run(typo)
    assert info.value.candidates[0] == runs[2].id
    with pytest.raises(InputError, match=r"'alpha' is ambiguous: 2 runs start with it"):
        show_run("alpha")
    assert show_run("alphab").run.id == runs[1].id


async def test_rescore_with_a_judge_uses_the_suites_judge_model(llmlab_db: str) -> None:
    from llmlab.evals import ModelGraded, Weighted

    answerer = scripted("rs-answer", function=lambda request: "Paris")
    grader = scripted("rs-grader", function=lambda request: '{"reasoning": "ok", "score": 1}')
    cases = [{"id": str(i), "input": f"q{i}"} for i in range(3)]
    suite = EvalSuite(
        name="rj",
        prompt="{{ input }}",
        cases=cases,
        scorers=[Includes("Paris")],
        judge_model="scripted/rs-grader",
    )
    first = await run_eval(suite, model="scripted/rs-answer", cache=False)
    answerer.history.clear()
    grader.history.clear()
    judged = await rescore_run(first.id, suite=suite, scorer=Weighted([(ModelGraded("ok?"), 1.0)]))
    assert judged.summary["passed"] == 3 and judged.summary["judge"]["calls"] == 3
    assert len(grader.history) == 3 and answerer.history == []
