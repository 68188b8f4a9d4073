"""Eval pages: the runs list, a run, a case, and the comparison of two runs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from llmlab._errors import NotFoundError
from llmlab._json import JsonObject
from llmlab.evals import run_summary
from llmlab.store import dashboard as db
from llmlab.web._render import render, store_of
from llmlab.web._sources import case_outcomes, comparison_json

__all__ = ["router"]

router = APIRouter()

Text = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]
PAGE = 50


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@dataclass
class RunsQuery:
    """Filters of the runs list (all in the URL)."""

    q: Text = None
    suite: Text = None
    model: Text = None
    status: Text = None
    cursor: Annotated[str | None, Query(max_length=400)] = None
    limit: Limit = PAGE


@router.get("/api/runs", tags=["evals"], summary="Eval runs, newest first (keyset pages)")
@router.get("/runs", include_in_schema=False)
def runs_page(request: Request, f: Annotated[RunsQuery, Depends()]) -> Response:
    store = store_of(request)
    page = db.page_runs(
        store,
        search=_blank(f.q),
        name=_blank(f.suite),
        model=_blank(f.model),
        status=_blank(f.status),
        cursor=_blank(f.cursor),
        limit=f.limit,
    )
    data = {
        "filters": {"q": f.q, "suite": f.suite, "model": f.model, "status": f.status},
        "facets": db.run_facets(store),
        "runs": page.rows,
        "next_cursor": page.next_cursor,
    }
    return render(request, "runs.html", data)


@dataclass
class CasesQuery:
    """The case table's filters, sort and page."""

    failed: bool = False
    q: Text = None
    sort: Literal["case", "score", "duration", "cost", "epoch"] = "case"
    desc: bool = False
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
    limit: Limit = PAGE


def _run(request: Request, run_id: str) -> db.RunDetail:
    run = db.get_run_detail(store_of(request), run_id)
    if run is None:
        raise NotFoundError("eval run", run_id)
    return run


@router.get("/api/runs/{run_id}", tags=["evals"], summary="A run: summary and a page of cases")
@router.get("/runs/{run_id}", include_in_schema=False)
def run_page(request: Request, run_id: str, f: Annotated[CasesQuery, Depends()]) -> Response:
    run = _run(request, run_id)
    page = db.page_results(
        store_of(request),
        run.id,
        failed_only=f.failed,
        search=_blank(f.q),
        sort=f.sort,
        descending=f.desc,
        offset=f.offset,
        limit=f.limit,
    )
    summary = run_summary(run.summary)
    data = {
        "run": run,
        "summary": run.summary,
        "pass_k": dict(summary.trials.pass_k) if summary is not None else {},
        "filters": {"failed": f.failed, "q": f.q or "", "sort": f.sort, "desc": f.desc},
        "cases": page,
    }
    return render(request, "run.html", data)


@router.get(
    "/api/runs/{run_id}/cases/{case_id}",
    tags=["evals"],
    summary="One case: rendered prompt, output, scores with reasons, its call",
)
@router.get("/runs/{run_id}/cases/{case_id}", include_in_schema=False)
def case_page(
    request: Request,
    run_id: str,
    case_id: str,
    epoch: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    store = store_of(request)
    run = _run(request, run_id)
    result = db.get_result(store, run.id, case_id, epoch)
    if result is None:
        raise NotFoundError("case", f"{case_id} (epoch {epoch})" if epoch else case_id)
    call = db.get_call(store, result.call_id) if result.call_id else None
    data = {
        "run": {"id": run.id, "name": run.name, "model": run.model},
        "result": result,
        "call": _call_brief(call),
    }
    return render(request, "case.html", data)


@dataclass(frozen=True, slots=True)
class CallBrief:
    """A case's call as its page shows it (the call's own page has the rest)."""

    id: str
    model: str
    status: str
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    cost_status: str
    duration_s: float
    ttft_s: float | None


def _call_brief(call: db.CallRow | None) -> CallBrief | None:
    if call is None:
        return None
    return CallBrief(
        id=call.id,
        model=f"{call.provider}/{call.requested_model}",
        status=call.status,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        cost=call.cost,
        cost_status=call.cost_status,
        duration_s=call.duration_s,
        ttft_s=call.ttft_s,
    )


@dataclass
class CompareQuery:
    """Two runs, the matrix filter and page."""

    a: Annotated[str, Query(min_length=1, max_length=200)]
    b: Annotated[str, Query(min_length=1, max_length=200)]
    differing: bool = False
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
    limit: Limit = 100


Verdicts = dict[str, tuple[bool, float]]
Compared = tuple[JsonObject, db.RunDetail, db.RunDetail, Verdicts, Verdicts]
_COMPARED_KEPT = 4


def _compared(request: Request, a: str, b: str) -> Compared:
    """The comparison of two runs and each case's verdict in both. Finished runs do not
    change, so the last few comparisons are kept: paging the matrix or switching to the
    differing cases does not read two large runs again."""
    kept: OrderedDict[tuple[str, str], Compared] = request.app.state.compared
    found = kept.get((a, b))
    if found is not None:
        kept.move_to_end((a, b))
        return found
    store = store_of(request)
    comparison = comparison_json(store, a, b)
    run_a = _run(request, str(comparison["run_a"]))
    run_b = _run(request, str(comparison["run_b"]))

    def verdicts(run: db.RunDetail) -> Verdicts:
        return case_outcomes(store, run.id)

    made = (comparison, run_a, run_b, verdicts(run_a), verdicts(run_b))
    if run_a.status == run_b.status == "finished" and (a, b) == (run_a.id, run_b.id):
        kept[(a, b)] = made
        while len(kept) > _COMPARED_KEPT:
            kept.popitem(last=False)
    return made


@router.get(
    "/api/compare",
    tags=["evals"],
    summary="Paired comparison of two runs (McNemar, paired bootstrap, Holm) and a case matrix",
)
@router.get("/compare", include_in_schema=False)
def compare_page(request: Request, f: Annotated[CompareQuery, Depends()]) -> Response:
    comparison, run_a, run_b, out_a, out_b = _compared(request, f.a, f.b)
    matrix = []
    for case_id in sorted(set(out_a) | set(out_b)):
        ca, cb = out_a.get(case_id), out_b.get(case_id)
        differs = ca is None or cb is None or ca != cb
        if f.differing and not differs:
            continue
        matrix.append(
            {
                "case_id": case_id,
                "a": None if ca is None else {"passed": ca[0], "score": ca[1]},
                "b": None if cb is None else {"passed": cb[0], "score": cb[1]},
                "differs": differs,
            }
        )
    data = {
        "comparison": comparison,
        "runs": {"a": run_a, "b": run_b},
        "filters": {"a": f.a, "b": f.b, "differing": f.differing},
        "matrix": matrix[f.offset : f.offset + f.limit],
        "matrix_total": len(matrix),
        "offset": f.offset,
        "limit": f.limit,
    }
    return render(request, "compare.html", data)
