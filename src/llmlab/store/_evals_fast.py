"""The eval runner's statements on the SQLite fast path, through ``sqlite3`` alone.

A :class:`~llmlab.store.Store` on a migrated SQLite file starts without an engine (see
``_fast_sqlite.py``); an eval run then makes its run row, writes its results, reads them
back for the summary and finishes the run through the same ``sqlite3`` connection, so a
run need not import SQLAlchemy (about 0.15 s of CPU and 18k objects, which the runner's
start-up budget counts). Values are converted as the engine's bind and result processors
convert them (money as integer pico-dollars, naive-UTC timestamps in SQLAlchemy's text
format, JSON by ``json.dumps``), so a row reads and stores the same either way
(``tests/evals/test_result_rows.py`` compares them byte for byte, and checks the column
lists and kinds below against the table metadata).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from llmlab.store._fast_sqlite import FROM_DRIVER, TO_DRIVER, FastSqlite

__all__ = [
    "BRIEF_RESULT_COLUMNS",
    "RESULT_KINDS",
    "RUN_COLUMNS",
    "RUN_KINDS",
    "fast_finish_run",
    "fast_insert_results",
    "fast_insert_run",
    "fast_result_keys",
    "fast_results",
    "fast_run",
    "fast_unfinished_run",
]

RUN_COLUMNS = (
    "id",
    "name",
    "fingerprint",
    "model",
    "status",
    "started_at",
    "finished_at",
    "n_cases",
    "epochs",
    "threshold",
    "suite_path",
    "suite",
    "options",
    "parent_run",
    "summary",
)
"""``eval_runs``' columns, in table order."""
RUN_KINDS = {
    "started_at": "datetime",
    "finished_at": "datetime",
    "suite": "json",
    "options": "json",
    "summary": "json",
}
RESULT_COLUMNS = (
    "run_id",
    "case_id",
    "epoch",
    "status",
    "prompt",
    "case_data",
    "output",
    "score",
    "passed",
    "errored",
    "scores",
    "explanation",
    "error",
    "tags",
    "weight",
    "call_id",
    "cache_hit",
    "duration_s",
    "input_tokens",
    "output_tokens",
    "cost",
    "judge_calls",
    "judge_input_tokens",
    "judge_output_tokens",
    "judge_cost",
    "created_at",
)
"""``eval_results``' columns but its ``id``, in table order."""
RESULT_KINDS = {
    "case_data": "json",
    "passed": "bool",
    "errored": "bool",
    "scores": "json",
    "tags": "json",
    "cache_hit": "bool",
    "cost": "money",
    "judge_cost": "money",
    "created_at": "datetime",
}
_TEXT_COLUMNS = frozenset({"prompt", "output", "case_data", "explanation"})
BRIEF_RESULT_COLUMNS = tuple(name for name in ("id", *RESULT_COLUMNS) if name not in _TEXT_COLUMNS)
"""What ``iter_eval_results`` reads: every column but the texts."""


def _to_driver(columns: Sequence[str], kinds: Mapping[str, str]) -> list[tuple[int, Any]]:
    return [(i, TO_DRIVER[kinds[name]]) for i, name in enumerate(columns) if name in kinds]


def _from_driver(columns: Sequence[str], kinds: Mapping[str, str]) -> list[tuple[int, Any]]:
    return [(i, FROM_DRIVER[kinds[name]]) for i, name in enumerate(columns) if name in kinds]


_RUN_IN = _to_driver(RUN_COLUMNS, RUN_KINDS)
_RUN_OUT = _from_driver(RUN_COLUMNS, RUN_KINDS)
_RESULT_IN = _to_driver(RESULT_COLUMNS, RESULT_KINDS)
_BRIEF_OUT = _from_driver(BRIEF_RESULT_COLUMNS, RESULT_KINDS)

_SELECT_RUN = f"SELECT {', '.join(RUN_COLUMNS)} FROM eval_runs"
_INSERT_RUN = (
    f"INSERT INTO eval_runs ({', '.join(RUN_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RUN_COLUMNS)}) ON CONFLICT (id) DO NOTHING RETURNING id"
)
_INSERT_RESULTS = (
    f"INSERT INTO eval_results ({', '.join(RESULT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RESULT_COLUMNS)}) ON CONFLICT DO NOTHING"
)
_BRIEF_PAGE = 500
_SELECT_BRIEF = (
    f"SELECT {', '.join(BRIEF_RESULT_COLUMNS)} FROM eval_results WHERE run_id = ? "
    "AND (case_id > ? OR (case_id = ? AND epoch > ?)) ORDER BY case_id, epoch LIMIT ?"
)


