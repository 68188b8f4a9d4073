"""Offline A/B: two versions through the evals runner, paired verdict, gated promotion."""

from __future__ import annotations

import pytest

from llmlab.evals import EvalSuite, Includes, Interval
from llmlab.models import Request, scripted
from llmlab.prompts import PromptRegistry, PromptVersion, compare_prompt_versions, version_metrics
from llmlab.prompts._compare import MetricDelta, _gate
from llmlab.store import CallFilter, recent_calls


def answer(request: Request) -> str:
    text = request.messages[-1].content
    number = int(text.rsplit("q", 1)[1])
    # version 2 ("correctly") always answers right; version 1 only for every third case
    if "correctly" in text or number % 3 == 0:
        return f"the answer is a{number}"
    return "not sure"


@pytest.fixture
def suite() -> EvalSuite:
    return EvalSuite(
        name="qa",
        prompt="unused: the prompt version renders the request",
        cases=[{"input": f"q{i}", "expected_properties": {"answer": f"a{i}"}} for i in range(40)],
        scorers=[Includes("{{ answer }}")],
    )


@pytest.fixture
def versions(registry: PromptRegistry) -> PromptRegistry:
    registry.register("qa", PromptVersion("Answer briefly: {{ input }}"), set_active=True)
    registry.register("qa", PromptVersion("Answer correctly: {{ input }}"))
    scripted("ab-qa", function=answer)
    return registry


async def test_b_better_is_promoted_and_calls_are_linked(
    versions: PromptRegistry, suite: EvalSuite
) -> None:
    result = await compare_prompt_versions(
        "qa", 1, 2, suite, model="scripted/ab-qa", promote="production", max_cost_increase=0.1
    )
    assert result.b_better and not result.b_worse
    primary = result.comparison.primary
    assert primary.n == 40 and primary.a_only == 0 and primary.b_only == 26
    assert "B better" in result.verdict
    assert result.promoted is not None and result.promoted.to_version == 2
    assert versions.get("qa").version == 2
    assert set(result.deltas) >= {"input_tokens", "output_tokens", "duration_s"}
    assert result.deltas["output_tokens"].difference.estimate > 0  # B writes more words
    linked = recent_calls(versions.store, CallFilter(prompt="qa@2"), limit=1000)
    assert len(linked) == 40
    assert {c.prompt_hash for c in linked} == {result.b.version_hash}
    assert all(c.eval_run == result.run_b.id for c in linked)
    assert result.to_dict()["b"]["run"] == result.run_b.id


async def test_worse_or_over_budget_is_not_promoted(
    versions: PromptRegistry, suite: EvalSuite
) -> None:
    worse = await compare_prompt_versions(
        "qa", 2, 1, suite, model="scripted/ab-qa", promote="production"
    )
    assert worse.b_worse and worse.promoted is None
    assert versions.get("qa").version == 1
    # B is better, but a latency budget it cannot meet (must be 100% faster) blocks it
    blocked = await compare_prompt_versions(
        "qa", 1, 2, suite, model="scripted/ab-qa", promote="staging", max_latency_increase=-1.0
    )
    assert blocked.b_better and blocked.promoted is None
    assert "latency" in blocked.gate
    assert "staging" not in versions.labels("qa")


async def test_show_metrics_link_eval_quality_to_versions(
    versions: PromptRegistry, suite: EvalSuite
) -> None:
    await compare_prompt_versions("qa", 1, 2, suite, model="scripted/ab-qa")
    metrics = version_metrics("qa", store=versions.store)
    (calls_1, quality_1), (calls_2, quality_2) = metrics[1], metrics[2]
    assert calls_1.calls == calls_2.calls == 40
    assert quality_1 is not None and quality_2 is not None
    assert quality_1.pass_rate == pytest.approx(14 / 40)  # cases 0, 3, ..., 39
    assert quality_2.pass_rate == 1.0 and quality_2.runs == 1
    assert quality_1.score.low < quality_1.score.mean < quality_1.score.high


async def test_too_few_cases_is_not_significant_and_not_promoted(versions: PromptRegistry) -> None:
    small = EvalSuite(
        name="qa-small",
        prompt="unused",
        cases=[{"input": f"q{i}", "expected_properties": {"answer": f"a{i}"}} for i in (1, 2, 4)],
        scorers=[Includes("{{ answer }}")],
    )
    result = await compare_prompt_versions(
        "qa", 1, 2, small, model="scripted/ab-qa", promote="production"
    )
    assert result.comparison.primary.b_only == 3
    assert not result.b_better and not result.gate_passed and result.promoted is None
    assert "no detectable difference" in result.verdict
    assert versions.get("qa").version == 1


def test_cost_budget_blocks_a_better_but_costlier_b() -> None:
    costlier = {"cost": MetricDelta("cost", 0.010, 0.012, Interval(0.002, 0.001, 0.003))}
    ok, why = _gate(True, False, costlier, 0.1, None)
    assert not ok and "cost rises +20.0%" in why
    assert _gate(True, False, costlier, 0.25, None) == (
        True,
        "B is significantly better and within budget",
    )
    free = {"cost": MetricDelta("cost", 0.0, 0.001, Interval(0.001, 0.001, 0.001))}
    assert not _gate(True, False, free, 0.5, None)[0]  # from free to paid is over any budget
    assert not _gate(False, False, {}, None, None)[0]  # never without significance
