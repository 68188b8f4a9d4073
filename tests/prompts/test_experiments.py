"""Online experiments: sticky assignment from the store, ramp, stop, exposures, report."""

from __future__ import annotations

import pytest
from scipy.stats import chisquare

from llmlab import InputError, NotFoundError
from llmlab.models import Request, scripted
from llmlab.monitor import flush
from llmlab.prompts import (
    Experiments,
    PromptRegistry,
    PromptVersion,
    assign,
    call_experiment,
    call_experiment_sync,
    experiment_report,
    record_feedback,
)
from llmlab.store import CallFilter, Store, recent_calls


@pytest.fixture
def two_versions(registry: PromptRegistry) -> PromptRegistry:
    registry.register("greet", PromptVersion("Say hi to {{ name }}."), set_active=True)
    registry.register("greet", PromptVersion("Greet {{ name }} warmly."))
    return registry


def test_create_assign_sticky_and_accurate(two_versions: PromptRegistry) -> None:
    exps = Experiments()
    exp = exps.create("tone", "greet", {"control": 1, "warm": 2}, {"control": 3, "warm": 1})
    assert [(a.name, a.version) for a in exp.arms] == [("control", 1), ("warm", 2)]
    units = [f"u{i}" for i in range(20_000)]
    first = [exps.assign("tone", u) for u in units]
    with Store(exps.store.url) as other:  # another process: same database, empty caches
        again = [Experiments(other).assign("tone", u) for u in units[:500]]
    assert again == first[:500]
    assert assign("tone", units[0]) == first[0]
    observed = [first.count("control"), first.count("warm")]
    assert chisquare(observed, [15_000, 5_000]).pvalue > 0.001


def test_ramp_and_stop(two_versions: PromptRegistry) -> None:
    exps = Experiments()
    exps.create("ramp", "greet", {"control": 1, "warm": 2}, {"control": 9, "warm": 1})
    units = [f"u{i}" for i in range(5_000)]
    before = {u: exps.assign("ramp", u) for u in units}
    exps.ramp("ramp", {"control": 1, "warm": 1})
    after = {u: Experiments().assign("ramp", u) for u in units}
    assert all(after[u] == "warm" for u in units if before[u] == "warm")
    assert 2_300 < sum(a == "warm" for a in after.values()) < 2_700
    exps.stop("ramp", winner="warm")
    assert {exps.assign("ramp", u) for u in units[:100]} == {"warm"}
    with pytest.raises(InputError, match="stopped"):
        exps.ramp("ramp", {"warm": 1})
    stopped_at = exps.get("ramp").stopped_at
    # stopping again without a winner keeps the chosen winner (not the control)
    again = exps.stop("ramp")
    assert again.winner == "warm" and again.stopped_at == stopped_at
    assert Experiments().assign("ramp", units[0]) == "warm"
    assert exps.stop("ramp", winner="control").winner == "control"


def test_bad_experiments(two_versions: PromptRegistry) -> None:
    exps = Experiments()
    with pytest.raises(NotFoundError, match="greet:1, greet:2"):
        exps.create("e", "greet", {"a": 1, "b": 7})
    exps.create("e", "greet", {"a": 1, "b": 2})
    with pytest.raises(InputError, match="exists already"):
        exps.create("e", "greet", {"a": 1})
    with pytest.raises(NotFoundError, match="did you mean: e"):
        exps.get("f")
    with pytest.raises(InputError, match="unknown arm"):
        exps.ramp("e", {"zzz": 1})
    with pytest.raises(InputError, match="1 to 64 bytes"):
        exps.create("long", "greet", {"a": 1, "b": 2}, salt="s" * 65)
    with pytest.raises(InputError, match="1 to 64 bytes"):
        exps.create("empty", "greet", {"a": 1, "b": 2}, salt="")


async def test_calls_record_exposure_links_and_feedback_report(
    two_versions: PromptRegistry,
) -> None:
    def reply(request: Request) -> str:
        return "hello there" if "warmly" in request.messages[-1].content else "hi"

    scripted("exp-report", function=reply)
    exps = Experiments()
    exps.create("tone", "greet", {"control": 1, "warm": 2}, salt="fixed")
    responses = {}
    for i in range(60):
        unit = f"user-{i % 30}"  # every unit comes back twice
        responses[i] = (
            unit,
            await call_experiment("tone", unit, {"name": "Ada"}, model="scripted/exp-report"),
        )
    flush()
    rows = recent_calls(two_versions.store, CallFilter(experiment="tone"), limit=1000)
    assert len(rows) == 60
    for row in rows:
        expected_version = 2 if row.arm == "warm" else 1
        assert row.prompt_name == "greet" and row.prompt_version == expected_version
        assert (row.response_text == "hello there") == (row.arm == "warm")
    for unit, response in responses.values():
        assert response.call_id is not None
        good = response.text == "hello there"
        record_feedback(response.call_id, 0.9 if good else 0.3 + 0.01 * len(unit))
    report = experiment_report("tone")
    by_arm = {a.arm: a for a in report.arms}
    assert by_arm["control"].units + by_arm["warm"].units == 30
    assert by_arm["control"].exposures + by_arm["warm"].exposures == 60
    assert by_arm["control"].metrics.calls + by_arm["warm"].metrics.calls == 60
    assert by_arm["warm"].quality.mean == pytest.approx(0.9)
    assert "warm better than control on quality" in report.verdict
    assert report.to_dict()["arms"][1]["quality_vs_control"]["estimate"] > 0.5


def test_sync_call_and_unknown_feedback(two_versions: PromptRegistry) -> None:
    Experiments().create("s", "greet", {"only": 1})
    model = scripted("exp-sync", replies=["ok"])
    response = call_experiment_sync("s", "unit-1", {"name": "Bo"}, model="scripted/exp-sync")
    assert response.text == "ok"
    assert model.history[-1].messages[-1].content == "Say hi to Bo."
    with pytest.raises(NotFoundError, match="call"):
        record_feedback("nope", 1.0)