def _converted(values: Sequence[Any], steps: list[tuple[int, Any]]) -> list[Any]:
    cells = list(values)
    for index, convert in steps:
        cells[index] = convert(cells[index])
    return cells


def fast_run(fast: FastSqlite, run_id: str) -> dict[str, Any] | None:
    """One ``eval_runs`` row by id, its values as the engine reads them."""
    with fast.reading() as conn:
        row = conn.execute(f"{_SELECT_RUN} WHERE id = ?", (run_id,)).fetchone()
    return dict(zip(RUN_COLUMNS, _converted(row, _RUN_OUT), strict=True)) if row else None


def fast_unfinished_run(fast: FastSqlite, fingerprint: str) -> dict[str, Any] | None:
    """The newest run with ``fingerprint`` that did not finish."""
    query = (
        f"{_SELECT_RUN} WHERE fingerprint = ? AND status != 'finished' "
        "ORDER BY started_at DESC LIMIT 1"
    )
    with fast.reading() as conn:
        row = conn.execute(query, (fingerprint,)).fetchone()
    return dict(zip(RUN_COLUMNS, _converted(row, _RUN_OUT), strict=True)) if row else None


def fast_insert_run(fast: FastSqlite, values: Mapping[str, Any]) -> bool:
    """Insert a run unless its id is taken; whether it was inserted. A column missing
    from ``values`` is stored NULL (as the engine's insert leaves it), not JSON null."""
    params = [values.get(name) for name in RUN_COLUMNS]
    for index, convert in _RUN_IN:
        if RUN_COLUMNS[index] in values:
            params[index] = convert(params[index])
    with fast.writing() as conn:
        return conn.execute(_INSERT_RUN, params).fetchone() is not None


def fast_insert_results(fast: FastSqlite, rows: Sequence[Sequence[Any]]) -> None:
    """Insert result rows (values in ``RESULT_COLUMNS`` order), skipping duplicates."""
    params = [_converted(row, _RESULT_IN) for row in rows]
    with fast.writing() as conn:
        conn.executemany(_INSERT_RESULTS, params)


def fast_finish_run(
    fast: FastSqlite, run_id: str, status: str, summary: Mapping[str, Any] | None
) -> None:
    """Mark a run finished (or interrupted) with its summary."""
    params = (
        status,
        TO_DRIVER["datetime"](datetime.now(UTC)),
        TO_DRIVER["json"](dict(summary) if summary is not None else None),
        run_id,
    )
    with fast.writing() as conn:
        conn.execute(
            "UPDATE eval_runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?", params
        )


def fast_result_keys(fast: FastSqlite, run_id: str) -> set[tuple[str, int]]:
    """The (case, epoch) pairs a run has results for."""
    with fast.reading() as conn:
        found = conn.execute(
            "SELECT case_id, epoch FROM eval_results WHERE run_id = ?", (run_id,)
        ).fetchall()
    return {(str(case), int(epoch)) for case, epoch in found}


def fast_results(fast: FastSqlite, run_id: str) -> Iterator[dict[str, Any]]:
    """A run's results without their texts, by case and epoch, a page at a time (the
    lock is held per page, not while the caller works)."""
    case_id, epoch = "", -1
    while True:
        with fast.reading() as conn:
            page = conn.execute(
                _SELECT_BRIEF, (run_id, case_id, case_id, epoch, _BRIEF_PAGE)
            ).fetchall()
        for row in page:
            yield dict(zip(BRIEF_RESULT_COLUMNS, _converted(row, _BRIEF_OUT), strict=True))
        if len(page) < _BRIEF_PAGE:
            return
        last = page[-1]
        case_id, epoch = (
            last[BRIEF_RESULT_COLUMNS.index("case_id")],
            last[BRIEF_RESULT_COLUMNS.index("epoch")],
        )
