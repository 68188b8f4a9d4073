"""Stored runs: find, list, show; the paired comparison of two runs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from llmlab._errors import InputError, NotFoundError
from llmlab.evals._paired import PairedTest, holm, paired_test
from llmlab.evals._summary import reduce_cases
from llmlab.pricing import plain_decimal
from llmlab.store import (
    find_eval_runs,
    get_engine,
    get_eval_results,
    get_eval_run,
    iter_eval_results,
    list_eval_runs,
)

__all__ = ["Comparison", "compare_runs", "list_runs", "resolve_run", "show_run"]


def resolve_run(engine: Engine, run_id: str) -> dict[str, Any]:
    """A run by id or unique id prefix; ``latest`` is the newest run."""
    if run_id == "latest":
        runs = list_eval_runs(engine, limit=1)
        if not runs:
            raise NotFoundError("eval run", run_id)
        run_id = str(runs[0]["id"])
    matches = find_eval_runs(engine, run_id)
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
        raise InputError(
            f"eval run {run_id!r} is ambiguous: {len(matches)} runs start with it ({shown}); "
            "give more of the id"
        )
    if not matches:
        recent = [str(r["id"]) for r in list_eval_runs(engine, limit=500)]
        nearest = difflib.get_close_matches(run_id, recent, n=5, cutoff=0.6)
        raise NotFoundError("eval run", run_id, candidates=nearest or recent[:5])
    run = get_eval_run(engine, matches[0])
    assert run is not None
    return run


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def list_runs(
    *, limit: int = 20, name: str | None = None, db: str | None = None
) -> list[dict[str, Any]]:
    """The newest runs: id, name, model, status, pass rate, cases, results."""
    rows = list_eval_runs(get_engine(db), limit=limit, name=name)
    listed = []
    for row in rows:
        summary = row.get("summary") or {}
        listed.append(
            {
                "run_id": row["id"],
                "name": row["name"],
                "model": row["model"],
                "status": row["status"],
                "started_at": _jsonable(row["started_at"]),
                "cases": row["n_cases"],
                "epochs": row["epochs"],
                "results": row["n_results"],
                "pass_rate": summary.get("pass_rate"),
                "threshold_met": summary.get("threshold_met"),
                "cost": summary.get("cost"),
                "parent_run": row.get("parent_run"),
            }
        )
    return listed


def show_run(run_id: str, *, failed_only: bool = False, db: str | None = None) -> dict[str, Any]:
    """One run with its summary and per-result rows (only failed ones if asked)."""
    engine = get_engine(db)
    run = resolve_run(engine, run_id)
    results = get_eval_results(engine, run["id"], failed_only=failed_only)
    return {
        "run": {k: _jsonable(v) for k, v in run.items() if k not in ("suite",)},
        "results": [
            {k: _jsonable(v) for k, v in r.items() if k not in ("id", "run_id", "case_data")}
            # a case without an ``input`` field is shown by its rendered prompt
            | {"input": (r.get("case_data") or {}).get("input") or r.get("prompt")}
            for r in results
        ],
    }


@dataclass(slots=True)
class Comparison:
    """Two runs compared case by case (A: the baseline, B: the candidate)."""

    run_a: str
    run_b: str
    n: int
    tests: list[PairedTest]
    only_a: int
    only_b: int
    side_by_side: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def primary(self) -> PairedTest:
        return self.tests[0]

    @property
    def regression(self) -> bool:
        """B passes significantly fewer cases than A (after Holm correction)."""
        return self.primary.significant and self.primary.difference.estimate < 0

    def verdict(self) -> str:
        return self.primary.verdict()

    def to_dict(self) -> dict[str, Any]:
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


def _outcomes(engine: Engine, run: dict[str, Any]) -> dict[str, Any]:
    options = run.get("options") or {}
    return reduce_cases(
        iter_eval_results(engine, run["id"]),
        reducer=str(options.get("reducer", "mean")),
        threshold=float(run["threshold"]),
        k=options.get("k"),
    )


def _side_by_side(a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, Any]]:
    def figures(run: dict[str, Any]) -> dict[str, Any]:
        s = run.get("summary") or {}
        latency = s.get("latency_s") or {}
        return {
            "model": run["model"],
            "pass_rate": s.get("pass_rate"),
            "mean_score": s.get("mean_score"),
            "cost": s.get("cost"),
            "judge_cost": (s.get("judge") or {}).get("cost"),
            "output_tokens": s.get("output_tokens"),
            "latency_p50_s": latency.get("p50"),
            "latency_p95_s": latency.get("p95"),
        }

    fa, fb = figures(a), figures(b)
    delta: dict[str, Any] = {}
    for key in ("pass_rate", "mean_score", "output_tokens", "latency_p50_s", "latency_p95_s"):
        if isinstance(fa[key], int | float) and isinstance(fb[key], int | float):
            delta[key] = fb[key] - fa[key]
    if fa["cost"] is not None and fb["cost"] is not None:
        delta["cost"] = plain_decimal(Decimal(fb["cost"]) - Decimal(fa["cost"]))
    return {"a": fa, "b": fb, "delta": delta}


def compare_runs(run_a: str, run_b: str, *, db: str | None = None) -> Comparison:
    """Paired comparison on the cases both runs have: McNemar on pass/fail, paired
    bootstrap on the score and on each scorer, Holm-corrected across them."""
    engine = get_engine(db)
    a, b = resolve_run(engine, run_a), resolve_run(engine, run_b)
    out_a, out_b = _outcomes(engine, a), _outcomes(engine, b)
    common = sorted(set(out_a) & set(out_b))
    tests = [
        paired_test(
            "pass rate",
            [float(out_a[c].passed) for c in common],
            [float(out_b[c].passed) for c in common],
            binary=True,
        ),
        paired_test(
            "score",
            [out_a[c].score for c in common],
            [out_b[c].score for c in common],
            binary=False,
        ),
    ]
    names = sorted(
        {n for c in common for n in out_a[c].parts} & {n for c in common for n in out_b[c].parts}
    )
    if len(names) > 1:
        for name in names:
            both = [c for c in common if name in out_a[c].parts and name in out_b[c].parts]
            tests.append(
                paired_test(
                    f"scorer {name}",
                    [out_a[c].parts[name] for c in both],
                    [out_b[c].parts[name] for c in both],
                    binary=False,
                )
            )
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
        run_a=str(a["id"]),
        run_b=str(b["id"]),
        n=len(common),
        tests=tests,
        only_a=len(set(out_a) - set(out_b)),
        only_b=len(set(out_b) - set(out_a)),
        side_by_side=_side_by_side(a, b),
    )
