"""Monitoring pages: the overview, spend and latency over time, the calls explorer, labs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from llmlab._errors import NotFoundError
from llmlab.monitor import GroupStats, StatsReport
from llmlab.store import Store
from llmlab.store import dashboard as db
from llmlab.web._render import render, store_of
from llmlab.web._sources import alerts, budgets, redact, stats

__all__ = ["router"]

router = APIRouter()

Window = Annotated[str, Query(pattern=r"^[1-9][0-9]{0,3}[hd]$", description="e.g. 24h, 7d, 90d")]
Text = Annotated[str | None, Query(max_length=200)]
BY_PATTERN = r"^(model|provider|prompt|arm|eval_run|tag:[A-Za-z0-9_.\-]{1,64})$"


@dataclass(frozen=True, slots=True)
class Series:
    """Chart columns: one point per bucket of the window (epoch seconds in ``x``)."""

    x: list[int]
    calls: list[int]
    errors: list[int]
    cost: list[float]
    p50: list[float | None]
    p95: list[float | None]
    p99: list[float | None]


def _series(report: StatsReport, window: str, grain: str) -> Series:
    """A ``by=hour|day`` stats report as chart columns (buckets without calls count
    zero, their percentiles are gaps)."""
    width = 3600 if grain == "hour" else 86400
    by_start: dict[int, GroupStats] = {}
    for g in report.groups:
        at = datetime.fromisoformat(g.key if len(g.key) > 10 else g.key + "T00:00:00+00:00")
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        by_start[int(at.timestamp()) // width * width] = g
    now = int(datetime.now(UTC).timestamp())
    first = int(now - _window_hours(window) * 3600) // width * width
    xs = sorted(set(range(first, now // width * width + 1, width)) | set(by_start))
    groups = [by_start.get(x) for x in xs]
    return Series(
        x=xs,
        calls=[g.calls if g else 0 for g in groups],
        errors=[g.errors if g else 0 for g in groups],
        cost=[float(g.cost) if g else 0.0 for g in groups],
        p50=[g.latency_p50_s if g else None for g in groups],
        p95=[g.latency_p95_s if g else None for g in groups],
        p99=[g.latency_p99_s if g else None for g in groups],
    )


def _window_hours(window: str) -> float:
    n = int(window[:-1])
    return float(n * 24 if window.endswith("d") else n)


@router.get("/api/overview", tags=["overview"], summary="Calls, spend, errors, newest runs")
@router.get("/", include_in_schema=False)
def overview_page(request: Request, window: Window = "7d") -> Response:
    store = store_of(request)
    grain = "hour" if _window_hours(window) <= 48 else "day"
    over_time = stats(store, since=window, by=grain)
    data = {
        "window": window,
        "grain": grain,
        "total": over_time.total,
        "series": _series(over_time, window, grain),
        "runs": db.page_runs(store, limit=8).rows,
        "budgets": budgets(store),
    }
    return render(request, "overview.html", data)


@dataclass(frozen=True, slots=True)
class CostQualityPoint:
    """One eval run: its pass rate against its cost per case."""

    run_id: str
    model: str
    suite: str
    cost_per_case: float
    score: float


@dataclass(frozen=True, slots=True)
class CostQuality:
    """The runs' points and the ids of those on the frontier."""

    points: list[CostQualityPoint]
    frontier: list[str]


def _frontier(points: list[CostQualityPoint]) -> list[str]:
    """Run ids on the cost-quality frontier: no other run is cheaper and at least as good."""
    best = -1.0
    ids = []
    for p in sorted(points, key=lambda p: (p.cost_per_case, -p.score)):
        if p.score > best:
            ids.append(p.run_id)
            best = p.score
    return ids


def _cost_quality(store: Store) -> CostQuality:
    points = [
        CostQualityPoint(r.id, r.model, r.name, float(r.cost) / r.n_cases, r.pass_rate)
        for r in db.page_runs(store, limit=200).rows
        if r.cost is not None and r.n_cases and r.pass_rate is not None
    ]
    return CostQuality(points, _frontier(points))


@router.get(
    "/api/monitor",
    tags=["monitor"],
    summary="Spend, calls and latency over time (rollups), by a dimension, budgets, alerts",
)
@router.get("/monitor", include_in_schema=False)
def monitor_page(
    request: Request,
    window: Window = "7d",
    grain: Literal["hour", "day"] = "day",
    by: Annotated[str, Query(pattern=BY_PATTERN)] = "model",
) -> Response:
    store = store_of(request)
    over_time = stats(store, since=window, by=grain)
    grouped = stats(store, since=window, by=by)
    data = {
        "window": window,
        "grain": grain,
        "by": by,
        "total": over_time.total,
        "series": _series(over_time, window, grain),
        "groups": grouped.groups,
        "percentile_relative_error": over_time.percentile_relative_error,
        "budgets": budgets(store),
        "alerts": alerts(store, 20),
        "cost_quality": _cost_quality(store),
    }
    return render(request, "monitor.html", data)


@dataclass
class CallsQuery:
    """Filters of the calls explorer (all in the URL)."""

    model: Text = None
    status: Literal["", "ok", "error", "refused"] = ""
    prompt: Text = None
    eval_run: Text = None
    experiment: Text = None
    window: Annotated[str | None, Query(pattern=r"^([1-9][0-9]{0,3}[hd])?$")] = None
    cursor: Annotated[str | None, Query(max_length=400)] = None
    limit: Annotated[int, Query(ge=1, le=500)] = 50


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/api/calls", tags=["monitor"], summary="Calls newest first, filtered (keyset pages)")
@router.get("/calls", include_in_schema=False)
def calls_page(request: Request, f: Annotated[CallsQuery, Depends()]) -> Response:
    since = None
    if f.window:
        since = datetime.now(UTC) - timedelta(hours=_window_hours(f.window))
    query = db.CallFilter(
        model=_clean(f.model),
        status=f.status or None,
        prompt=_clean(f.prompt),
        eval_run=_clean(f.eval_run),
        experiment=_clean(f.experiment),
        since=since,
    )
    page = db.page_calls(
        store_of(request), query, cursor=_clean(f.cursor), limit=f.limit, content=False
    )
    # The listing shows no content; the tags are redacted as on a call's own page.
    rows = [replace(row, tags=redact(row.tags)) for row in page.rows]
    filters = {
        "model": f.model or "",
        "status": f.status,
        "prompt": f.prompt or "",
        "eval_run": f.eval_run or "",
        "experiment": f.experiment or "",
        "window": f.window or "",
    }
    data = {"filters": filters, "calls": rows, "next_cursor": page.next_cursor}
    return render(request, "calls.html", data)


@router.get("/api/calls/{call_id}", tags=["monitor"], summary="One call (content when captured)")
@router.get("/calls/{call_id}", include_in_schema=False)
def call_page(request: Request, call_id: str) -> Response:
    call = db.get_call(store_of(request), call_id)
    if call is None:
        raise NotFoundError("call", call_id)
    # Redacted in the row itself too: the JSON twin shows the row whole.
    shown = replace(
        call,
        request=redact(call.request),
        response_text=redact(call.response_text),
        tags=redact(call.tags),
    )
    return render(
        request,
        "call.html",
        {
            "call": shown,
            "request_body": shown.request,
            "response_text": shown.response_text,
            "tags": shown.tags,
        },
    )


@router.get("/api/labs", tags=["labs"], summary="Labs progress and attempts (when labs exist)")
@router.get("/labs", include_in_schema=False)
def labs_page(request: Request) -> Response:
    tables = db.labs_tables(store_of(request))
    return render(request, "labs.html", {"available": bool(tables), "tables": tables})
