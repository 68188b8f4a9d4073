"""Scorers from Python callables, and the weighted combination of scorers."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

from llmlab.evals._case import EvalCase
from llmlab.evals._score import JudgeUsage, Score, Scorer
from llmlab.evals._template import render_value

__all__ = ["FunctionScorer", "Weighted", "as_score", "as_scorer"]


def as_score(result: Any, name: str) -> Score:
    """Normalise what a custom scorer returned: a ``Score``, a bool or a number in [0, 1]."""
    if isinstance(result, Score):
        if not result.errored and not 0.0 <= result.value <= 1.0:  # NaN fails both
            return Score.error(
                f"{name} returned a Score of {result.value!r}, not a number in [0, 1]",
                judge=result.judge,
            )
        return result
    if isinstance(result, bool):
        return Score(value=1.0 if result else 0.0)
    if isinstance(result, int | float):
        value = float(result)
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            return Score.error(f"{name} returned {result!r}, not a number in [0, 1]")
        return Score(value=value)
    return Score.error(f"{name} returned {type(result).__name__}, not a number, bool or Score")


class FunctionScorer(Scorer):
    """A scorer from a plain function, sync or async.

    The function receives the output, then either the case (when its second parameter
    is named ``case``) or the case's expected properties (the seed's
    ``(output, expected) -> float``); further ``params`` (templates over case fields) are
    passed as keywords.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", "custom"))
        self.params = params or {}
        try:
            positional = [
                p
                for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            positional = []
        self._wants_case = len(positional) >= 2 and positional[1].name == "case"

    async def score(self, output: str, case: EvalCase) -> Score:
        params = (
            render_value(self.params, case.variables(), case_id=case.id, where=self.name)
            if self.params
            else {}
        )
        second: Any = case if self._wants_case else case.expected_properties
        try:
            result = self.fn(output, second, **params)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # a user's scorer failing is an errored score, not a crash
            return Score.error(f"{self.name} raised {type(exc).__name__}: {exc}")
        return as_score(result, self.name)


def as_scorer(value: Scorer | Callable[..., Any]) -> Scorer:
    """A ``Scorer`` as it is; a callable wrapped in ``FunctionScorer``."""
    if isinstance(value, Scorer):
        return value
    if callable(value):
        return FunctionScorer(value)
    raise TypeError(f"not a scorer: {value!r}")


class Weighted(Scorer):
    """The weighted mean of several scorers (the seed's 0.4 × length + 0.6 × key terms).

    Any part erroring makes the combined score errored; ``parts`` keeps each value.
    """

    name = "weighted"

    def __init__(self, parts: Sequence[tuple[Scorer | Callable[..., Any], float]]) -> None:
        if not parts:
            raise ValueError("Weighted needs at least one scorer")
        self.parts: list[tuple[Scorer, float]] = []
        names: set[str] = set()
        for scorer, weight in parts:
            if not math.isfinite(weight) or weight < 0:  # NaN compares false: test it apart
                raise ValueError(f"scorer weight must be a finite number >= 0, not {weight}")
            item = as_scorer(scorer)
            base, n = item.name, 2
            while item.name in names:  # two scorers of one kind get distinct names
                item.name = f"{base}_{n}"
                n += 1
            names.add(item.name)
            self.parts.append((item, float(weight)))
        self.total = sum(w for _, w in self.parts)
        if self.total <= 0:
            raise ValueError("scorer weights must not all be zero")
        self.name = self.parts[0][0].name if len(self.parts) == 1 else "weighted"

    async def score(self, output: str, case: EvalCase) -> Score:
        parts: dict[str, float | None] = {}
        judge: JudgeUsage | None = None
        total = 0.0
        errors: list[str] = []
        notes: list[str] = []
        for scorer, weight in self.parts:
            part = as_score(await scorer.score(output, case), scorer.name)
            if part.judge is not None:
                judge = judge or JudgeUsage()
                judge.add(part.judge)
            if part.errored:
                parts[scorer.name] = None
                errors.append(part.explanation or scorer.name)
                continue
            parts[scorer.name] = part.value
            total += weight * part.value
            if part.explanation:
                notes.append(f"{scorer.name}: {part.explanation}")
        if errors:
            return Score(
                value=0.0, errored=True, explanation="; ".join(errors), parts=parts, judge=judge
            )
        return Score(
            value=total / self.total, explanation="; ".join(notes), parts=parts, judge=judge
        )
