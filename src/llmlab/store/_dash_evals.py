"""Dashboard reads of eval runs and their results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, func, or_, select

from llmlab.store._handle import Store
from llmlab.store._keyset import Page, keyset_page
from llmlab.store._tables_evals import eval_results, eval_runs

__all__ = [
    "ResultDetail",
    "ResultPage",
    "ResultRow",
    "RunDetail",
    "RunFacets",
    "RunPage",
    "RunRow",
    "get_result",
    "get_run_detail",
    "page_results",
    "page_runs",
    "run_facets",
]

ResultSort = Literal["case", "score", "duration", "cost", "epoch"]
_RESULT_SORT = {
    "case": eval_results.c.case_id,
    "score": eval_results.c.score,
    "duration": eval_results.c.duration_s,
    "cost": eval_results.c.cost,
    "epoch": eval_results.c.epoch,
}
_PREVIEW = 160


def _search(term: str, *columns: ColumnElement[str]) -> ColumnElement[bool]:
    """Any of ``columns`` contains ``term`` (LIKE, its wildcards escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.like(f"%{escaped}%", escape="\\") for column in columns))


# -- eval runs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRow:
    """One eval run in a listing, with the headline figures of its stored summary."""

    id: str
    name: str
    model: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    n_cases: int
    epochs: int
    parent_run: str | None
    pass_rate: float | None
    pass_rate_low: float | None
    pass_rate_high: float | None
    threshold_met: bool | None
    cost: str | None


RunPage = Page[RunRow]
"""One page of runs, newest first; ``next_cursor`` is None on the last page."""


@dataclass(frozen=True, slots=True)
class RunFacets:
    """The values the run filters offer."""

    names: tuple[str, ...]
    models: tuple[str, ...]
    statuses: tuple[str, ...]


def _run_row(r: Row[Any]) -> RunRow:
    summary = r.summary if isinstance(r.summary, dict) else {}
    ci = summary.get("pass_rate_ci") or [None, None]
    met = summary.get("threshold_met")
    return RunRow(
        id=r.id,
        name=r.name,
        model=r.model,
        status=r.status,
        started_at=r.started_at,
        finished_at=r.finished_at,
        n_cases=int(r.n_cases or 0),
        epochs=int(r.epochs or 1),
        parent_run=r.parent_run,
        pass_rate=summary.get("pass_rate"),
        pass_rate_low=ci[0],
        pass_rate_high=ci[1],
        threshold_met=bool(met) if met is not None else None,
        cost=summary.get("cost"),
    )


