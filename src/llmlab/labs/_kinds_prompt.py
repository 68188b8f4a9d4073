"""Criterion kind ``prompt_eval``: the learner's prompt file through the model, scored.

The model runs greedy (temperature 0) with a fixed seed, one case at a time, so a check
answers the same twice on the same machine. Held-out cases from the lab's ``hidden/``
folder decide; the visible cases are shown, with every failing case's exact rendered
prompt, answer, score and reason.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from llmlab._errors import ConfigError, InputError, TemplateError
from llmlab.evals import EvalCase, EvalSuite, load_dataset, paired_test, scorers_from_spec
from llmlab.labs._context import GradeContext, criterion_kind
from llmlab.labs._costs import price_override, recorded_costs
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
    json_schema: dict[str, JsonValue] | None = None
    max_tokens: int | None = Field(default=None, gt=0)


class _RequestOptions(TypedDict, total=False):
    """What a lab's check asks of the model, besides the prompt."""

    temperature: float
    seed: int
    max_tokens: int
    json_schema: dict[str, JsonValue]


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


def _suite(
    ctx: GradeContext, spec: PromptFile, params: Mapping[str, Any], path: Path, run_tag: str
) -> EvalSuite:
    cap = int(params.get("max_tokens", 64))
    options: _RequestOptions = {
        "temperature": 0.0,
        "seed": ctx.seed,
        "max_tokens": min(spec.max_tokens or cap, cap),
    }
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
            tags={"lab": ctx.lab.slug, "lab_run": run_tag},
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
    return _evaluate_tagged(ctx, prompt_path, cases_path, params)[0]


def _evaluate_tagged(
    ctx: GradeContext, prompt_path: Path, cases_path: Path, params: Mapping[str, Any]
) -> tuple[list[CaseRun], str]:
    """The runs, and the ``lab_run`` tag their recorded calls carry."""
    # Criteria that share the prompt, the cases and the grading share one run.
    grading = (params.get("scorers"), params.get("threshold"), params.get("max_tokens"))
    key = f"prompt_eval:{prompt_path}:{prompt_path.read_text(encoding='utf-8')}:{cases_path}"
    key += repr(grading)
    found = ctx.prompt_runs.get(key)
    if found is None:
        spec = read_prompt_file(prompt_path)
        tag = uuid.uuid4().hex  # the calls of this evaluation, as recorded, carry it
        suite = _suite(ctx, spec, params, prompt_path, tag)
        prices = ctx.lab_file(str(params["prices"])) if "prices" in params else None
        with price_override(prices):
            runs = asyncio.run(_run(suite, _cases(cases_path), ctx, prompt_path))
        found = ctx.prompt_runs[key] = (runs, tag)
    return found


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


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _baseline(
    ctx: GradeContext, runs: list[CaseRun], run_tag: str, params: Mapping[str, Any], cases: Path
) -> list[CriterionResult]:
    base, base_tag = _evaluate_tagged(ctx, ctx.lab_file(str(params["baseline"])), cases, params)
    # Figures from the calls as the store recorded them, priced by the lab's price
    # override: what a team would read in `llmlab monitor stats`.
    old = recorded_costs(ctx.store, base_tag, len(base))
    new = recorded_costs(ctx.store, run_tag, len(runs))
    if new.priced < new.calls or old.priced < old.calls:
        raise ConfigError(
            f"lab {ctx.lab.name}: {new.calls + old.calls - new.priced - old.priced} calls to "
            f"{ctx.model} have no price (neither the lab's price file nor llmlab's price "
            "data knows it); check this lab with the embedded model"
        )
    cut = float(1 - new.per_call / old.per_call) if old.per_call else 0.0
    need_cut = float(params.get("min_cost_cut", 0.4))
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
    million = Decimal(1_000_000)
    return [
        CriterionResult(
            name="cost per call (recorded, priced as a hosted model)",
            passed=cut >= need_cut,
            measured=f"{_money(new.per_call * million)} vs baseline "
            f"{_money(old.per_call * million)} per million calls (cut {percent(cut)}; "
            f"input tokens per call {new.input_per_call:.0f} vs {old.input_per_call:.0f})",
            bar=f"needs a cut ≥ {percent(need_cut)}",
            distance=""
            if cut >= need_cut
            else f"{_money(old.per_call * million * Decimal(1 - need_cut))} per million "
            "calls or less",
            note=f"prices: {new.source}",
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
    ``baseline`` (+ ``min_cost_cut``, ``margin``), ``prices`` (a price override file
    in the lab, applied while the model runs), ``threshold``,
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
    runs, run_tag = _evaluate_tagged(ctx, prompt_path, held_path, params)
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
        results.extend(_baseline(ctx, runs, run_tag, params, held_path))
    return results
