"""Criterion kind ``prompt_eval``: the learner's prompt file through the model, scored.

The model runs greedy (temperature 0) with a fixed seed, one case at a time, so a check
answers the same twice on the same machine. Held-out cases from the lab's ``hidden/``
folder decide; the visible cases are shown, with every failing case's exact rendered
prompt, answer, score and reason.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmlab._errors import InputError, TemplateError
from llmlab.evals import EvalCase, EvalSuite, load_dataset, paired_test, scorers_from_spec
from llmlab.labs._context import GradeContext, criterion_kind
from llmlab.labs._learner import load_learner_yaml
from llmlab.labs._results import CaseDetail, CriterionResult, fraction_text, percent
from llmlab.models import get_model

__all__ = ["PromptFile", "read_prompt_file"]

_SHOWN_FAILURES = 3


class PromptFile(BaseModel):
    """The learner's ``prompt.yaml``."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    system: str | None = None
    json_schema: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, gt=0)


def _key_line(path: Path, key: object) -> int | None:
    if not isinstance(key, str):
        return None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if pattern.match(line):
            return number
    return None


def read_prompt_file(path: Path) -> PromptFile:
    """Parse and validate a prompt file; a mistake names its file and line."""
    data = load_learner_yaml(path)
    if not isinstance(data, dict):
        raise InputError("expected a mapping with at least `prompt:`", path=path, line=1)
    try:
        return PromptFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = error["loc"][0] if error["loc"] else None
        field = ".".join(str(part) for part in error["loc"]) or "file"
        raise InputError(
            f"{field}: {error['msg']}", path=path, line=_key_line(path, where)
        ) from None


@dataclass(frozen=True, slots=True)
class CaseRun:
    """One case through the model: what was sent, what came back, how it scored."""

    case: EvalCase
    rendered: str
    answer: str
    score: float
    passed: bool
    reason: str
    input_tokens: int


def _suite(ctx: GradeContext, spec: PromptFile, params: Mapping[str, Any], path: Path) -> EvalSuite:
    options: dict[str, Any] = {"temperature": 0.0, "seed": ctx.seed}
    cap = int(params.get("max_tokens", 64))
    options["max_tokens"] = min(spec.max_tokens or cap, cap)
    if spec.json_schema is not None:
        options["json_schema"] = spec.json_schema
    try:
        return EvalSuite(
            name=f"lab-{ctx.lab.slug}",
            prompt=spec.prompt,
            system=spec.system,
            cases=[],
            scorers=scorers_from_spec(list(params["scorers"]), base_dir=ctx.lab.folder),
            threshold=float(params.get("threshold", 0.7)),
            request_options=options,
            tags={"lab": ctx.lab.slug},
        )
    except TemplateError as exc:
        raise InputError(str(exc), path=path, line=_key_line(path, "prompt")) from None


async def _run(
    suite: EvalSuite, cases: Sequence[EvalCase], ctx: GradeContext, path: Path
) -> list[CaseRun]:
    model = get_model(ctx.model, store=ctx.store)
    runs: list[CaseRun] = []
    try:
        for case in cases:  # one sequence at a time: the answer cannot depend on batching
            try:
                prompt, system = suite.render(case)
            except TemplateError as exc:
                raise InputError(
                    f"{exc}".split(": ", 1)[-1], path=path, line=_key_line(path, "prompt")
                ) from None
            response = await model.generate(suite.request_for(prompt, system))
            score = await suite.scorer.score(response.text, case)
            rendered = f"[system] {system}\n[user] {prompt}" if system else prompt
            runs.append(
                CaseRun(
                    case=case,
                    rendered=rendered,
                    answer=response.text,
                    score=score.value,
                    passed=not score.errored and score.value >= suite.threshold,
                    reason=score.explanation,
                    input_tokens=response.usage.input_tokens,
                )
            )
    finally:
        await model.close_loop_clients()
    return runs


def _cases(path: Path) -> list[EvalCase]:
    return load_dataset(path)


def _evaluate(
    ctx: GradeContext, prompt_path: Path, cases_path: Path, params: Mapping[str, Any]
) -> list[CaseRun]:
    # Criteria that share the prompt, the cases and the grading share one run.
    grading = (params.get("scorers"), params.get("threshold"), params.get("max_tokens"))
    key = f"prompt_eval:{prompt_path}:{prompt_path.read_text(encoding='utf-8')}:{cases_path}"
    key += repr(grading)
    if key not in ctx.memo:
        spec = read_prompt_file(prompt_path)
        suite = _suite(ctx, spec, params, prompt_path)
        ctx.memo[key] = asyncio.run(_run(suite, _cases(cases_path), ctx, prompt_path))
    runs: list[CaseRun] = ctx.memo[key]
    return runs


def _details(runs: Sequence[CaseRun], expected_field: str | None) -> tuple[CaseDetail, ...]:
    return tuple(
        CaseDetail(
            case_id=run.case.id,
            prompt=run.rendered,
            answer=run.answer,
            score=run.score,
            reason=run.reason,
            expected=str(run.case.fields.get(expected_field, "")) if expected_field else "",
        )
        for run in runs
        if not run.passed
    )[:_SHOWN_FAILURES]


