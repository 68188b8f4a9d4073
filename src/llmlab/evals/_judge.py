"""Model-graded scoring: a judge model reads a rubric and returns a structured verdict.

The judge answers JSON ``{"reasoning": "...", "score": 0..1}`` (``"passed": true/false``
is accepted too). A verdict that does not parse is an *errored* score, never a crash;
a judge call that fails is errored too. Judge calls are tagged ``role=judge`` and their
tokens and cost travel in ``Score.judge``, apart from the model under test.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import Any

from llmlab._errors import LlmlabError
from llmlab.evals._case import EvalCase
from llmlab.evals._model_arg import check_model
from llmlab.evals._score import JudgeUsage, Score, Scorer
from llmlab.evals._template import render_text
from llmlab.models import Model, Request, Response, get_model

__all__ = ["DEFAULT_JUDGE_TEMPLATE", "ModelGraded", "default_judge_model", "parse_verdict"]

DEFAULT_JUDGE_TEMPLATE = """You are grading an answer against a rubric. Be strict and fair.

[Task given to the assistant]
{{ input }}

[The assistant's answer]
{{ output }}

[Rubric]
{{ rubric }}

Reply with one JSON object and nothing else:
{"reasoning": "<one or two sentences>", "score": <a number from 0 to 1>}"""

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["reasoning", "score"],
    "additionalProperties": False,
}

default_judge_model: ContextVar[str | Model | None] = ContextVar(
    "llmlab_default_judge_model", default=None
)
"""The judge used when a ``ModelGraded`` names none (the runner sets the suite's model)."""

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_verdict(text: str) -> tuple[float, str]:
    """The score and reasoning in a judge's reply; ``ValueError`` when there is none."""
    match = _OBJECT.search(text)
    if match is None:
        raise ValueError("no JSON object in the verdict")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"verdict is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("verdict is not a JSON object")
    reasoning = str(data.get("reasoning", ""))
    score = data.get("score")
    if score is None and isinstance(data.get("passed"), bool):
        return (1.0 if data["passed"] else 0.0), reasoning
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise ValueError(f"verdict has no numeric 'score' (got {score!r})")
    if not 0 <= score <= 1:
        raise ValueError(f"verdict score {score} is outside [0, 1]")
    return float(score), reasoning


def _usage(response: Response) -> JudgeUsage:
    return JudgeUsage(
        calls=1,
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
        cost=response.cost,
    )


class ModelGraded(Scorer):
    """A judge model grades the output against ``rubric`` (a template over case fields).

    Args:
        rubric: what a good answer does; may use case fields (``{{ target }}``).
        model: the judge, ``"provider/model"`` or a model from ``llmlab.models.get_model()``;
            default: the suite's model.
        template: the whole judge prompt (variables: input, output, rubric, case fields).
        structured: ask for the verdict schema as structured output.
    """

    name = "judge"

    def __init__(
        self,
        rubric: str,
        *,
        model: str | Model | None = None,
        template: str = DEFAULT_JUDGE_TEMPLATE,
        structured: bool = True,
        max_tokens: int = 300,
    ) -> None:
        check_model(model, "the judge model")
        self.rubric = rubric
        self.model = model
        self.template = template
        self.structured = structured
        self.max_tokens = max_tokens

    def _model(self) -> Model:
        chosen = self.model if self.model is not None else default_judge_model.get()
        if chosen is None:
            raise LlmlabError("a model-graded scorer needs a judge: give model='provider/name'")
        return get_model(chosen) if isinstance(chosen, str) else chosen

    async def score(self, output: str, case: EvalCase) -> Score:
        variables = case.variables()
        variables["output"] = output
        variables["rubric"] = render_text(
            self.rubric, variables, case_id=case.id, where="judge rubric"
        )
        prompt = render_text(self.template, variables, case_id=case.id, where="judge template")
        request = Request.of(
            prompt,
            temperature=0.0,
            max_tokens=self.max_tokens,
            json_schema=VERDICT_SCHEMA if self.structured else None,
            tags={"role": "judge"},
        )
        try:
            response = await self._model().generate(request)
        except LlmlabError as exc:
            return Score.error(f"judge call failed: {exc}")
        usage = _usage(response)
        try:
            value, reasoning = parse_verdict(response.text)
        except ValueError as exc:
            return Score.error(f"unparsable judge verdict: {exc}: {response.text[:200]!r}", usage)
        return Score(value=value, explanation=reasoning, judge=usage)