def page_runs(
    store: Store,
    *,
    search: str | None = None,
    name: str | None = None,
    model: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> RunPage:
    """Runs newest first, filtered; ``search`` matches the id, name or model."""
    t = eval_runs
    where: list[ColumnElement[bool]] = []
    if search:
        where.append(_search(search, t.c.id, t.c.name, t.c.model))
    if name:
        where.append(t.c.name == name)
    if model:
        where.append(t.c.model == model)
    if status:
        where.append(t.c.status == status)
    return keyset_page(
        store, t, [t.c[n] for n in _RUN_LIST_COLUMNS], where, _run_row, cursor=cursor, limit=limit
    )


_RUN_LIST_COLUMNS = (
    "id",
    "name",
    "model",
    "status",
    "started_at",
    "finished_at",
    "n_cases",
    "epochs",
    "parent_run",
    "summary",
)


def run_facets(store: Store) -> RunFacets:
    """Distinct suite names, models and statuses of the stored runs."""
    t = eval_runs
    with store.read() as conn:

        def distinct(column: Any) -> tuple[str, ...]:
            q = select(column).distinct().order_by(column).limit(500)
            return tuple(str(v) for v in conn.execute(q).scalars())

        return RunFacets(distinct(t.c.name), distinct(t.c.model), distinct(t.c.status))


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with its stored summary (the evals package computed every figure in it)."""

    id: str
    name: str
    model: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    n_cases: int
    epochs: int
    threshold: float
    suite_path: str | None
    parent_run: str | None
    options: Mapping[str, object]
    """The run's options as stored (free-form JSON)."""
    summary: Mapping[str, object]
    """The summary the evals package stored (JSON; its shape is the evals package's)."""


def get_run_detail(store: Store, run_id: str) -> RunDetail | None:
    """The run with this exact id, or None."""
    t = eval_runs
    with store.read() as conn:
        r = conn.execute(select(t).where(t.c.id == run_id)).first()
    if r is None:
        return None
    return RunDetail(
        id=r.id,
        name=r.name,
        model=r.model,
        status=r.status,
        started_at=r.started_at,
        finished_at=r.finished_at,
        n_cases=int(r.n_cases or 0),
        epochs=int(r.epochs or 1),
        threshold=float(r.threshold),
        suite_path=r.suite_path,
        parent_run=r.parent_run,
        options=dict(r.options or {}),
        summary=dict(r.summary or {}),
    )


# -- eval results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One trial of one case in the case table (texts shortened)."""

    case_id: str
    epoch: int
    status: str
    score: float | None
    passed: bool
    errored: bool
    prompt_preview: str
    output_preview: str
    duration_s: float | None
    cost: Decimal | None
    call_id: str | None


@dataclass(frozen=True, slots=True)
class ResultPage:
    """One page of a run's results and how many match the filters in all."""

    rows: tuple[ResultRow, ...]
    total: int
    offset: int
    limit: int


def _preview(value: str | None) -> str:
    text_ = value or ""
    return text_ if len(text_) <= _PREVIEW else text_[: _PREVIEW - 1] + "…"


def page_results(
    store: Store,
    run_id: str,
    *,
    failed_only: bool = False,
    search: str | None = None,
    sort: ResultSort = "case",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> ResultPage:
    """A page of a run's results; ``search`` matches the case id, prompt or output."""
    t = eval_results
    where: list[ColumnElement[bool]] = [t.c.run_id == run_id]
    if failed_only:
        where.append(or_(t.c.passed.is_(False), t.c.errored.is_(True)))
    if search:
        where.append(_search(search, t.c.case_id, t.c.prompt, t.c.output))
    key = _RESULT_SORT[sort]
    order = [key.desc() if descending else key.asc(), t.c.case_id.asc(), t.c.epoch.asc()]
    columns = (
        t.c.case_id,
        t.c.epoch,
        t.c.status,
        t.c.score,
        t.c.passed,
        t.c.errored,
        func.substr(t.c.prompt, 1, _PREVIEW + 1).label("prompt"),
        func.substr(t.c.output, 1, _PREVIEW + 1).label("output"),
        t.c.duration_s,
        t.c.cost,
        t.c.call_id,
    )
    with store.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one())
        found = conn.execute(
            select(*columns).where(*where).order_by(*order).offset(offset).limit(limit)
        ).all()
    rows = tuple(
        ResultRow(
            case_id=r.case_id,
            epoch=int(r.epoch),
            status=r.status,
            score=r.score,
            passed=bool(r.passed),
            errored=bool(r.errored),
            prompt_preview=_preview(r.prompt),
            output_preview=_preview(r.output),
            duration_s=r.duration_s,
            cost=r.cost,
            call_id=r.call_id,
        )
        for r in found
    )
    return ResultPage(rows, total, offset, limit)


@dataclass(frozen=True, slots=True)
class ResultDetail:
    """One trial in full: the exact rendered prompt, the output, every score."""

    run_id: str
    case_id: str
    epoch: int
    status: str
    prompt: str | None
    case_data: Mapping[str, object]
    """The case as the dataset gave it (free-form JSON)."""
    output: str | None
    score: float | None
    passed: bool
    errored: bool
    scores: dict[str, float | None]
    explanation: str | None
    error: str | None
    tags: tuple[str, ...]
    call_id: str | None
    cache_hit: bool
    duration_s: float | None
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    judge_calls: int
    judge_input_tokens: int
    judge_output_tokens: int
    judge_cost: Decimal | None
    epochs: tuple[int, ...]


def get_result(store: Store, run_id: str, case_id: str, epoch: int | None) -> ResultDetail | None:
    """One trial of a case (``epoch`` None: its first), with the case's other epochs."""
    t = eval_results
    where = [t.c.run_id == run_id, t.c.case_id == case_id]
    with store.read() as conn:
        epochs = tuple(
            int(e)
            for e in conn.execute(select(t.c.epoch).where(*where).order_by(t.c.epoch)).scalars()
        )
        if not epochs:
            return None
        chosen = epochs[0] if epoch is None else epoch
        r = conn.execute(select(t).where(*where, t.c.epoch == chosen)).first()
    if r is None:
        return None
    return ResultDetail(
        run_id=r.run_id,
        case_id=r.case_id,
        epoch=int(r.epoch),
        status=r.status,
        prompt=r.prompt,
        case_data=dict(r.case_data or {}),
        output=r.output,
        score=r.score,
        passed=bool(r.passed),
        errored=bool(r.errored),
        scores=dict(r.scores or {}),
        explanation=r.explanation,
        error=r.error,
        tags=tuple(str(x) for x in (r.tags or [])),
        call_id=r.call_id,
        cache_hit=bool(r.cache_hit),
        duration_s=r.duration_s,
        input_tokens=int(r.input_tokens or 0),
        output_tokens=int(r.output_tokens or 0),
        cost=r.cost,
        judge_calls=int(r.judge_calls or 0),
        judge_input_tokens=int(r.judge_input_tokens or 0),
        judge_output_tokens=int(r.judge_output_tokens or 0),
        judge_cost=r.judge_cost,
        epochs=epochs,
    )
