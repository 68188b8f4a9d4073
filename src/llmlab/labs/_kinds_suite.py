"""Criterion kind ``yaml_suite_separates``: a YAML suite, run as `llmlab eval run` runs it.

The suite file is read by ``llmlab.evals.load_suite`` and run by the real runner
(``run_eval``, runs and results recorded in the store). The function under test stands
behind a scripted model (``scripted/<lab>-<name>``): it is asked each rendered prompt, so
the suite's ``prompt`` must hand it the article. The YAML suite must be the learner's
Python suite written again (same cases, properties, weights and pass threshold, and the
same verdict on every case of every function), and must, too, pass the known-good
function and catch the bad ones.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from llmlab._errors import InputError
from llmlab.evals import (
    EvalCase,
    EvalSuite,
    LLMEvaluator,
    case_verdicts,
    load_suite,
    run_eval,
    show_run,
)
from llmlab.labs._context import GradeContext, criterion_kind, lab_callable
from llmlab.labs._kinds_python import _Guard, _learner_cases
from llmlab.labs._learner import learner_callable, load_learner_module
from llmlab.labs._results import CaseDetail, CriterionResult, fraction_text, percent
from llmlab.models import Request, scripted

__all__: list[str] = []


def _first_key_line(path: Path, message: str) -> int | None:
    """The line of the top-level key the first problem names (``dataset.3.weight: ...``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for problem in message.removeprefix("invalid suite: ").split("; "):
        key = problem.split(":", 1)[0].split(".", 1)[0].strip()
        pattern = re.compile(rf"^{re.escape(key)}\s*:")
        for number, line in enumerate(lines, 1):
            if key and pattern.match(line):
                return number
    return None


def _load(path: Path) -> EvalSuite:
    if not path.is_file():
        raise InputError(
            "the file is missing; run `llmlab labs reset` to restore the starter", path=path
        )
    try:
        return load_suite(path)
    except InputError as exc:
        if exc.line is not None:
            raise
        text = str(exc).split(": ", 1)[-1] if exc.path is not None else str(exc)
        raise InputError(text, path=path, line=_first_key_line(path, text) or 1) from None


def _key(value: Any) -> str:
    return str(value).strip()


def _plain(value: Any) -> Any:
    """As YAML would hold it: tuples become lists."""
    return json.loads(json.dumps(value, default=str))


def _equivalence(
    yaml_suite: EvalSuite, cases: Sequence[EvalCase], threshold: float
) -> CriterionResult:
    by_input = {_key(c.input): c for c in yaml_suite.cases}
    problems: list[str] = []
    same = 0
    for number, case in enumerate(cases, 1):
        twin = by_input.get(_key(case.input))
        if twin is None:
            problems.append(f"CASES[{number - 1}]: no case with this input in the YAML suite")
        elif _plain(twin.expected_properties) != _plain(case.expected_properties):
            problems.append(f"CASES[{number - 1}]: expected_properties differ")
        elif twin.weight != case.weight:
            problems.append(
                f"CASES[{number - 1}]: weight {case.weight:g} in CASES, {twin.weight:g} in the YAML"
            )
        else:
            same += 1
    extra = len(yaml_suite.cases) - len(cases)
    if extra > 0:
        problems.append(f"{extra} more case(s) in the YAML suite than in CASES")
    if yaml_suite.threshold != threshold:
        problems.append(f"threshold {yaml_suite.threshold:g}, the Python suite's is {threshold:g}")
    return CriterionResult(
        name="the YAML suite is the Python suite (cases, properties, weights, threshold)",
        passed=not problems,
        measured=f"{same}/{len(cases)} cases identical, threshold {yaml_suite.threshold:g}",
        bar=f"needs {len(cases)}/{len(cases)} and threshold {threshold:g}",
        distance="; ".join(problems[:2]),
    )


def _answerer(fn: Callable[..., Any]) -> Callable[[Request], str]:
    def answer(request: Request) -> str:
        # the function under test is asked the rendered prompt, as a model would be
        return str(fn(request.messages[-1].content))

    return answer


def _run_yaml(
    ctx: GradeContext, suite: EvalSuite, name: str, fn: Callable[..., Any]
) -> tuple[dict[str, tuple[bool, float]], list[CaseDetail]]:
    """The verdict per case input of one run, and its failed results as shown."""
    model = f"{ctx.lab.slug}-{name}"
    scripted(model, function=_answerer(fn), store=ctx.store)
    run = asyncio.run(
        run_eval(
            suite,
            model=f"scripted/{model}",
            concurrency=1,
            cache=False,
            resume=False,
            store=ctx.store,
        )
    )
    verdicts = case_verdicts(run.id, store=ctx.store)
    failed = [
        CaseDetail(
            case_id=r.case_id,
            prompt=r.prompt,
            answer=r.output or "",
            score=r.score,
            reason=r.error or r.explanation or f"below the threshold {suite.threshold:g}",
        )
        for r in show_run(run.id, failed_only=True, store=ctx.store).results[:3]
    ]
    return {_key(c.input): verdicts.get(c.id, (False, 0.0)) for c in suite.cases}, failed


@criterion_kind("yaml_suite_separates")
def yaml_suite_separates(ctx: GradeContext, params: Mapping[str, Any]) -> list[CriterionResult]:
    """Parameters: ``file`` (the YAML suite), ``python`` (the Python suite file),
    ``cases``, ``scorer`` (names in it), ``good``, ``bad`` (lab functions: label -> ref),
    ``bad_max_pass_rate``."""
    path = ctx.learner(str(params.get("file", "suite.yaml")))
    suite = _load(path)
    python_path = ctx.learner(str(params.get("python", "suite.py")))
    module = load_learner_module(python_path)
    cases = _learner_cases(module, str(params.get("cases", "CASES")), python_path)
    scorer = learner_callable(module, str(params.get("scorer", "score")), python_path)
    evaluator = LLMEvaluator(cases, concurrency=1, store=ctx.store)
    results = [_equivalence(suite, cases, evaluator.threshold)]
    if not suite.cases:
        raise InputError("the suite has no cases", path=path)
    functions = {"good": str(params["good"]), **{str(k): str(v) for k, v in params["bad"].items()}}
    agree, compared = 0, 0
    disagreements: list[str] = []
    yaml_runs: dict[str, dict[str, tuple[bool, float]]] = {}
    good_failures: list[CaseDetail] = []
    for index, (label, ref) in enumerate(functions.items()):
        fn = lab_callable(ctx.lab, ref)
        verdicts, failures = _run_yaml(ctx, suite, f"f{index}", fn)
        yaml_runs[label] = verdicts
        good_failures = good_failures or (failures if label == "good" else [])
        guard = _Guard(scorer, python_path)
        outcome = evaluator.evaluate(fn, guard, echo=None)
        if guard.error is not None:
            raise guard.error
        failed = {_key(f.input) for f in outcome.failures}
        for case in cases:
            mine = verdicts.get(_key(case.input))
            if mine is None:
                continue
            compared += 1
            if mine[0] == (_key(case.input) not in failed):
                agree += 1
            elif len(disagreements) < 2:
                disagreements.append(f"{label}: case {_key(case.input)[:30]!r}…")
    results.append(
        CriterionResult(
            name="same verdict per case as the Python suite",
            passed=compared > 0 and agree == compared,
            measured=f"{agree}/{compared} verdicts agree",
            bar=f"needs {compared}/{compared}",
            distance=""
            if not disagreements
            else "the YAML scorers grade differently: " + "; ".join(disagreements),
        )
    )
    good = yaml_runs["good"]
    k, n = sum(p for p, _ in good.values()), len(good)
    results.append(
        CriterionResult(
            name="YAML suite: the known-good function passes",
            passed=k == n,
            measured=fraction_text(k, n),
            bar=f"needs {n}/{n}",
            distance="" if k == n else "a case or a scorer is too strict",
            failures=tuple(good_failures),
        )
    )
    bar = float(params.get("bad_max_pass_rate", 0.5))
    for label in list(functions)[1:]:
        verdicts = yaml_runs[label]
        k, n = sum(p for p, _ in verdicts.values()), len(verdicts)
        results.append(
            CriterionResult(
                name=f"YAML suite catches the bug: {label}",
                passed=k / n <= bar,
                measured=fraction_text(k, n) + " pass",
                bar=f"needs ≤ {percent(bar)} passing",
                distance="" if k / n <= bar else "add properties that this bug breaks",
            )
        )
    return results
