"""A second correct gate: the seed's LLMEvaluator over the model, no plugin fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml

from llmlab.evals import EvalCase, LLMEvaluator
from llmlab.models import generate_sync

HERE = Path(__file__).parent
PROMPT = jinja2.Template((HERE / "prompt.txt").read_text())


def answer(case_fields: dict[str, Any]) -> str:
    prompt = PROMPT.render(**case_fields)
    return generate_sync(prompt, "local/smollm2", temperature=0, seed=1, max_tokens=24).text


def mentions(output: str, expected: dict[str, Any]) -> float:
    wanted = expected["answer"]
    options = wanted if isinstance(wanted, list) else [wanted]
    return float(any(str(o).lower() in output.lower() for o in options))


def test_the_feature_still_answers() -> None:
    rows = yaml.safe_load((HERE / "cases.yaml").read_text())
    cases = [EvalCase(input=row, expected_properties={"answer": row["answer"]}) for row in rows]
    result = LLMEvaluator(cases, concurrency=1).evaluate(answer, mentions, echo=None)
    assert result.pass_rate >= 0.5, result.report()
