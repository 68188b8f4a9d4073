"""``Score`` and the ``Scorer`` interface, plus the templated base most scorers use."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from llmlab._errors import TemplateError
from llmlab.evals._case import EvalCase, located
from llmlab.evals._template import check_syntax, is_template, render_value

__all__ = ["JudgeUsage", "Score", "Scorer", "TemplatedScorer"]


@dataclass(slots=True)
class JudgeUsage:
    """Tokens and cost spent by judge models, kept apart from the model under test."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal | None = None

    def add(self, other: JudgeUsage | None) -> None:
        if other is None:
            return
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        if other.cost is not None:
            self.cost = (self.cost or Decimal(0)) + other.cost


@dataclass(slots=True)
class Score:
    """A scorer's verdict on one output.

    Attributes:
        value: in [0, 1]; meaningless when ``errored``.
        errored: the scorer could not judge (a judge's verdict did not parse, the
            scorer raised); counted apart from a low score.
        explanation: why, in a few words.
        parts: per-scorer values of a combined score (None where a part errored).
        judge: judge-model usage spent on this score, if any.
    """

    value: float
    errored: bool = False
    explanation: str = ""
    parts: dict[str, float | None] = field(default_factory=dict)
    judge: JudgeUsage | None = None

    @classmethod
    def error(cls, explanation: str, judge: JudgeUsage | None = None) -> Score:
        return cls(value=0.0, errored=True, explanation=explanation, judge=judge)


class Scorer(abc.ABC):
    """Scores one output of one case. Implement ``score``; set ``name``."""

    name: str = "scorer"

    @abc.abstractmethod
    async def score(self, output: str, case: EvalCase) -> Score:
        """Score ``output`` given ``case``; return an errored ``Score`` rather than raise."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    return False


class TemplatedScorer(Scorer):
    """A synchronous scorer whose parameters may be Jinja2 templates over case fields."""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self._templated = {k: v for k, v in params.items() if _has_template(v)}
        check_syntax(self._templated)

    def resolve(self, case: EvalCase) -> dict[str, Any]:
        """The parameters rendered for ``case``."""
        if not self._templated:
            return self.params
        rendered: dict[str, Any] = render_value(
            self._templated, case.variables(), case_id=case.id, where=f"scorer {self.name!r}"
        )
        return {**self.params, **rendered}

    def prepare(self, cases: Iterable[EvalCase]) -> None:
        """Render the parameters for every case once, so that a missing field fails
        before any call. Nothing is kept: rendering again when scoring costs a few
        microseconds a case, keeping every case's parameters for a whole run costs
        about 200 bytes a case."""
        if self._templated:
            for case in cases:
                try:
                    self.resolve(case)
                except TemplateError as exc:
                    raise located(exc, case) from None

    @abc.abstractmethod
    def check(self, output: str, **params: Any) -> Score:
        """Score ``output`` with rendered parameters."""

    async def score(self, output: str, case: EvalCase) -> Score:
        params = self.resolve(case)
        try:
            return self.check(output, **params)
        except (TypeError, ValueError) as exc:
            return Score.error(f"{self.name}: {exc}")
