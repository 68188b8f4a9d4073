"""Criterion kinds on numbers the learner computes, and on a lab's own checks.

``answers``: each key of the learner's ``answers.toml`` against the tool's own
recomputation (a function in the lab's ``hidden/``), within a tolerance.

``lab_check``: a function in the lab's ``hidden/`` measures what the lab teaches and
returns its criteria (for a lab whose lesson is not a pass rate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from llmlab._errors import ConfigError
from llmlab.labs._context import GradeContext, criterion_kind, lab_callable
from llmlab.labs._learner import load_learner_toml
from llmlab.labs._results import CriterionResult

__all__: list[str] = []


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value) if isinstance(value, str) else str(value)


def _compare(key: str, mine: Any, truth: Any, tolerance: float) -> CriterionResult:
    name = key
    if mine is None:
        return CriterionResult(
            name=name, passed=False, measured="not answered", bar="fill it in answers.toml"
        )
    if isinstance(truth, bool | str):
        ok = type(mine) is type(truth) and mine == truth
        return CriterionResult(
            name=name,
            passed=ok,
            measured=f"yours {_show(mine)}",
            bar="matches the tool's answer" if ok else "the tool disagrees",
        )
    if isinstance(mine, bool) or not isinstance(mine, int | float):
        return CriterionResult(
            name=name, passed=False, measured=f"yours {_show(mine)}", bar="needs a number"
        )
    gap = abs(float(mine) - float(truth))
    ok = gap <= tolerance or math.isclose(float(mine), float(truth), rel_tol=1e-9)
    # The tool's figure is shown only once the learner's matches: otherwise the check
    # would hand out the answer. The direction is a fair clue.
    direction = "too high" if float(mine) > float(truth) else "too low"
    return CriterionResult(
        name=name,
        passed=ok,
        measured=f"yours {_show(mine)}" + (f", tool {_show(truth)}" if ok else ""),
        bar=f"must match the tool's recomputation ± {tolerance:g}",
        distance="" if ok else f"{direction} by more than {tolerance:g}",
    )


@criterion_kind("answers")
def answers(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file`` (answers.toml), ``compute`` (lab function of the learner's
    folder returning key -> value), ``tolerance`` (default), ``tolerances`` (per key)."""
    path = ctx.learner(str(params.get("file", "answers.toml")))
    mine = load_learner_toml(path)
    truth = lab_callable(ctx.lab, str(params["compute"]))(ctx.lab_dir)
    if not isinstance(truth, dict):
        raise ConfigError(f"lab {ctx.lab.name}: {params['compute']} must return a dict")
    default = float(params.get("tolerance", 1e-6))
    per_key = dict(params.get("tolerances", {}))
    return [
        _compare(key, mine.get(key), value, float(per_key.get(key, default)))
        for key, value in truth.items()
    ]


@criterion_kind("lab_check")
def lab_check(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``call`` (lab function ``(lab_dir, model) -> list of dicts`` with
    name, passed, measured, bar, distance, note)."""
    found = lab_callable(ctx.lab, str(params["call"]))(ctx.lab_dir, ctx.model)
    results = []
    for item in found:
        results.append(
            CriterionResult(
                name=str(item["name"]),
                passed=bool(item["passed"]),
                measured=str(item.get("measured", "")),
                bar=str(item.get("bar", "")),
                distance=str(item.get("distance", "")) if not item["passed"] else "",
                note=str(item.get("note", "")),
                gating=bool(item.get("gating", True)),
            )
        )
    return results
