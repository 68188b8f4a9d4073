"""Issue 9 items 16 and 17: honest costs in eval summaries, listings and rescore runs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmlab.cli import main
from llmlab.evals import EvalRun
from llmlab.evals._report import summary_lines, to_markdown
from llmlab.evals._summary import summarize
from llmlab.store import EvalResultRow
from llmlab.testing import WireServer

from .conftest import write_suite

JUDGED = """\
judge_model: openai/gpt-4o-mini
"""


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out + err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    _, out = _cli(capsys, *args, "--json")
    return json.loads(out)


def _judge_rule(prompt: str) -> str | None:
    if prompt.startswith("You are grading"):
        return '{"reasoning": "fine", "score": 1}'
    return None  # the echo reply


def test_list_shows_judge_cost_and_rescore_shows_only_its_own(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.replies.set(_judge_rule)
    suite = write_suite(tmp_path, 4)
    suite.write_text(
        suite.read_text().replace(
            '  - includes: "{{ target }}"\n',
            '  - includes: "{{ target }}"\n  - judge: "Is it right?"\n',
        )
        + JUDGED
    )
    first = _json(capsys, "eval", "run", str(suite), "--model", "openai/gpt-4o-mini")
    summary = first["summary"]
    assert summary["judge"]["calls"] == 4 and Decimal(summary["judge"]["cost"]) > 0
    assert Decimal(summary["cost"]) > 0

    (listed,) = _json(capsys, "eval", "list")
    assert listed["judge_cost"] == summary["judge"]["cost"]
    assert listed["cost"] == summary["cost"]
    _, table = _cli(capsys, "eval", "list")
    assert "judge" in table and f"${summary['judge']['cost']}" in table.replace("\n", "")

    calls_before = openai_env.count()
    rescored = _json(capsys, "eval", "rescore", first["run_id"], "--suite", str(suite))
    judge = rescored["summary"]["judge"]
    assert openai_env.count() == calls_before + 4  # only the judge was called again
    assert judge["calls"] == 4 and judge["cost"] == summary["judge"]["cost"]
    # The model's answers were paid by the first run: not counted again here.
    assert Decimal(rescored["summary"]["cost"]) == 0
    assert rescored["summary"]["input_tokens"] == 0

    runs = _json(capsys, "eval", "list")
    assert [Decimal(r["cost"]) for r in runs] == [0, Decimal(summary["cost"])]
    assert [r["judge_cost"] for r in runs] == [summary["judge"]["cost"]] * 2


def _rows(n: int, unpriced: int) -> list[EvalResultRow]:
    return [
        EvalResultRow(
            run_id="r",
            case_id=f"{i:03d}",
            epoch=1,
            status="ok",
            score=1.0,
            passed=True,
            errored=False,
            cost=None if i < unpriced else Decimal("0.001"),
        )
        for i in range(n)
    ]


def test_summary_says_how_many_results_are_unpriced() -> None:
    summary = summarize(_rows(100, 45), min_pass_rate=0.5)
    assert summary["unpriced_results"] == 45 and summary["cost"] == "0.055"
    run = EvalRun(id="r", name="n", model="m", status="finished", summary=summary)
    text = "\n".join(summary_lines(run))
    assert "cost $0.055 (45 of 100 results unpriced)" in text
    assert "| cost | $0.055 (45 of 100 results unpriced) |" in to_markdown(run)

    none_priced = summarize(_rows(3, 3), min_pass_rate=0.5)
    run = EvalRun(id="r", name="n", model="m", status="finished", summary=none_priced)
    assert "cost unpriced (3 of 3 results)" in "\n".join(summary_lines(run))

    all_priced = summarize(_rows(3, 0), min_pass_rate=0.5)
    run = EvalRun(id="r", name="n", model="m", status="finished", summary=all_priced)
    assert "cost $0.003, " in "\n".join(summary_lines(run))


def test_unpriced_model_run_says_so(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path, 5)
    _, text = _cli(capsys, "eval", "run", str(suite), "--model", "openai/no-such-price-model")
    assert "cost unpriced (5 of 5 results)" in text, text
    runs = _json(capsys, "eval", "list")
    assert runs[0]["unpriced_results"] == 5 and runs[0]["cost"] is None
    _, table = _cli(capsys, "eval", "list")
    assert "unpriced" in table
