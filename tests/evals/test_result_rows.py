"""Result rows round-trip through the writer's driver-level insert, on SQLite and
PostgreSQL: every column as given, a duplicate (run, case, epoch) skipped."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from llmlab.store import (
    EvalResultRow,
    Store,
    create_eval_run,
    get_eval_results,
    insert_eval_results,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, llmlab_store: Store) -> Iterator[Store]:
    if request.param == "sqlite":
        yield llmlab_store
        return
    pg_url: str = request.getfixturevalue("pg_url")
    with Store(pg_url) as handle:
        yield handle


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
