"""Criterion kinds on the learner's Python: an eval suite, a scorer.

``evaluator_separates``: the learner's cases and scorer (the guide's ``EvalCase`` /
``LLMEvaluator`` shape) must pass a known-good function and catch known-bad ones,
including buggy variants the learner never sees.

``scorer_agreement``: the learner's scorer must agree with human labels, on the labels
the learner has and on held-out ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmlab._errors import InputError
from llmlab.evals import EvalCase, LLMEvaluator
from llmlab.labs._context import GradeContext, criterion_kind, lab_callable
from llmlab.labs._learner import call_learner, learner_callable, load_learner_module
from llmlab.labs._results import CaseDetail, CriterionResult, fraction_text, percent

__all__: list[str] = []


class _Guard:
    """Wraps a learner's scorer so an exception in it is reported at its line."""

    def __init__(self, fn: Callable[..., Any], path: Path) -> None:
        self.fn = fn
        self.path = path
        self.error: InputError | None = None

    def __call__(self, output: str, expected: object) -> float:
        # ``expected``: a case's expected properties, handed to the learner's scorer unread
        try:
            value = call_learner(self.fn, self.path, output, expected)
        except InputError as exc:
            self.error = self.error or exc
            raise
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error = self.error or InputError(
                f"{self.fn.__name__} must return a number in [0, 1], not {value!r}", path=self.path
            )
            raise self.error
        return float(value)


def _learner_cases(module: Any, name: str, path: Path) -> list[EvalCase]:
    cases = getattr(module, name, None)
    if not isinstance(cases, list | tuple) or not all(isinstance(c, EvalCase) for c in cases):
        raise InputError(f"define `{name}` as a list of EvalCase", path=path)
    return list(cases)


@criterion_kind("evaluator_separates")
def evaluator_separates(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file``, ``cases`` (name), ``scorer`` (name), ``good`` (lab function),
    ``bad`` (lab functions: name -> ref), ``min_cases``, ``bad_max_pass_rate``."""
    path = ctx.learner(str(params.get("file", "suite.py")))
    module = load_learner_module(path)
    cases = _learner_cases(module, str(params.get("cases", "CASES")), path)
    guard = _Guard(learner_callable(module, str(params.get("scorer", "score")), path), path)
    min_cases = int(params.get("min_cases", 6))
    results = [
        CriterionResult(
            name="cases in the suite",
            passed=len(cases) >= min_cases,
            measured=f"{len(cases)} cases",
            bar=f"needs ≥ {min_cases}",
            distance="" if len(cases) >= min_cases else f"{min_cases - len(cases)} more cases",
        )
    ]
    if not cases:
        return results
    evaluator = LLMEvaluator(cases, concurrency=1, store=ctx.store)

    def run(ref: str) -> tuple[int, int, list[CaseDetail]]:
        outcome = evaluator.evaluate(lab_callable(ctx.lab, ref), guard, echo=None)
        if guard.error is not None:
            raise guard.error
        shown = [
            CaseDetail(
                case_id=str(f.input)[:60],
                answer=str(f.output),
                score=f.score,
                reason=f.error or "below the pass threshold 0.7",
            )
            for f in outcome.failures[:3]
        ]
        return outcome.passed, outcome.passed + outcome.failed, shown

    k, n, shown = run(str(params["good"]))
    results.append(
        CriterionResult(
            name="the known-good function passes",
            passed=k == n,
            measured=fraction_text(k, n),
            bar=f"needs {n}/{n}",
            distance="" if k == n else "a case or the scorer is too strict",
            failures=tuple(shown),
        )
    )
    bar = float(params.get("bad_max_pass_rate", 0.5))
    for label, ref in dict(params["bad"]).items():
        k, n, _ = run(str(ref))
        results.append(
            CriterionResult(
                name=f"catches the bug: {label}",
                passed=k / n <= bar,
                measured=fraction_text(k, n) + " pass",
                bar=f"needs ≤ {percent(bar)} passing",
                distance="" if k / n <= bar else "add cases or properties that this bug breaks",
            )
        )
    return results


@dataclass(frozen=True, slots=True)
class _Label:
    """One line of a labels file: a scorer's inputs and what a person said of them."""

    output: object
    expected: object
    human: bool
    id: str | None


def _labels(path: Path) -> list[_Label]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc.msg}", path=path, line=number) from None
            if not isinstance(row, dict) or not {"output", "expected", "human"} <= row.keys():
                raise InputError(
                    "a label is an object with output, expected and human", path=path, line=number
                )
            label_id = row.get("id")
            rows.append(
                _Label(
                    output=row["output"],
                    expected=row["expected"],
                    human=bool(row["human"]),
                    id=None if label_id is None else str(label_id),
                )
            )
    return rows


def _agreement(
    fn: Callable[..., Any], path: Path, rows: list[_Label], name: str, need: float
) -> CriterionResult:
    agree = 0
    disagreements: list[CaseDetail] = []
    for row in rows:
        value = call_learner(fn, path, row.output, row.expected)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{fn.__name__} must return a number, not {value!r}", path=path)
        if (float(value) >= 0.5) == row.human:
            agree += 1
        else:
            disagreements.append(
                CaseDetail(
                    case_id=row.id if row.id is not None else str(len(disagreements)),
                    answer=str(row.output),
                    expected=str(row.expected),
                    score=float(value),
                    reason=f"a human said {'pass' if row.human else 'fail'}",
                )
            )
    n = len(rows)
    needed = -(-need * n // 1)
    return CriterionResult(
        name=name,
        passed=agree >= needed,
        measured=fraction_text(agree, n),
        bar=f"needs ≥ {int(needed)}/{n}",
        distance="" if agree >= needed else f"{int(needed) - agree} more agreements",
        failures=tuple(disagreements[:3]),
    )


@criterion_kind("scorer_agreement")
def scorer_agreement(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file``, ``function``, ``visible`` (labels in the learner's folder),
    ``held_out`` (labels in the lab), ``min_agreement``, ``min_held_out_agreement``."""
    path = ctx.learner(str(params.get("file", "scorer.py")))
    fn = learner_callable(load_learner_module(path), str(params.get("function", "score")), path)
    visible = _labels(ctx.learner(str(params["visible"])))
    held_out = _labels(ctx.lab_file(str(params["held_out"])))
    results = [
        _agreement(fn, path, visible, "agreement with your labels", float(params["min_agreement"])),
        _agreement(
            fn,
            path,
            held_out,
            "agreement with held-out labels",
            float(params.get("min_held_out_agreement", params["min_agreement"])),
        ),
    ]
    # the held-out rows stay hidden: say how many disagree, not which
    results[1] = CriterionResult(
        name=results[1].name,
        passed=results[1].passed,
        measured=results[1].measured,
        bar=results[1].bar,
        distance=results[1].distance,
    )
    return results
