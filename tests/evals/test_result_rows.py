"""Eval runs and results round-trip on every write path (SQLite's sqlite3 fast path, the
engine on SQLite, PostgreSQL): every column as given, a duplicate skipped; the fast path
stores rows byte-identical to the engine's and its column lists match the tables."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmlab.store import (
    EvalResultRow,
    Store,
    create_eval_run,
    eval_result_keys,
    finish_eval_run,
    get_eval_results,
    get_eval_run,
    insert_eval_results,
    iter_eval_results,
    latest_unfinished_eval_run,
)
from llmlab.store import _evals_fast as fast_sql


@pytest.fixture(
    params=["sqlite-fast", "sqlite-engine", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
    else:
        url = str(_migrated(tmp_path / "rows.db"))
    with Store(url) as handle:
        if request.param == "sqlite-fast":
            assert handle.fast_sink() is not None
        elif request.param == "sqlite-engine":
            assert handle.engine is not None and handle.fast_sink() is None
        yield handle


def _migrated(path: Path) -> Path:
    Store(str(path)).close()  # creates and migrates it
    return path


def _full(run_id: str, case_id: str) -> EvalResultRow:
    return EvalResultRow(
        run_id=run_id,
        case_id=case_id,
        epoch=2,
        status="ok",
        score=0.75,
        passed=True,
        errored=False,
        prompt="say é\n{{ raw }}",
        case_data={"input": "say", "expected": {"n": 1}, "tags": ["a"], "weight": 2.0},
        output="é out",
        scores={"includes": 1.0, "judge": None},
        explanation="because",
        error=None,
        tags=["a", "b"],
        weight=2.0,
        call_id="c-1",
        cache_hit=True,
        duration_s=0.125,
        input_tokens=12,
        output_tokens=7,
        cost=Decimal("0.000001234567"),
        judge_calls=1,
        judge_input_tokens=30,
        judge_output_tokens=4,
        judge_cost=Decimal("0.5"),
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_every_column_round_trips_and_duplicates_are_skipped(store: Store) -> None:
    run = create_eval_run(
        store,
        id="rows-1",
        name="rows",
        fingerprint="f" * 64,
        model="scripted/x",
        n_cases=2,
        epochs=2,
        threshold=0.5,
        suite={"name": "rows"},
        options={},
    )
    full = _full(run.id, "full")
    bare = EvalResultRow(
        run_id=run.id, case_id="bare", epoch=1, status="error", score=None, passed=False,
        errored=True, error="boom",
    )  # fmt: skip
    before = datetime.now(UTC)
    assert insert_eval_results(store, [full, bare]) == 2
    assert insert_eval_results(store, [dataclasses.replace(full, output="again")]) == 1
    assert insert_eval_results(store, []) == 0
    stored = {row.case_id: row for row in get_eval_results(store, run.id)}
    assert set(stored) == {"full", "bare"}
    got = stored["full"]
    assert got.id is not None
    assert dataclasses.replace(got, id=None) == full  # the duplicate did not overwrite it
    empty = stored["bare"]
    assert empty.created_at is not None and empty.created_at >= before.replace(microsecond=0)
    assert dataclasses.replace(empty, id=None, created_at=None) == bare


def test_a_run_reads_back_as_written_and_finishes(store: Store) -> None:
    started = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=2)))
    run = create_eval_run(
        store,
        id="run-x",
        name="x",
        fingerprint="a" * 64,
        model="scripted/x",
        n_cases=3,
        epochs=2,
        threshold=0.25,
        suite={"name": "x", "nested": {"é": [1, 2.5, None]}},
        options={"k": None},
        suite_path="/tmp/suite.yaml",
        started_at=started,
    )
    again = create_eval_run(
        store, id="run-x", name="x", fingerprint="a" * 64, model="m", n_cases=1, epochs=1,
        threshold=0.5, suite={}, options={},
    )  # fmt: skip
    assert again.id == "run-x-2"  # the id was taken
    stored = get_eval_run(store, "run-x")
    assert stored is not None
    assert stored == dataclasses.replace(run, started_at=started.astimezone(UTC))
    assert latest_unfinished_eval_run(store, "a" * 64) in (stored, get_eval_run(store, "run-x-2"))
    rows = [_full(run.id, f"c{i}") for i in range(3)]
    insert_eval_results(store, rows)
    assert eval_result_keys(store, run.id) == {("c0", 2), ("c1", 2), ("c2", 2)}
    brief = list(iter_eval_results(store, run.id))
    assert [r.case_id for r in brief] == ["c0", "c1", "c2"]
    assert brief[0].prompt is None and brief[0].case_data == {}  # texts left out
    assert brief[0].cost == Decimal("0.000001234567") and brief[0].passed is True
    assert brief[0].created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    finish_eval_run(store, run.id, status="finished", summary={"pass_rate": 1.0, "x": [1]})
    done = get_eval_run(store, run.id)
    assert done is not None and done.status == "finished"
    assert done.summary == {"pass_rate": 1.0, "x": [1]} and done.finished_at is not None
    assert latest_unfinished_eval_run(store, "a" * 64) == get_eval_run(store, "run-x-2")


def test_iter_eval_results_pages_in_case_and_epoch_order(store: Store) -> None:
    run = create_eval_run(
        store, id="pages", name="p", fingerprint="b" * 64, model="m", n_cases=700, epochs=2,
        threshold=0.5, suite={}, options={},
    )  # fmt: skip
    rows = [
        dataclasses.replace(_full(run.id, f"case-{i:04d}"), epoch=epoch, created_at=None)
        for i in reversed(range(700))
        for epoch in (2, 1)
    ]
    insert_eval_results(store, rows)
    got = [(r.case_id, r.epoch) for r in iter_eval_results(store, run.id)]
    assert got == sorted((f"case-{i:04d}", e) for i in range(700) for e in (1, 2))


def test_fast_path_columns_match_the_tables() -> None:
    from sqlalchemy import JSON, Boolean

    from llmlab.store._metadata import Money, UtcDateTime
    from llmlab.store._tables_evals import eval_results, eval_runs

    def kinds(table: Any) -> dict[str, str]:
        found = {}
        for column in table.columns:
            for kind, types in (
                ("json", JSON), ("bool", Boolean), ("money", Money), ("datetime", UtcDateTime)
            ):  # fmt: skip
                if isinstance(column.type, types):
                    found[column.name] = kind
        return found

    assert tuple(c.name for c in eval_runs.columns) == fast_sql.RUN_COLUMNS
    assert tuple(c.name for c in eval_results.columns)[1:] == fast_sql.RESULT_COLUMNS
    assert kinds(eval_runs) == fast_sql.RUN_KINDS
    assert kinds(eval_results) == fast_sql.RESULT_KINDS
    assert set(fast_sql.RESULT_COLUMNS) == set(EvalResultRow.__dataclass_fields__) - {"id"}


def test_fast_path_stores_rows_byte_identical_to_the_engine(tmp_path: Path) -> None:
    dumps = []
    for name, engine in (("fast.db", False), ("engine.db", True)):
        path = _migrated(tmp_path / name)
        with Store(str(path)) as store:
            if engine:
                assert store.engine is not None
            assert (store.fast_sink() is None) == engine
            run = create_eval_run(
                store, id="same", name="n", fingerprint="c" * 64, model="m", n_cases=2,
                epochs=1, threshold=0.5, suite={"a": "é"}, options={"o": [1, None]},
                started_at=datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=UTC),
            )  # fmt: skip
            awkward = dataclasses.replace(
                _full(run.id, "awkward"),
                cost=Decimal("0.0000000000015"),
                judge_cost=None,
                score=None,
                created_at=datetime(2026, 11, 30, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=5))),
            )
            insert_eval_results(store, [_full(run.id, "full"), awkward])
            with sqlite3.connect(path) as conn:  # not finished yet: no summary, no end
                running = conn.execute("SELECT * FROM eval_runs").fetchall()
            finish_eval_run(store, run.id, status="finished", summary={"n": 2, "r": 0.5})
        with sqlite3.connect(path) as conn:
            runs = conn.execute("SELECT * FROM eval_runs").fetchall()
            results = conn.execute("SELECT * FROM eval_results ORDER BY case_id").fetchall()
        # finished_at is the moment of finishing: compare its format, not its value.
        runs = [(*row[:6], len(row[6]), *row[7:]) for row in runs]
        dumps.append((running, runs, results))
    assert dumps[0] == dumps[1]
