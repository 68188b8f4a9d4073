"""Issue 9 item 20: an experiment's quality intervals stay inside their possible range."""

from __future__ import annotations

import pytest

from llmlab import InputError
from llmlab.models import scripted
from llmlab.monitor import flush
from llmlab.prompts import (
    Experiments,
    PromptRegistry,
    PromptVersion,
    call_experiment,
    experiment_report,
    record_feedback,
)


async def test_quality_intervals_stay_in_range(registry: PromptRegistry) -> None:
    registry.register("greet", PromptVersion("Say hi to {{ name }}."), set_active=True)
    registry.register("greet", PromptVersion("Greet {{ name }} warmly."))
    scripted("exp-range", function=lambda request: "hi")
    exps = Experiments()
    exps.create("range", "greet", {"control": 1, "warm": 2}, salt="fixed")
    seen: dict[str, int] = {}
    for i in range(60):
        unit = f"user-{i}"
        response = await call_experiment("range", unit, {"name": "Ada"}, model="scripted/exp-range")
        arm = exps.assign("range", unit)
        first = arm not in seen
        seen[arm] = seen.get(arm, 0) + 1
        # Control: nearly all 0; warm: nearly all 1. A normal interval runs past [0, 1].
        score = (1.0 if first else 0.0) if arm == "control" else (0.0 if first else 1.0)
        assert response.call_id is not None
        record_feedback(response.call_id, score)
    flush()
    report = experiment_report("range")
    control, warm = report.arms
    assert control.quality.n >= 10 and warm.quality.n >= 10
    assert 0.0 <= control.quality.low <= control.quality.mean
    assert warm.quality.mean <= warm.quality.high <= 1.0
    assert control.quality.low == 0.0 and warm.quality.high == 1.0  # clamped, not beyond
    assert warm.quality_diff is not None
    interval, _ = warm.quality_diff
    assert -1.0 <= interval.low <= interval.high <= 1.0
    assert report.to_dict()["arms"][1]["quality_vs_control"]["high"] <= 1.0


@pytest.mark.parametrize("score", [-0.1, 1.5, float("nan"), float("inf")])
def test_feedback_outside_zero_one_is_refused(score: float, llmlab_db: str) -> None:
    with pytest.raises(InputError, match=r"in \[0, 1\]"):
        record_feedback("any-call", score)
