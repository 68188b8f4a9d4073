"""Writing and reading eval runs and their results, as typed rows.

What an eval run itself does (make its run, write its results, read them back for the
summary, finish the run) goes through the SQLite fast path while the store has no engine
(``_evals_fast.py``); everything else, and every other database, through SQLAlchemy,
imported when first needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmlab._errors import StoreError
from llmlab.store import _evals_fast as fast_sql

if TYPE_CHECKING:
    from sqlalchemy import Column, Insert

    from llmlab.store._handle import Store

__all__ = [
    "EvalResultRow",
    "EvalRunRow",
    "create_eval_run",
    "eval_result_keys",
    "find_eval_runs",
    "finish_eval_run",
    "get_eval_results",
    "get_eval_run",
    "insert_eval_results",
    "iter_eval_results",
    "latest_eval_run_id",
    "latest_unfinished_eval_run",
    "list_eval_runs",
]


@dataclass(frozen=True, slots=True)
class EvalRunRow:
    """One ``eval_runs`` row. ``n_results`` is counted only by :func:`list_eval_runs`;
    ``suite`` is the suite's spec and ``options`` the run's options (free-form JSON)."""

    id: str
    name: str
    fingerprint: str
    model: str
    status: str
    started_at: datetime
    n_cases: int
    epochs: int
    threshold: float
    suite: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    suite_path: str | None = None
    parent_run: str | None = None
    finished_at: datetime | None = None
    summary: dict[str, Any] | None = None
    n_results: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data (dates as ISO text)."""
        return {
            "id": self.id,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "model": self.model,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "n_cases": self.n_cases,
            "epochs": self.epochs,
            "threshold": self.threshold,
            "suite_path": self.suite_path,
            "suite": self.suite,
            "options": self.options,
            "parent_run": self.parent_run,
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class EvalResultRow:
    """One ``eval_results`` row: a (case, epoch) of a run, its output and score.

    Rows read without their texts (``brief``) have ``prompt``, ``output`` and
    ``explanation`` None and ``case_data`` empty. ``id`` and ``created_at`` are None
    before the row is stored.
    """

    run_id: str
    case_id: str
    epoch: int
    status: str
    score: float | None
    passed: bool
    errored: bool
    prompt: str | None = None
    case_data: dict[str, Any] = field(default_factory=dict)
    output: str | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    explanation: str | None = None
    error: str | None = None
    tags: list[str] = field(default_factory=list)
    weight: float = 1.0
    call_id: str | None = None
    cache_hit: bool = False
    duration_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal | None = None
    judge_calls: int = 0
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    judge_cost: Decimal | None = None
    id: int | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every column by name (money stays ``Decimal``, dates ``datetime``)."""
        return {name: getattr(self, name) for name in _RESULT_FIELDS}


_RESULT_FIELDS = tuple(EvalResultRow.__dataclass_fields__)
_RUN_FIELDS = frozenset(EvalRunRow.__dataclass_fields__)
_TEXT_COLUMNS = frozenset({"prompt", "output", "case_data", "explanation"})


def _brief_columns() -> list[Column[Any]]:
    from llmlab.store._tables_evals import eval_results

    return [c for c in eval_results.columns if c.name not in _TEXT_COLUMNS]


def _run(row: Mapping[Any, Any]) -> EvalRunRow:
    return EvalRunRow(**{k: v for k, v in row.items() if k in _RUN_FIELDS})


def _result(row: Mapping[Any, Any]) -> EvalResultRow:
    values = dict(row)
    # JSON columns may come back None from rows written by hand; the row type says dict.
    for name, empty in (("case_data", {}), ("scores", {}), ("tags", [])):
        if values.get(name) is None:
            values[name] = empty
    return EvalResultRow(**values)


def create_eval_run(
    store: Store,
    *,
    id: str,
    name: str,
    fingerprint: str,
    model: str,
    n_cases: int,
    epochs: int,
    threshold: float,
    suite: Mapping[str, Any],
    options: Mapping[str, Any],
    suite_path: str | None = None,
    parent_run: str | None = None,
    started_at: datetime | None = None,
) -> EvalRunRow:
    """Insert a ``running`` run (``started_at`` defaults to now) and return its row.

    Atomic: when ``id`` is taken (the same suite started twice in the same second, maybe
    by two processes), the run gets the first free ``id-2``, ``id-3`` ... instead; the
    returned row has the id it was stored under.
    """
    run = EvalRunRow(
        id=id,
        name=name,
        fingerprint=fingerprint,
        model=model,
        status="running",
        started_at=started_at or datetime.now(UTC),
        n_cases=n_cases,
        epochs=epochs,
        threshold=threshold,
        suite=dict(suite),
        options=dict(options),
        suite_path=suite_path,
        parent_run=parent_run,
    )
    values = {
        name: getattr(run, name)
        for name in _RUN_FIELDS
        if name not in ("finished_at", "summary", "n_results")
    }
    for n in range(1, _MAX_ID_TRIES + 1):
        if n > 1:
            values["id"] = f"{id}-{n}"
        fast = store.fast_sink()
        if fast is not None:
            inserted: object = fast_sql.fast_insert_run(fast, values) or None
        else:
            with store.write() as conn:
                inserted = conn.execute(_insert_run_if_new(store), values).first()
        if inserted is not None:
            return replace(run, id=values["id"]) if n > 1 else run
    raise StoreError(
        f"cannot create eval run {id!r}: {_MAX_ID_TRIES} runs with that id exist already; "
        "wait a second and start it again"
    )


_MAX_ID_TRIES = 1000


def _insert_run_if_new(store: Store) -> Insert:
    from sqlalchemy.dialects import sqlite

    from llmlab.store._tables_evals import eval_runs

    # ON CONFLICT DO NOTHING rather than catching IntegrityError: a failed statement would
    # abort a PostgreSQL transaction; RETURNING says whether this insert won.
    if store.dialect == "sqlite":
        query: Insert = sqlite.insert(eval_runs).on_conflict_do_nothing(index_elements=["id"])
    elif store.dialect == "postgresql":
        # Lazy: the PostgreSQL dialect is loaded by the engine on a PostgreSQL store only.
        from sqlalchemy.dialects import postgresql

        query = postgresql.insert(eval_runs).on_conflict_do_nothing(index_elements=["id"])
    else:
        query = eval_runs.insert()
    return query.returning(eval_runs.c.id)


def _insert_ignoring_duplicates(store: Store) -> Insert:
    from sqlalchemy.dialects import sqlite

    from llmlab.store._tables_evals import eval_results

    if store.dialect == "sqlite":
        return sqlite.insert(eval_results).on_conflict_do_nothing()
    if store.dialect == "postgresql":
        # Lazy: the PostgreSQL dialect is loaded by the engine on a PostgreSQL store only.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(eval_results).on_conflict_do_nothing()
    return eval_results.insert()


def insert_eval_results(store: Store, rows: Iterable[EvalResultRow]) -> int:
    """Insert results in one transaction; a (run, case, epoch) already stored is skipped.

    Returns how many rows were given.
    """
    now = datetime.now(UTC)
    batch = list(rows)
    if not batch:
        return 0
    fast_sink = store.fast_sink()
    if fast_sink is not None:
        rows_cells = []
        for row in batch:
            row_cells = [getattr(row, name) for name in _INSERT_COLUMNS]
            if row_cells[_CREATED_AT] is None:
                row_cells[_CREATED_AT] = now
            rows_cells.append(row_cells)
        fast_sql.fast_insert_results(fast_sink, rows_cells)
        return len(batch)
    with store.write() as conn:
        from llmlab.store._driver_insert import driver_insert
        from llmlab.store._tables_evals import eval_results

        fast = driver_insert(conn.dialect, eval_results, _INSERT_COLUMNS, ignore_conflicts=True)
        if fast is not None:
            # The driver's executemany with the columns' own bind processors: SQLAlchemy's
            # per-row parameter handling costs more than SQLite's insert itself.
            sql, processors = fast
            params = []
            for row in batch:
                cells = [getattr(row, name) for name in _INSERT_COLUMNS]
                if cells[_CREATED_AT] is None:
                    cells[_CREATED_AT] = now
                for index, process in processors:
                    cells[index] = process(cells[index])
                params.append(tuple(cells))
            conn.exec_driver_sql(sql, params)
        else:
            prepared = []
            for row in batch:
                values = row.to_dict()
                del values["id"]
                if values["created_at"] is None:
                    values["created_at"] = now
                prepared.append(values)
            conn.execute(_insert_ignoring_duplicates(store), prepared)
    return len(batch)


_INSERT_COLUMNS = fast_sql.RESULT_COLUMNS
_CREATED_AT = _INSERT_COLUMNS.index("created_at")


def finish_eval_run(
    store: Store, run_id: str, *, status: str, summary: Mapping[str, Any] | None
) -> None:
    """Mark a run finished (or interrupted) and store its summary."""
    fast = store.fast_sink()
    if fast is not None:
        fast_sql.fast_finish_run(fast, run_id, status, summary)
        return
    from sqlalchemy import update

    from llmlab.store._tables_evals import eval_runs

    with store.write() as conn:
        conn.execute(
            update(eval_runs)
            .where(eval_runs.c.id == run_id)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                summary=dict(summary) if summary is not None else None,
            )
        )


def latest_unfinished_eval_run(store: Store, fingerprint: str) -> EvalRunRow | None:
    """The newest run with this fingerprint that did not finish, if any."""
    fast = store.fast_sink()
    if fast is not None:
        found = fast_sql.fast_unfinished_run(fast, fingerprint)
        return _run(found) if found is not None else None
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_runs

    query = (
        select(eval_runs)
        .where(eval_runs.c.fingerprint == fingerprint, eval_runs.c.status != "finished")
        .order_by(eval_runs.c.started_at.desc())
        .limit(1)
    )
    with store.read() as conn:
        row = conn.execute(query).mappings().first()
    return _run(row) if row is not None else None


def find_eval_runs(store: Store, prefix: str) -> list[str]:
    """Ids of runs equal to ``prefix`` or starting with it (newest first)."""
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_runs

    query = (
        select(eval_runs.c.id)
        .where(eval_runs.c.id.startswith(prefix, autoescape=True))
        .order_by(eval_runs.c.started_at.desc())
    )
    with store.read() as conn:
        ids = [str(i) for i in conn.execute(query).scalars()]
    return [prefix] if prefix in ids else ids


def get_eval_run(store: Store, run_id: str) -> EvalRunRow | None:
    """One run's row, or None."""
    fast = store.fast_sink()
    if fast is not None:
        found = fast_sql.fast_run(fast, run_id)
        return _run(found) if found is not None else None
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_runs

    with store.read() as conn:
        row = conn.execute(select(eval_runs).where(eval_runs.c.id == run_id)).mappings().first()
    return _run(row) if row is not None else None


def latest_eval_run_id(store: Store) -> str | None:
    """The id of the newest eval run, or None when there is none."""
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_runs

    query = select(eval_runs.c.id).order_by(eval_runs.c.started_at.desc()).limit(1)
    with store.read() as conn:
        found: str | None = conn.execute(query).scalar()
    return found


def list_eval_runs(store: Store, *, limit: int = 20, name: str | None = None) -> list[EvalRunRow]:
    """The newest runs, each with its result count (``n_results``)."""
    from sqlalchemy import func, select

    from llmlab.store._tables_evals import eval_results, eval_runs

    counts = (
        select(eval_results.c.run_id, func.count().label("n_results"))
        .group_by(eval_results.c.run_id)
        .subquery()
    )
    query = (
        select(eval_runs, func.coalesce(counts.c.n_results, 0).label("n_results"))
        .outerjoin(counts, counts.c.run_id == eval_runs.c.id)
        .order_by(eval_runs.c.started_at.desc())
        .limit(limit)
    )
    if name:
        query = query.where(eval_runs.c.name == name)
    with store.read() as conn:
        return [_run(row) for row in conn.execute(query).mappings()]


def get_eval_results(
    store: Store, run_id: str, *, failed_only: bool = False, brief: bool = False
) -> list[EvalResultRow]:
    """A run's results ordered by case and epoch; ``brief`` leaves out the texts
    (prompt, output, case data, explanation), for statistics over large runs."""
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_results

    columns = _brief_columns() if brief else list(eval_results.columns)
    query = (
        select(*columns)
        .where(eval_results.c.run_id == run_id)
        .order_by(eval_results.c.case_id, eval_results.c.epoch)
    )
    if failed_only:
        query = query.where(eval_results.c.passed.is_(False))
    with store.read() as conn:
        return [_result(row) for row in conn.execute(query).mappings()]


def iter_eval_results(store: Store, run_id: str) -> Iterator[EvalResultRow]:
    """A run's results without their texts, one at a time, each case's trials together
    (for statistics over large runs: nothing holds every row at once)."""
    fast = store.fast_sink()
    if fast is not None:
        for found in fast_sql.fast_results(fast, run_id):
            yield _result(found)
        return
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_results

    query = (
        select(*_brief_columns())
        .where(eval_results.c.run_id == run_id)
        .order_by(eval_results.c.case_id, eval_results.c.epoch)
    )
    with store.read() as conn:
        result = conn.execution_options(yield_per=500).execute(query).mappings()
        for row in result:
            yield _result(row)


def eval_result_keys(store: Store, run_id: str) -> set[tuple[str, int]]:
    """The (case, epoch) pairs a run already has results for."""
    fast = store.fast_sink()
    if fast is not None:
        return fast_sql.fast_result_keys(fast, run_id)
    from sqlalchemy import select

    from llmlab.store._tables_evals import eval_results

    query = select(eval_results.c.case_id, eval_results.c.epoch).where(
        eval_results.c.run_id == run_id
    )
    with store.read() as conn:
        return {(str(c), int(e)) for c, e in conn.execute(query)}
