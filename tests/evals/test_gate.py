"""The eval gate in the library, and "only the call path calls" for model arguments."""

from __future__ import annotations

import pytest

from llmlab import InputError
from llmlab.evals import (
    EvalCase,
    EvalSuite,
    Includes,
    LLMEvaluator,
    ModelGraded,
    gate_run,
    run_eval,
)
from llmlab.models import get_model, scripted
from llmlab.store import CallFilter, Store, recent_calls


def _suite(n: int = 10) -> EvalSuite:
    return EvalSuite(
        name="gate",
        prompt="{{ input }}",
        cases=[{"id": str(i), "input": f"q{i}"} for i in range(n)],
        scorers=[Includes("yes")],
    )


async def test_gate_checks_pass_rate_and_regression(llmlab_store: Store) -> None:
    scripted("gate-good", function=lambda request: "yes")
    scripted(
        "gate-bad", function=lambda request: "yes" if request.messages[-1].content < "q3" else "no"
    )
    good = await run_eval(_suite(), model="scripted/gate-good")
    verdict = gate_run(good)
    assert verdict.passed and verdict.threshold_met and verdict.reasons == ()
    bad = await run_eval(_suite(), model="scripted/gate-bad")
    assert bad.pass_rate == 0.3
    missed = gate_run(bad, min_pass_rate=0.5)
    assert not missed.passed and missed.reasons == ("pass rate 30.0% is below the required 50.0%",)
    assert gate_run(bad, min_pass_rate=0.3).passed
    # A significant drop against the baseline fails the gate only when asked to.
    seen = gate_run(bad, min_pass_rate=0.3, baseline=good.id)
    assert seen.regression and seen.passed and seen.baseline is not None
    failed = gate_run(bad, min_pass_rate=0.3, baseline=good.id, fail_on_regression=True)
    assert not failed.passed and failed.reasons[0].startswith(
        f"regression against baseline {good.id}"
    )
    assert failed.to_dict()["baseline"]["regression"] is True


async def test_a_bare_provider_is_refused_and_a_managed_model_is_recorded(
    llmlab_store: Store,
) -> None:
    bare = scripted("bare", function=lambda request: "yes")
    with pytest.raises(InputError, match=r"model must be a 'provider/model' name or a model from"):
        await run_eval(_suite(), model=bare)  # type: ignore[arg-type]
    assert bare.history == []
    with pytest.raises(InputError, match="the judge model must be"):
        ModelGraded("ok?", model=bare)  # type: ignore[arg-type]
    managed = get_model("scripted/bare")
    run = await run_eval(_suite(3), model=managed)
    assert run.summary["passed"] == 3 and run.model == "scripted/bare"
    calls = recent_calls(llmlab_store, CallFilter(eval_run=run.id), limit=10)
    assert len(calls) == 3


def test_llm_evaluator_takes_functions_and_managed_models(
    tmp_path: object, llmlab_store: Store
) -> None:
    scripted("seedbot", function=lambda request: "kubernetes container orchestration")
    cases = [EvalCase(input="summarise", expected_properties={"key_terms": ["kubernetes"]})]

    def scorer(output: str, expected: dict[str, list[str]]) -> float:
        return float(all(term in output for term in expected["key_terms"]))

    with Store(f"sqlite:///{tmp_path}/seed.db") as store:
        evaluator = LLMEvaluator(cases, store=store)
        result = evaluator.evaluate(get_model("scripted/seedbot"), scorer, echo=None)
        assert result.passed == 1 and result.avg_score == 1.0
        assert evaluator.evaluate(lambda text: "nothing", scorer, echo=None).failed == 1
        with pytest.raises(InputError, match="needs a function"):
            evaluator.evaluate(scripted("seedbot"), scorer, echo=None)  # type: ignore[arg-type]
