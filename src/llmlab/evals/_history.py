"""Stored runs: find, list, show; the paired comparison of two runs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from llmlab._errors import InputError, NotFoundError
from llmlab._json import JsonObject
from llmlab.evals._case_arrays import CaseArrays, case_arrays
from llmlab.evals._paired import PairedTest, holm, paired_tests
from llmlab.evals._run_summary import RunSummary, run_summary
from llmlab.pricing import plain_decimal
from llmlab.store import (
    EvalResultRow,
    EvalRunRow,
    RunScores,
    Store,
    find_eval_runs,
    get_eval_results,
    get_eval_run,
    list_eval_runs,
    paired_eval_scores,
    resolve_store,
    run_eval_scores,
)

__all__ = [
    "Comparison",
    "RunDetail",
    "RunListing",
    "case_verdicts",
    "compare_runs",
    "list_runs",
    "resolve_run",
    "show_run",
]


def resolve_run(run_id: str, *, store: Store | None = None) -> EvalRunRow:
    """A run by id or unique id prefix; ``latest`` is the newest run.

    Raises:
        NotFoundError: no run has that id (the nearest ids are suggested).
        InputError: the prefix matches several runs.
    """
    db = resolve_store(store)
    if run_id == "latest":
        runs = list_eval_runs(db, limit=1)
        if not runs:
            raise NotFoundError("eval run", run_id)
        run_id = runs[0].id
    matches = find_eval_runs(db, run_id)
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
        raise InputError(
            f"eval run {run_id!r} is ambiguous: {len(matches)} runs start with it ({shown}); "
            "give more of the id"
        )
    if not matches:
        recent = [r.id for r in list_eval_runs(db, limit=500)]
        nearest = difflib.get_close_matches(run_id, recent, n=5, cutoff=0.6)
        raise NotFoundError("eval run", run_id, candidates=nearest or recent[:5])
    run = get_eval_run(db, matches[0])
    if run is None:  # deleted between the two reads
        raise NotFoundError("eval run", run_id)
    return run


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class RunListing:
    """One line of ``list_runs``: a stored run with its headline figures."""

    run: EvalRunRow

    @property
    def summary(self) -> RunSummary | None:
        """The run's summary (None while it is running)."""
        return run_summary(self.run.summary)

    @property
    def pass_rate(self) -> float | None:
        s = self.summary
        return s.pass_rate if s is not None else None

    @property
    def cost(self) -> str | None:
        """What the run's model calls cost (None: none priced)."""
        s = self.summary
        return s.cost if s is not None else None

    @property
    def judge_cost(self) -> str | None:
        """What its judge (model-graded scorer) calls cost (None: none, or none priced)."""
        s = self.summary
        return s.judge.cost if s is not None else None

    @property
    def unpriced(self) -> int:
        """Results whose call has no price (not counted in ``cost``)."""
        s = self.summary
        return s.unpriced_results if s is not None else 0

    def to_dict(self) -> JsonObject:
        r = self.run
        s = self.summary
        return {
            "run_id": r.id,
            "name": r.name,
            "model": r.model,
            "status": r.status,
            "started_at": _jsonable(r.started_at),
            "cases": r.n_cases,
            "epochs": r.epochs,
            "results": r.n_results,
            "pass_rate": self.pass_rate,
            "threshold_met": s.threshold_met if s is not None else None,
            "cost": self.cost,
            "judge_cost": self.judge_cost,
            "unpriced_results": self.unpriced,
            "parent_run": r.parent_run,
        }


def list_runs(
    *, limit: int = 20, name: str | None = None, store: Store | None = None
) -> list[RunListing]:
    """The newest runs: id, name, model, status, pass rate, cases, results."""
    return [RunListing(r) for r in list_eval_runs(resolve_store(store), limit=limit, name=name)]


def result_input(result: EvalResultRow) -> Any:
    """What a result's case was asked: its ``input`` field, else the rendered prompt."""
    return result.case_data.get("input") or result.prompt


@dataclass(frozen=True, slots=True)
class RunDetail:
    """One run with its (possibly only failed) results."""

    run: EvalRunRow
    results: list[EvalResultRow]

    def to_dict(self) -> JsonObject:
        hidden = ("id", "run_id", "case_data")
        return {
            "run": {k: _jsonable(v) for k, v in self.run.to_dict().items() if k != "suite"},
            "results": [
                {k: _jsonable(v) for k, v in r.to_dict().items() if k not in hidden}
                | {"input": result_input(r)}
                for r in self.results
            ],
        }


def show_run(run_id: str, *, failed_only: bool = False, store: Store | None = None) -> RunDetail:
    """One run with its per-result rows (only failed ones if asked)."""
    db = resolve_store(store)
    run = resolve_run(run_id, store=db)
    return RunDetail(run, get_eval_results(db, run.id, failed_only=failed_only))


