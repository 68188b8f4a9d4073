"""The seed's shape: ``LLMEvaluator(cases).evaluate(llm_function, scorer) -> EvalResult``.

Works for any Python callable, sync or async, and for a managed model
(``llmlab.models.get_model()``), which is asked ``case.input`` as its prompt.
``avg_score`` is the mean weighted by each case's weight, Σwᵢsᵢ / Σwᵢ (so it stays within
[0, 1]; an errored case scores 0); a case passes when its score reaches the threshold
(default 0.7). Failed and errored cases are kept, with their input
and score, in ``EvalResult.failures``.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from llmlab._errors import InputError
from llmlab.evals._case import EvalCase
from llmlab.evals._combine import as_score, as_scorer
from llmlab.evals._score import Scorer
from llmlab.models import Model, Request
from llmlab.store import Store, using_store

__all__ = ["CaseFailure", "EvalResult", "LLMEvaluator"]


@dataclass(slots=True)
class CaseFailure:
    """A case that failed: its input, its score (None when it errored) and why."""

    case_id: str
    input: Any
    score: float | None
    output: str | None = None
    error: str | None = None

    def __str__(self) -> str:
        text = str(self.input)
        head = text[:50] + ("..." if len(text) > 50 else "")
        if self.error is not None:
            return f"ERROR: {head} -> {self.error}"
        return f"FAIL: {head} -> Score: {self.score}"


@dataclass(slots=True)
class EvalResult:
    """Counts and scores of one evaluation, as in the seed, plus the failures.

    Attributes:
        scores: each case's score in [0, 1], in case order (0 for an errored case).
        avg_score: their mean weighted by the cases' weights (0 when no case has weight).
    """

    passed: int
    failed: int
    scores: list[float]
    avg_score: float
    failures: list[CaseFailure] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        total = self.passed + self.failed
        return self.passed / total if total else 0.0

    def report(self) -> str:
        """The failures, one line each, then the totals."""
        lines = [str(f) for f in self.failures]
        lines.append(
            f"passed {self.passed}/{self.passed + self.failed} ({self.pass_rate:.0%}), "
            f"avg score {self.avg_score:.3f}"
        )
        return "\n".join(lines)


class LLMEvaluator:
    """Run a function over cases and score each output.

    Args:
        test_cases: the cases.
        threshold: a case passes when its score is at least this.
        concurrency: how many cases run at once (sync functions run in threads).
        store: the store that model calls made during the evaluation are recorded in
            (it is the default handle while the evaluation runs; default: leave the
            default handle as it is).
    """

    def __init__(
        self,
        test_cases: Sequence[EvalCase],
        *,
        threshold: float = 0.7,
        concurrency: int = 8,
        store: Store | None = None,
    ) -> None:
        self.test_cases = list(test_cases)
        self.threshold = threshold
        self.concurrency = max(1, concurrency)
        self.store = store

    def evaluate(
        self,
        llm_function: Callable[[Any], Any] | Model,
        scorer: Scorer | Callable[..., Any],
        *,
        echo: TextIO | None = sys.stdout,
    ) -> EvalResult:
        """Evaluate synchronously; inside a running event loop use ``aevaluate``."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.aevaluate(llm_function, scorer, echo=echo))
        raise RuntimeError("evaluate() called inside an event loop; use `await aevaluate(...)`")

    async def aevaluate(
        self,
        llm_function: Callable[[Any], Any] | Model,
        scorer: Scorer | Callable[..., Any],
        *,
        echo: TextIO | None = sys.stdout,
    ) -> EvalResult:
        """Evaluate: call ``llm_function(case.input)`` for every case and score it.

        ``echo`` receives a FAIL/ERROR line per failed case (None: quiet).

        Raises:
            InputError: ``llm_function`` is neither a callable nor a managed model.
        """
        function = _as_function(llm_function)
        if self.store is None:
            return await self._evaluate(function, scorer, echo)
        with using_store(self.store):
            return await self._evaluate(function, scorer, echo)

    async def _evaluate(
        self,
        llm_function: Callable[[Any], Any],
        scorer: Scorer | Callable[..., Any],
        echo: TextIO | None,
    ) -> EvalResult:
        the_scorer = as_scorer(scorer)
        limit = asyncio.Semaphore(self.concurrency)
        is_async = inspect.iscoroutinefunction(llm_function)

        async def one(case: EvalCase) -> tuple[float | None, CaseFailure | None]:
            async with limit:
                try:
                    if is_async:
                        output = await llm_function(case.input)
                    else:
                        output = await asyncio.to_thread(llm_function, case.input)
                        if inspect.isawaitable(output):
                            output = await output
                except Exception as exc:  # a failing call is a failed case, not a crash
                    error = f"{type(exc).__name__}: {exc}"
                    return None, CaseFailure(case.id, case.input, None, error=error)
            result = as_score(await the_scorer.score(str(output), case), the_scorer.name)
            if result.errored:
                return None, CaseFailure(
                    case.id, case.input, None, str(output), error=result.explanation
                )
            if result.value >= self.threshold:
                return result.value, None
            return result.value, CaseFailure(case.id, case.input, result.value, str(output))

        outcomes = await asyncio.gather(*(one(case) for case in self.test_cases))
        scores: list[float] = []
        failures: list[CaseFailure] = []
        passed = 0
        weighted = total_weight = 0.0
        for case, (value, failure) in zip(self.test_cases, outcomes, strict=True):
            scores.append(value or 0.0)
            weighted += (value or 0.0) * case.weight
            total_weight += case.weight
            if failure is None:
                passed += 1
            else:
                failures.append(failure)
                if echo is not None:
                    print(failure, file=echo)
        return EvalResult(
            passed=passed,
            failed=len(failures),
            scores=scores,
            avg_score=weighted / total_weight if total_weight > 0 else 0.0,
            failures=failures,
        )


def _as_function(target: object) -> Callable[[Any], Any]:
    if isinstance(target, Model):
        model = target

        async def ask(prompt: Any) -> str:
            return (await model.generate(Request.of(str(prompt)))).text

        return ask
    if callable(target):
        return target
    raise InputError(
        f"LLMEvaluator.evaluate needs a function (input -> output) or a model from "
        f"llmlab.models.get_model(), not {type(target).__name__}"
    )
