"""The CI gate: the eval suite on the current prompt, through llmlab's pytest plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmlab.evals import EvalSuite

HERE = Path(__file__).parent


def test_answers_come_from_the_context(assert_eval: Any) -> None:
    suite = EvalSuite(
        name="qa-gate",
        prompt=(HERE / "prompt.txt").read_text(),
        cases=HERE / "cases.yaml",
        scorers=[{"includes": {"value": "{{ answer }}", "case_sensitive": False}}],
        request_options={"temperature": 0.0, "seed": 1234, "max_tokens": 24},
    )
    assert_eval(suite, model="local/smollm2", min_pass_rate=0.5, concurrency=1)
