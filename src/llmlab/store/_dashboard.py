"""Read queries for the dashboard: typed rows, bounded pages, keyset cursors.

Every function returns at most one page of rows (no page loads a table whole); listings
that can grow without bound (runs, calls) page with a keyset cursor on
``(started_at, id)`` so that page 1,000 costs what page 1 costs. Figures over time are
not computed here: they come from the rollups through ``llmlab.monitor``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, inspect, or_, select, text

from llmlab._errors import InputError
from llmlab.store._handle import Store
from llmlab.store._tables_calls import calls
from llmlab.store._tables_evals import eval_results, eval_runs
from llmlab.store._tables_prompts import experiments, label_history, prompt_labels, prompts

__all__ = [
    "CallDetail",
    "CallPage",
    "CallQuery",
    "CallRow",
    "ExperimentRow",
    "LabelMoveRow",
    "LabsTable",
    "PromptNameRow",
    "PromptVersionRow",
    "ResultDetail",
    "ResultPage",
    "ResultRow",
    "RunDetail",
    "RunFacets",
    "RunPage",
    "RunRow",
    "decode_cursor",
    "encode_cursor",
    "get_call",
    "get_result",
    "get_run_detail",
    "labs_tables",
    "list_experiments_page",
    "list_prompt_names",
    "page_calls",
    "page_results",
    "page_runs",
    "prompt_label_history",
    "prompt_versions",
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


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(at: datetime, row_id: str) -> str:
    """An opaque keyset cursor for the row after which the next page starts."""
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(started_at, id)`` of a cursor made by :func:`encode_cursor`.

    Raises:
        InputError: the cursor was not made by this server (edited or truncated).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, row_id = raw.split("|", 1)
        return datetime.fromisoformat(at_text), row_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InputError(
            f"cursor {cursor[:40]!r} is not valid; follow the 'next' link of a listing"
        ) from None


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


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs, newest first; ``next_cursor`` is None on the last page."""

    rows: tuple[RunRow, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RunFacets:
    """The values the run filters offer."""

    names: tuple[str, ...]
    models: tuple[str, ...]
    statuses: tuple[str, ...]


def _run_row(r: Any) -> RunRow:
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
        pattern = _like(search)
        where.append(
            or_(
                t.c.id.like(pattern, escape="\\"),
                t.c.name.like(pattern, escape="\\"),
                t.c.model.like(pattern, escape="\\"),
            )
        )
    if name:
        where.append(t.c.name == name)
    if model:
        where.append(t.c.model == model)
    if status:
        where.append(t.c.status == status)
    if cursor:
        at, row_id = decode_cursor(cursor)
        where.append(or_(t.c.started_at < at, and_(t.c.started_at == at, t.c.id < row_id)))
    query = (
        select(*(t.c[n] for n in _RUN_LIST_COLUMNS))
        .where(*where)
        .order_by(t.c.started_at.desc(), t.c.id.desc())
        .limit(limit + 1)
    )
    with store.read() as conn:
        found = [_run_row(r) for r in conn.execute(query)]
    more = len(found) > limit
    rows = tuple(found[:limit])
    nxt = encode_cursor(rows[-1].started_at, rows[-1].id) if more and rows else None
    return RunPage(rows, nxt)


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
    options: dict[str, Any]
    summary: dict[str, Any]


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
        pattern = _like(search)
        where.append(
            or_(
                t.c.case_id.like(pattern, escape="\\"),
                t.c.prompt.like(pattern, escape="\\"),
                t.c.output.like(pattern, escape="\\"),
            )
        )
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
    case_data: dict[str, Any]
    output: str | None
    score: float | None
    passed: bool
    errored: bool
    scores: dict[str, Any]
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


# -- calls -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Filters of the calls explorer (all optional, combined with AND)."""

    model: str | None = None
    status: str | None = None
    prompt: str | None = None  # NAME or NAME@VERSION
    eval_run: str | None = None
    experiment: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call in the explorer."""

    id: str
    started_at: datetime
    provider: str
    requested_model: str
    status: str
    duration_s: float
    ttft_s: float | None
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    cost_status: str
    prompt_name: str | None
    prompt_version: int | None
    eval_run: str | None
    experiment: str | None
    arm: str | None


@dataclass(frozen=True, slots=True)
class CallPage:
    """One page of calls, newest first; ``next_cursor`` is None on the last page."""

    rows: tuple[CallRow, ...]
    next_cursor: str | None


_CALL_ROW_COLUMNS = tuple(CallRow.__dataclass_fields__)


def _call_where(q: CallQuery) -> list[ColumnElement[bool]]:
    t = calls
    where: list[ColumnElement[bool]] = []
    if q.model:
        # "provider/model" as the rollups key it, or a bare model name
        provider, _, name = q.model.partition("/")
        if name:
            where += [t.c.requested_model == name, t.c.provider == provider]
        else:
            where.append(t.c.requested_model == q.model)
    if q.status:
        where.append(t.c.status == q.status)
    if q.prompt:
        name, _, version = q.prompt.partition("@")
        where.append(t.c.prompt_name == name)
        if version:
            if not version.isdigit():
                raise InputError(f"prompt filter {q.prompt!r}: use NAME or NAME@VERSION (a number)")
            where.append(t.c.prompt_version == int(version))
    if q.eval_run:
        where.append(t.c.eval_run == q.eval_run)
    if q.experiment:
        where.append(t.c.experiment == q.experiment)
    if q.since is not None:
        where.append(t.c.started_at >= q.since)
    if q.until is not None:
        where.append(t.c.started_at < q.until)
    return where


def page_calls(
    store: Store, query: CallQuery, *, cursor: str | None = None, limit: int = 50
) -> CallPage:
    """Calls newest first matching ``query``, one keyset page at a time."""
    t = calls
    where = _call_where(query)
    if cursor:
        at, row_id = decode_cursor(cursor)
        where.append(or_(t.c.started_at < at, and_(t.c.started_at == at, t.c.id < row_id)))
    stmt = (
        select(*(t.c[n] for n in _CALL_ROW_COLUMNS))
        .where(*where)
        .order_by(t.c.started_at.desc(), t.c.id.desc())
        .limit(limit + 1)
    )
    with store.read() as conn:
        found = [CallRow(**r._asdict()) for r in conn.execute(stmt)]
    more = len(found) > limit
    rows = tuple(found[:limit])
    nxt = encode_cursor(rows[-1].started_at, rows[-1].id) if more and rows else None
    return CallPage(rows, nxt)


@dataclass(frozen=True, slots=True)
class CallDetail:
    """One call in full (request and reply only when content capture was on)."""

    id: str
    started_at: datetime
    duration_s: float
    ttft_s: float | None
    provider: str
    requested_model: str
    resolved_model: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: Decimal | None
    currency: str
    cost_status: str
    price_source: str | None
    status: str
    error_type: str | None
    error_message: str | None
    attempts: int
    finish_reason: str | None
    streamed: bool
    cache_hit: bool
    tags: dict[str, Any]
    request: Any
    response_text: str | None
    prompt_name: str | None
    prompt_version: int | None
    experiment: str | None
    arm: str | None
    eval_run: str | None
    sample_id: str | None
    epoch: int | None


def get_call(store: Store, call_id: str) -> CallDetail | None:
    """The call with this id, or None."""
    names = tuple(CallDetail.__dataclass_fields__)
    with store.read() as conn:
        r = conn.execute(select(*(calls.c[n] for n in names)).where(calls.c.id == call_id)).first()
    if r is None:
        return None
    values = r._asdict()
    values["tags"] = dict(values["tags"] or {})
    return CallDetail(**values)


# -- prompts and experiments -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromptNameRow:
    """A prompt name with its newest version and its labels."""

    name: str
    versions: int
    latest: int
    updated_at: datetime
    labels: dict[str, int]


def list_prompt_names(store: Store, *, limit: int = 500) -> tuple[PromptNameRow, ...]:
    """Prompt names (newest first), each with its version count and labels."""
    p = prompts
    stmt = (
        select(
            p.c.name,
            func.count().label("n"),
            func.max(p.c.version).label("latest"),
            func.max(p.c.created_at).label("updated"),
        )
        .group_by(p.c.name)
        .order_by(func.max(p.c.created_at).desc(), p.c.name)
        .limit(limit)
    )
    with store.read() as conn:
        found = conn.execute(stmt).all()
        names = [r.name for r in found]
        labels: dict[str, dict[str, int]] = {n: {} for n in names}
        if names:
            q = select(prompt_labels.c.name, prompt_labels.c.label, prompt_labels.c.version)
            for r in conn.execute(q.where(prompt_labels.c.name.in_(names))):
                labels[r.name][r.label] = int(r.version)
    return tuple(
        PromptNameRow(r.name, int(r.n), int(r.latest), r.updated, labels[r.name]) for r in found
    )


@dataclass(frozen=True, slots=True)
class PromptVersionRow:
    """One version of a prompt as the versions table shows it."""

    version: int
    hash: str
    kind: str
    template: str
    syntax: str
    message: str | None
    author: str | None
    created_at: datetime
    archived: bool
    model: str | None


def prompt_versions(store: Store, name: str, *, limit: int = 200) -> tuple[PromptVersionRow, ...]:
    """The newest ``limit`` versions of ``name``, newest first."""
    p = prompts
    stmt = select(p).where(p.c.name == name).order_by(p.c.version.desc()).limit(limit)
    with store.read() as conn:
        found = conn.execute(stmt).all()
    return tuple(
        PromptVersionRow(
            version=int(r.version),
            hash=r.hash,
            kind=r.kind,
            template=r.template,
            syntax=r.syntax,
            message=r.message,
            author=r.author,
            created_at=r.created_at,
            archived=bool(r.archived),
            model=(r.config or {}).get("model"),
        )
        for r in found
    )


@dataclass(frozen=True, slots=True)
class LabelMoveRow:
    """One entry of a prompt's label history."""

    label: str
    from_version: int | None
    to_version: int
    kind: str
    actor: str | None
    at: datetime


def prompt_label_history(store: Store, name: str, *, limit: int = 200) -> tuple[LabelMoveRow, ...]:
    """The newest label moves of ``name``, newest first."""
    h = label_history
    stmt = select(h).where(h.c.name == name).order_by(h.c.id.desc()).limit(limit)
    with store.read() as conn:
        found = conn.execute(stmt).all()
    return tuple(
        LabelMoveRow(r.label, r.from_version, int(r.to_version), r.kind, r.actor, r.at)
        for r in found
    )


@dataclass(frozen=True, slots=True)
class ExperimentRow:
    """One experiment: its arms (name, version, weight) and state."""

    name: str
    prompt_name: str
    arms: tuple[tuple[str, int, float], ...]
    status: str
    description: str | None
    created_at: datetime
    stopped_at: datetime | None


def list_experiments_page(store: Store, *, limit: int = 200) -> tuple[ExperimentRow, ...]:
    """Experiments, newest first."""
    e = experiments
    stmt = select(e).order_by(e.c.created_at.desc(), e.c.name).limit(limit)
    with store.read() as conn:
        found = conn.execute(stmt).all()
    return tuple(
        ExperimentRow(
            name=r.name,
            prompt_name=r.prompt_name,
            arms=tuple(
                (str(a["name"]), int(a["version"]), float(a.get("weight", 0.0))) for a in r.arms
            ),
            status=r.status,
            description=r.description,
            created_at=r.created_at,
            stopped_at=r.stopped_at,
        )
        for r in found
    )


# -- labs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabsTable:
    """The newest rows of one labs table, as the labs package stored them."""

    table: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


LABS_TABLES: Sequence[str] = ("lab_progress", "lab_attempts")


def labs_tables(store: Store, *, limit: int = 100) -> tuple[LabsTable, ...]:
    """The labs tables that exist in this database (none until the labs package ships)."""
    with store.read() as conn:
        present = set(inspect(conn).get_table_names())
        found: list[LabsTable] = []
        for table in LABS_TABLES:
            if table not in present:
                continue
            # The name comes from LABS_TABLES, never from the request.
            result = conn.execute(text(f'SELECT * FROM "{table}" LIMIT :n'), {"n": limit})
            found.append(
                LabsTable(table, tuple(result.keys()), tuple(tuple(r) for r in result.all()))
            )
    return tuple(found)