@dataclass(slots=True)
class Comparison:
    """Two runs compared case by case (A: the baseline, B: the candidate)."""

    run_a: str
    run_b: str
    n: int
    tests: list[PairedTest]
    only_a: int
    only_b: int
    side_by_side: dict[str, JsonObject] = field(default_factory=dict)

    @property
    def primary(self) -> PairedTest:
        return self.tests[0]

    @property
    def regression(self) -> bool:
        """B passes significantly fewer cases than A (after Holm correction)."""
        return self.primary.significant and self.primary.difference.estimate < 0

    def verdict(self) -> str:
        return self.primary.verdict()

    def to_dict(self) -> JsonObject:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "cases_compared": self.n,
            "cases_only_in_a": self.only_a,
            "cases_only_in_b": self.only_b,
            "verdict": self.verdict(),
            "regression": self.regression,
            "tests": [
                {
                    "metric": t.metric,
                    "n": t.n,
                    "a": t.a_mean,
                    "b": t.b_mean,
                    "difference": t.difference.estimate,
                    "difference_ci": [t.difference.low, t.difference.high],
                    "p_value": t.p_value,
                    "p_adjusted": t.p_adjusted,
                    "a_only_passed": t.a_only,
                    "b_only_passed": t.b_only,
                    "significant": t.significant,
                    "cases_needed": t.needed_n,
                    "verdict": t.verdict(),
                }
                for t in self.tests
            ],
            "side_by_side": self.side_by_side,
        }


def _figures(run: EvalRunRow) -> JsonObject:
    s = run_summary(run.summary)
    if s is None:
        return {"model": run.model} | dict.fromkeys(_FIGURES)
    return {
        "model": run.model,
        "pass_rate": s.pass_rate,
        "mean_score": s.mean_score,
        "cost": s.cost,
        "judge_cost": s.judge.cost,
        "output_tokens": s.output_tokens,
        "latency_p50_s": s.latency_s.p50,
        "latency_p95_s": s.latency_s.p95,
    }


_FIGURES = (
    "pass_rate",
    "mean_score",
    "cost",
    "judge_cost",
    "output_tokens",
    "latency_p50_s",
    "latency_p95_s",
)


def _side_by_side(a: EvalRunRow, b: EvalRunRow) -> dict[str, JsonObject]:
    fa, fb = _figures(a), _figures(b)
    delta: JsonObject = {}
    for key in ("pass_rate", "mean_score", "output_tokens", "latency_p50_s", "latency_p95_s"):
        va, vb = fa[key], fb[key]
        if isinstance(va, int | float) and isinstance(vb, int | float):
            delta[key] = vb - va
    ca, cb = fa["cost"], fb["cost"]
    if isinstance(ca, str) and isinstance(cb, str):
        delta["cost"] = plain_decimal(Decimal(cb) - Decimal(ca))
    return {"a": fa, "b": fb, "delta": delta}


def _run_cases(rows: RunScores, run: EvalRunRow) -> CaseArrays:
    return case_arrays(
        rows,
        reducer=str(run.options.get("reducer", "mean")),
        threshold=float(run.threshold),
        k=run.options.get("k"),
    )


def case_verdicts(run_id: str, *, store: Store | None = None) -> dict[str, tuple[bool, float]]:
    """Each case of a run: (passed, score), its trials reduced as :func:`reduce_cases`
    reduces them (from the scoring columns only: a 10,000-case run is one light read)."""
    db = resolve_store(store)
    run = resolve_run(run_id, store=db)
    cases = _run_cases(run_eval_scores(db, run.id, parts=False), run)
    return dict(
        zip(
            cases.case_ids,
            zip(cases.passed.tolist(), cases.score.tolist(), strict=True),
            strict=True,
        )
    )


def compare_runs(run_a: str, run_b: str, *, store: Store | None = None) -> Comparison:
    """Paired comparison on the cases both runs have: McNemar on pass/fail, paired
    bootstrap on the score and on each scorer, Holm-corrected across them."""
    db = resolve_store(store)
    a, b = resolve_run(run_a, store=db), resolve_run(run_b, store=db)
    # Only the shared cases' scoring columns are read, and reduced into arrays.
    paired = paired_eval_scores(db, a.id, b.id)
    out_a, out_b = _run_cases(paired.a, a), _run_cases(paired.b, b)
    if out_a.case_ids != out_b.case_ids:  # a result written between the two reads
        raise InputError("the runs changed while they were compared; compare them again")
    n = len(out_a.case_ids)
    comparisons: list[tuple[str, np.ndarray, np.ndarray, bool]] = [
        ("pass rate", out_a.passed.astype(float), out_b.passed.astype(float), True),
        ("score", out_a.score, out_b.score, False),
    ]
    names = sorted(
        {name for name, (_, has) in out_a.parts.items() if has.any()}
        & {name for name, (_, has) in out_b.parts.items() if has.any()}
    )
    if len(names) > 1:
        for name in names:
            values_a, has_a = out_a.parts[name]
            values_b, has_b = out_b.parts[name]
            both = has_a & has_b
            comparisons.append((f"scorer {name}", values_a[both], values_b[both], False))
    tests = paired_tests(comparisons)
    adjusted = holm([t.p_value for t in tests])
    tests = [
        PairedTest(
            t.metric,
            t.n,
            t.a_mean,
            t.b_mean,
            t.difference,
            t.p_value,
            p,
            t.a_only,
            t.b_only,
            t.needed_n,
        )
        for t, p in zip(tests, adjusted, strict=True)
    ]
    return Comparison(
        run_a=a.id,
        run_b=b.id,
        n=n,
        tests=tests,
        only_a=paired.cases_a - n,
        only_b=paired.cases_b - n,
        side_by_side=_side_by_side(a, b),
    )
