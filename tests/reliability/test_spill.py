"""Item 7: what cannot be written is spilled beside the database and replayed on open."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from llmlab.monitor import CallRecord, flush, record
from llmlab.store import (
    EvalResultRow,
    Store,
    create_eval_run,
    get_eval_results,
    recent_calls,
    spill_path,
    spill_rows,
)


def _call(n: int) -> CallRecord:
    return CallRecord(
        id=f"spill-{n:04d}",
        provider="openai",
        requested_model="gpt-4o-mini",
        started_at=datetime.now(UTC),
        cost_status="priced",
        input_tokens=10,
        output_tokens=5,
        cost=Decimal("0.000021"),
    )


def test_spill_file_belongs_to_the_database_not_the_working_folder(
    tmp_path: Path, spill_home: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with Store(str(tmp_path / "a" / "llmlab.db")) as lite:
        assert spill_path(lite) == tmp_path / "a" / "llmlab.db.unwritten.jsonl"
    with Store(pg_url) as server:
        path = spill_path(server)
        assert path is not None and path.parent == spill_home / "llmlab" / "spill"
    with Store(pg_url.replace("postgres@", "postgres:secret@")) as same:
        assert spill_path(same) == path  # the password is not part of the identity


def test_spilled_calls_and_results_are_replayed_once_on_open(
    backend_url: str, spill_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Store(backend_url) as store:
        run = create_eval_run(
            store,
            id="run",
            name="suite",
            fingerprint="f",
            model="scripted/x",
            n_cases=3,
            epochs=1,
            threshold=0.5,
            suite={},
            options={},
        )
        record(_call(0), store)  # this one did reach the database
        assert flush(store)
        calls = [_call(n) for n in range(3)]
        rows = [{name: getattr(c, name) for name in CallRecord.__dataclass_fields__} for c in calls]
        spill_rows(store, "calls", rows)
        results = [
            EvalResultRow(
                run_id=run.id,
                case_id=f"c{n}",
                epoch=1,
                status="ok",
                score=1.0,
                passed=True,
                errored=False,
                output="yes",
                cost=Decimal("0.5"),
            ).to_dict()
            for n in range(3)
        ]
        for result in results:
            del result["id"]
        spill_rows(store, "eval_results", results[:2])
        spill_rows(store, "eval_results", results)  # spilled twice: stored once
        path = spill_path(store)
        assert path is not None and path.exists()
    caplog.set_level(logging.WARNING, logger="llmlab.store")
    with Store(backend_url) as again:
        assert not path.exists()
        stored = recent_calls(again, limit=10)
        assert sorted(c.id for c in stored) == [c.id for c in calls]
        assert all(c.cost == Decimal("0.000021") for c in stored)
        got = get_eval_results(again, "run")
        assert [r.case_id for r in got] == ["c0", "c1", "c2"]
        assert all(r.cost == Decimal("0.5") for r in got)
    assert "replayed 5 unwritten row(s)" in caplog.text  # 2 calls + 3 results were new
    with Store(backend_url) as third:  # nothing left to replay, nothing doubled
        assert len(recent_calls(third, limit=10)) == 3


def test_recorder_spills_while_the_database_refuses_and_replays_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from llmlab.monitor import _recorder

    monkeypatch.setattr(_recorder, "RETRY_DELAYS_S", (0.0, 0.01))
    monkeypatch.chdir(tmp_path)
    url = str(tmp_path / "db" / "llmlab.db")
    with Store(url) as store:
        with store.write() as conn:  # the calls table is unreachable for a while
            conn.execute(text("ALTER TABLE calls RENAME TO calls_away"))
        for n in range(5):
            record(_call(n), store)
        assert flush(store, timeout=30)
        with store.write() as conn:
            conn.execute(text("ALTER TABLE calls_away RENAME TO calls"))
    spilled = (tmp_path / "db" / "llmlab.db.unwritten.jsonl").read_text().splitlines()
    assert len(spilled) == 5 and json.loads(spilled[0])["table"] == "calls"
    with Store(url) as again:
        assert len(recent_calls(again, limit=10)) == 5
