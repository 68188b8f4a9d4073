"""The cost–quality frontier on three scripted models with known prices (a price
override) and known qualities."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab import InputError, ProviderError
from llmlab.cli import main
from llmlab.evals import EvalRun, cost_quality_frontier, load_suite, run_eval
from llmlab.evals._frontier import parse_since
from llmlab.models import Request, scripted
from llmlab.pricing import _overrides
from llmlab.store import Store

SUITE = """\
name: {name}
prompt: "Q{{{{ id }}}}: {{{{ input }}}}"
dataset: cases.jsonl
scorers:
  - includes: "right"
"""
# Every prompt is 3 words ("Q7: question 7"): 3 input tokens per case; output is free.
PRICES = """\
version: 1
prices:
  scripted/fr-cheap: {input: 1, output: 0}
  scripted/fr-mid: {input: 10, output: 0}
  scripted/fr-dear: {input: 100, output: 0}
"""


@pytest.fixture(autouse=True)
def _prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    file = tmp_path / "prices.yaml"
    file.write_text(PRICES)
    monkeypatch.setenv("LLMLAB_PRICES", str(file))
    monkeypatch.setattr(_overrides, "RECHECK_S", 0.0)
    _overrides.forget_overrides()
    yield
    _overrides.forget_overrides()


def _suite(folder: Path, n: int, name: str = "fr") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cases.jsonl").write_text(
        "".join(json.dumps({"id": str(i), "input": f"question {i}"}) + "\n" for i in range(n))
    )
    (folder / "suite.yaml").write_text(SUITE.format(name=name))
    return folder / "suite.yaml"


def _model(name: str, wrong: set[int], errors: frozenset[int] = frozenset()) -> str:
    def reply(request: Request) -> str | ProviderError:
        case = int(request.messages[-1].content.split(":", 1)[0][1:])
        if case in errors:
            return ProviderError("scripted outage", provider="scripted", model=name)
        return "wrong" if case in wrong else "right"

    scripted(name, function=reply)
    return f"scripted/{name}"


def _run(path: Path, model: str) -> EvalRun:
    suite = load_suite(path)
    return asyncio.run(run_eval(suite, model=model, cache=False, model_options={"max_retries": 0}))


@pytest.fixture
def three(tmp_path: Path, llmlab_store: Store) -> dict[str, EvalRun]:
    path = _suite(tmp_path / "s", 60)
    return {
        "cheap": _run(path, _model("fr-cheap", set(range(0, 60, 2)))),  # 50%
        "mid": _run(path, _model("fr-mid", {1, 3, 5})),  # 95%
        "dear": _run(path, _model("fr-dear", set())),  # 100%
    }


def test_frontier_picks_the_right_set(three: dict[str, EvalRun], llmlab_store: Store) -> None:
    ids = {k: r.id for k, r in three.items()}
    frontier = cost_quality_frontier(list(ids.values()), store=llmlab_store)
    assert frontier.common_cases == 60
    assert [o.run_id for o in frontier.options] == [ids["cheap"], ids["mid"], ids["dear"]]
    cheap, mid, dear = frontier.options
    assert cheap.cost_per_case == Decimal("0.000003")
    assert mid.cost_per_case == Decimal("0.00003")
    assert dear.cost_per_case == Decimal("0.0003")
    assert (cheap.quality.estimate, mid.quality.estimate, dear.quality.estimate) == (0.5, 0.95, 1.0)
    # cheap is significantly worse than mid (30 vs 3 discordant): both on the frontier;
    # mid is not significantly worse than dear (0 vs 3, McNemar p = 0.25): dear is dominated.
    assert [o.on_frontier for o in frontier.options] == [True, True, False]
    assert dear.dominated_by == ids["mid"]
    assert frontier.best == ids["dear"]
    assert frontier.cheapest_within_margin == ids["dear"]  # 95% is not within 2 points of 100%
    wider = cost_quality_frontier(list(ids.values()), margin=0.06, store=llmlab_store)
    assert wider.cheapest_within_margin == ids["mid"]
    assert cheap.input_tokens_per_case == 3 and cheap.latency_p50_s is not None


def test_cases_not_shared_or_errored_are_reported_and_left_out(
    tmp_path: Path, llmlab_store: Store
) -> None:
    a = _run(_suite(tmp_path / "a", 40), _model("fr-cheap", set(range(20)), errors=frozenset({39})))
    b = _run(_suite(tmp_path / "b", 44), _model("fr-mid", set()))
    frontier = cost_quality_frontier([a.id, b.id], store=llmlab_store)
    # case 39 errored in a; 40..43 exist only in b
    assert frontier.common_cases == 39
    assert frontier.not_shared == {a.id: 0, b.id: 5}
    assert frontier.option(a.id).quality.estimate == pytest.approx(19 / 39)
    assert frontier.option(b.id).cases == 39


def test_suite_since_takes_the_newest_run_per_option(
    three: dict[str, EvalRun], tmp_path: Path, llmlab_store: Store
) -> None:
    again = _run(_suite(tmp_path / "s", 60), "scripted/fr-cheap")
    frontier = cost_quality_frontier(suite="fr", since="7d", store=llmlab_store)
    assert {o.run_id for o in frontier.options} == {again.id, three["mid"].id, three["dear"].id}
    assert frontier.superseded == [three["cheap"].id]
    with pytest.raises(InputError, match="no finished runs of suite 'nope'"):
        cost_quality_frontier(suite="nope", store=llmlab_store)


def test_since_spans() -> None:
    assert parse_since("7d").days == 7 and parse_since("12h").total_seconds() == 43_200
    with pytest.raises(InputError, match="expected a span such as 7d"):
        parse_since("yesterday")


def test_cli_frontier_json_markdown_and_errors(
    three: dict[str, EvalRun], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def cli(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out, err = capsys.readouterr()
        return (info.value.code if isinstance(info.value.code, int) else 0), out, err

    ids = [r.id for r in three.values()]
    code, out, _ = cli("eval", "frontier", *ids, "--json")
    data = json.loads(out)
    assert code == 0 and data["frontier"] == ids[:2] and data["cheapest_within_margin"] == ids[2]
    assert data["options"][0]["cost_per_case"] == "0.000003"
    code, out, _ = cli("eval", "frontier", "--suite", "fr", "--since", "1d", "--markdown")
    assert code == 0 and "| option | pass rate [95% CI]" in out
    assert f"Cheapest within 2.0% of the best: `{ids[2]}`" in out
    code, out, _ = cli("eval", "frontier", *ids, "--margin", "0.06")
    assert code == 0 and f"cheapest within 6.0% of the best: {ids[1]}" in out
    code, _, err = cli("eval", "frontier", "--suite", "fr", "--since", "soon")
    assert code == 2 and "--since 'soon'" in err
    code, _, err = cli("eval", "frontier")
    assert code == 2 and "give the runs to compare" in err


def test_cost_per_case_includes_the_judge(
    tmp_path: Path, llmlab_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .quality import judged_run

    file = tmp_path / "judge-prices.yaml"
    file.write_text(
        "version: 1\nprices:\n"
        "  scripted/fj-answer: {input: 1, output: 0}\n"
        "  scripted/fj-judge: {input: 0, output: 1000}\n"
    )
    monkeypatch.setenv("LLMLAB_PRICES", str(file))
    _overrides.forget_overrides()
    run = asyncio.run(judged_run(tmp_path / "j", 10, name="fj"))
    option = cost_quality_frontier([run.id], store=llmlab_store).options[0]
    judge_total = Decimal(run.summary["judge"]["cost"])
    assert judge_total > 0
    assert option.judge_cost_per_case == judge_total / 10
    assert option.model_cost_per_case == Decimal(run.summary["cost"]) / 10
    assert option.cost_per_case == option.model_cost_per_case + option.judge_cost_per_case
    assert option.on_frontier
