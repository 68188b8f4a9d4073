"""An errored score is not a fail: counted apart, pass rate and mean over the scored
cases, and the gate fails when errors exceed the suite's ``max_errors``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from llmlab.cli import main
from llmlab.evals import RunSummary, load_suite, run_eval, summarize
from llmlab.evals._report import errored_lines
from llmlab.models import Request, scripted
from llmlab.store import EvalResultRow, Store

from .quality import answerer, judged_run, write_judge_suite


async def test_unparsable_verdicts_are_counted_apart(tmp_path: Path, llmlab_store: Store) -> None:
    run = await judged_run(tmp_path, 5, name="err", wrong=[1], unparsable=[2, 3, 4])
    s = run.summary
    assert (s["cases"], s["scored_cases"], s["errored_cases"], s["errored_results"]) == (5, 2, 3, 3)
    assert (s["passed"], s["failed"]) == (1, 1)  # case 0 passed, case 1 failed; 2-4 are neither
    assert s["pass_rate"] == 0.5 and s["mean_score"] == 0.5
    assert s["errors_within_limit"] is False and s["threshold_met"] is False
    text = "\n".join(errored_lines(RunSummary.from_dict(s)))
    assert "3 result(s) could not be scored, more than max_errors 0" in text
    assert "judge judge (scripted/err-judge): NOT calibrated" in text


async def test_all_errored_is_not_zero_out_of_three(tmp_path: Path, llmlab_store: Store) -> None:
    run = await judged_run(tmp_path, 3, name="all-err", unparsable=[0, 1, 2])
    s = run.summary
    assert (s["passed"], s["failed"], s["scored_cases"], s["errored_cases"]) == (0, 0, 0, 3)
    assert not s["threshold_met"]


async def test_max_errors_lets_a_run_pass_with_some_errors(
    tmp_path: Path, llmlab_store: Store
) -> None:
    run = await judged_run(tmp_path, 6, name="tolerant", unparsable=[5], extra="max_errors: 1\n")
    assert run.summary["pass_rate"] == 1.0 and run.summary["errored_results"] == 1
    assert run.summary["max_errors"] == 1 and run.threshold_met
    strict = await judged_run(
        tmp_path / "strict", 6, name="strict", unparsable=[4, 5], extra="max_errors: 1\n"
    )
    assert strict.summary["pass_rate"] == 1.0 and not strict.threshold_met


async def test_an_errored_trial_leaves_the_other_trials_to_decide(
    tmp_path: Path, llmlab_store: Store
) -> None:
    answerer("ep-err-answer", [])
    calls: dict[str, int] = {}

    def judge(request: Request) -> str:
        case = request.messages[-1].content.split("[The assistant's answer]", 1)[1].split()[1]
        calls[case] = calls.get(case, 0) + 1
        if case == "0" and calls[case] == 1:
            return "no verdict"
        return json.dumps({"reasoning": "ok", "score": 1})

    scripted("ep-err-judge", function=judge)
    path = write_judge_suite(
        tmp_path, 2, name="ep-err", judge="ep-err-judge", extra="epochs: 2\nmax_errors: 1\n"
    )
    run = await run_eval(
        load_suite(path), model="scripted/ep-err-answer", cache=False, concurrency=1
    )
    s = run.summary
    assert s["errored_results"] == 1 and s["errored_cases"] == 0 and s["scored_cases"] == 2
    assert s["pass_rate"] == 1.0 and s["trials"]["consistency"] == 1.0 and run.threshold_met


def test_summarize_over_rows_by_hand() -> None:
    def row(case: str, status: str, errored: bool, score: float | None) -> EvalResultRow:
        passed = score is not None and score >= 0.7
        return EvalResultRow("r", case, 1, status, score, passed, errored)

    rows = [
        row("a", "ok", False, 1.0),
        row("b", "ok", False, 0.0),
        row("c", "ok", True, None),  # the judge could not judge
        row("d", "error", True, None),  # the call failed
    ]
    s = summarize(rows, min_pass_rate=0.5, max_errors=2)
    assert (s["cases"], s["scored_cases"], s["passed"], s["failed"]) == (4, 2, 1, 1)
    assert s["pass_rate"] == 0.5 and s["mean_score"] == 0.5 and s["threshold_met"]
    assert not summarize(rows, min_pass_rate=0.5, max_errors=1)["threshold_met"]


def test_show_failed_shows_the_judges_error(
    tmp_path: Path, llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    run = asyncio.run(judged_run(tmp_path, 3, name="show-err", wrong=[0], unparsable=[1]))
    with pytest.raises(SystemExit) as info:
        main(["eval", "show", run.id, "--failed"])
    out = capsys.readouterr().out
    assert info.value.code in (0, None)
    assert "unparsable judge verdict: no JSON object in the verdict" in out
    assert "1/2 scored cases passed, 1 errored" in out
    assert "answer 0 wrong" in out  # the failed case shows its output