def _rendered_carries(runs: Sequence[CaseRun], fields: Sequence[str]) -> CriterionResult:
    missing = [
        run
        for run in runs
        if not all(str(run.case.fields.get(f, "")) in run.rendered for f in fields)
    ]
    k, n = len(runs) - len(missing), len(runs)
    shown = tuple(
        CaseDetail(
            case_id=run.case.id,
            prompt=run.rendered,
            answer=run.answer,
            score=run.score,
            reason="the rendered prompt lacks "
            + ", ".join(f for f in fields if str(run.case.fields.get(f, "")) not in run.rendered),
        )
        for run in missing[:1]
    )
    return CriterionResult(
        name=f"rendered prompts carry {', '.join(fields)}",
        passed=not missing,
        measured=f"{k}/{n} prompts",
        bar=f"needs {n}/{n}",
        distance="" if not missing else f"{len(missing)} prompts lose a variable",
        failures=shown,
    )


def _baseline(
    ctx: GradeContext, runs: Sequence[CaseRun], params: Mapping[str, Any], cases: Path
) -> list[CriterionResult]:
    base = _evaluate(ctx, ctx.lab_file(str(params["baseline"])), cases, params)
    base_tokens = sum(r.input_tokens for r in base) / len(base)
    tokens = sum(r.input_tokens for r in runs) / len(runs)
    cut = 1 - tokens / base_tokens if base_tokens else 0.0
    need_cut = float(params.get("min_token_cut", 0.4))
    margin = float(params.get("margin", 0.1))
    test = paired_test(
        "passed",
        [float(r.passed) for r in base],
        [float(r.passed) for r in runs],
        binary=True,
        seed=ctx.seed,
    )
    diff = test.difference
    k_base, k = sum(r.passed for r in base), sum(r.passed for r in runs)
    price = float(params.get("price_per_mtok", 0.15))  # a hosted small model's input price
    per_million = f"${tokens * price:,.0f} vs ${base_tokens * price:,.0f} per million calls"
    return [
        CriterionResult(
            name="input tokens per call",
            passed=cut >= need_cut,
            measured=f"{tokens:.0f} vs baseline {base_tokens:.0f} (cut {percent(cut)}; "
            f"{per_million} at ${price:g}/M tokens)",
            bar=f"needs a cut ≥ {percent(need_cut)}",
            distance=""
            if cut >= need_cut
            else f"{base_tokens * (1 - need_cut):.0f} tokens or fewer",
        ),
        CriterionResult(
            name="no loss against the baseline (paired)",
            passed=diff.low >= -margin,
            measured=(
                f"{k}/{len(runs)} vs baseline {k_base}/{len(base)}, difference "
                f"{diff.estimate * 100:+.0f}% "
                f"[95% CI {diff.low * 100:+.0f}–{diff.high * 100:+.0f}%]"
            ),
            bar=f"needs the lower bound ≥ −{percent(margin)}",
            distance=""
            if diff.low >= -margin
            else "the cut costs quality: keep what the model needs",
        ),
    ]


@criterion_kind("prompt_eval")
def prompt_eval(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """The learner's prompt file on visible and held-out cases (see lab.toml ``[[criteria]]``).

    Parameters: ``file`` (the prompt file), ``scorers`` (a suite's scorer list),
    ``held_out`` (cases file in the lab), ``min_passed`` (held-out cases that must pass),
    optional ``visible`` (cases file in the learner's folder), ``require_fields``,
    ``baseline`` (+ ``min_token_cut``, ``margin``, ``price_per_mtok``), ``threshold``,
    ``max_tokens``, ``expected_field`` (the case field shown as the expected answer).
    """
    prompt_path = ctx.learner(str(params.get("file", "prompt.yaml")))
    expected_field = params.get("expected_field")  # the case field shown as "expected"
    results: list[CriterionResult] = []
    visible_runs: list[CaseRun] = []
    if "visible" in params:
        visible_runs = _evaluate(ctx, prompt_path, ctx.learner(str(params["visible"])), params)
        k = sum(r.passed for r in visible_runs)
        results.append(
            CriterionResult(
                name="visible cases",
                passed=k == len(visible_runs),
                measured=fraction_text(k, len(visible_runs)),
                gating=False,
                failures=_details(visible_runs, expected_field),
            )
        )
    held_path = ctx.lab_file(str(params["held_out"]))
    runs = _evaluate(ctx, prompt_path, held_path, params)
    k, n = sum(r.passed for r in runs), len(runs)
    need = int(params["min_passed"])
    note = ""
    if k < need and visible_runs and all(r.passed for r in visible_runs):
        note = (
            "every visible case passes but the held-out ones do not: the prompt is tuned "
            "to the examples you can see"
        )
    if "require_fields" in params:
        results.append(_rendered_carries(visible_runs + runs, list(params["require_fields"])))
    results.append(
        CriterionResult(
            name="held-out pass rate",
            passed=k >= need,
            measured=fraction_text(k, n),
            bar=f"needs ≥ {need}/{n}",
            distance="" if k >= need else f"{need - k} more case{'s' if need - k > 1 else ''}",
            note=note,
            failures=() if visible_runs else _details(runs, expected_field),
        )
    )
    if "baseline" in params:
        results.extend(_baseline(ctx, runs, params, held_path))
    return results
