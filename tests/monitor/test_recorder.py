"""The recorder: non-blocking record(), batched writes, flush, hooks, failures not lost."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

import llmlab.monitor._recorder as _recorder
from llmlab.monitor import (
    CallRecord,
    add_batch_hook,
    add_batch_listener,
    flush,
    new_call_id,
    record,
    remove_batch_hook,
    remove_batch_listener,
)
from llmlab.store import CALL_COLUMNS, Store, recent_calls, spill_path


def make(n: int = 0, **changes: Any) -> CallRecord:
    rec = CallRecord(
        id=new_call_id(),
        started_at=datetime.now(UTC),
        provider="openai",
        requested_model="gpt-4o-mini",
        input_tokens=100 + n,
        output_tokens=7,
        cost=Decimal("0.000021"),
        cost_status="priced",
        price_source="genai-prices 0.2.3: openai/gpt-4o-mini",
        request={"messages": [{"role": "user", "content": "hi"}]},
        response_text="hello",
    )
    return dataclasses.replace(rec, **changes)


def test_call_record_fields_are_the_calls_columns() -> None:
    assert {f.name for f in dataclasses.fields(CallRecord)} == set(CALL_COLUMNS)


def test_record_then_flush_writes_every_field(store: Store) -> None:
    rec = make(
        ttft_s=0.125,
        duration_s=1.5,
        tags={"user": "ann"},
        prompt_name="greet",
        prompt_version=3,
        eval_run="run1",
        sample_id="s1",
        epoch=2,
        cache_hit=True,
        streamed=True,
    )
    record(rec, store)
    assert flush(store)
    [row] = recent_calls(store)
    assert row.to_dict() == dataclasses.asdict(rec)


def test_many_records_are_written_in_batches(store: Store) -> None:
    batches: list[int] = []

    def listener(_store: Store, rows: Sequence[Mapping[str, Any]]) -> None:
        batches.append(len(rows))

    add_batch_listener(listener)
    try:
        for n in range(1_234):
            record(make(n), store)
        assert flush(store)
    finally:
        remove_batch_listener(listener)
    assert sum(batches) == 1_234
    assert max(batches) <= _recorder.BATCH_SIZE
    assert len(batches) < 100  # batched, not one transaction per call
    with store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM calls")).scalar() == 1_234


def test_rows_are_written_without_flush(store: Store) -> None:
    record(make(), store)
    for _ in range(200):
        if recent_calls(store):
            break
        time.sleep(0.01)
    assert len(recent_calls(store)) == 1


def test_hook_runs_in_the_insert_transaction(store: Store) -> None:
    seen: list[int] = []

    def hook(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        # the batch is visible inside the same transaction
        seen.append(conn.execute(text("SELECT count(*) FROM calls")).scalar_one())

    add_batch_hook(hook)
    try:
        record(make(), store)
        flush(store)
    finally:
        remove_batch_hook(hook)
    assert seen == [1]


def test_failing_hook_does_not_lose_calls(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_recorder, "RETRY_DELAYS_S", (0.0, 0.0, 0.0))

    def broken(_conn: Connection, _rows: Sequence[Mapping[str, Any]]) -> None:
        raise RuntimeError("rollup bug")

    add_batch_hook(broken)
    try:
        record(make(), store)
        flush(store)
    finally:
        remove_batch_hook(broken)
    assert len(recent_calls(store)) == 1
    assert "rollup bug" in caplog.text


def test_content_capture_can_be_switched_off(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_CAPTURE_CONTENT", "0")
    record(make(), store)
    flush(store)
    [row] = recent_calls(store)
    assert row.request is None
    assert row.response_text is None
    assert row.input_tokens == 100


def test_unreachable_database_is_retried_then_saved_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_recorder, "RETRY_DELAYS_S", (0.0, 0.01))
    rec = make(tags={"k": "v"})
    caplog.set_level(logging.WARNING, logger="llmlab.monitor")
    with Store(str(tmp_path / "gone.db")) as broken:
        with broken.write() as conn:  # the database stops accepting calls
            conn.execute(text("DROP TABLE calls"))
        record(rec, broken)
        assert flush(broken, timeout=30)
    attempts = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(attempts) == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "cannot write 1 call record(s)" in errors[0]
    spill = tmp_path / "gone.db.unwritten.jsonl"  # beside the database, not in the cwd
    assert str(spill) in errors[0]
    [saved] = [json.loads(line)["row"] for line in spill.read_text().splitlines()]
    assert saved["id"] == rec.id
    assert saved["cost"] == {"$decimal": "0.000021"}
    assert saved["tags"] == {"k": "v"}


def test_a_bad_row_does_not_sink_its_batch(
    any_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # PostgreSQL's spill files
    first = make()
    record(first, any_store)
    assert flush(any_store)
    long_name = "m" * 500  # longer than the column: stored shortened, not rejected
    record(make(requested_model=long_name), any_store)
    record(dataclasses.replace(make(), id=first.id), any_store)  # duplicate id
    floating = make(cost=0.5)  # type: ignore[arg-type]  # money is never a float
    record(floating, any_store)
    record(make(), any_store)
    assert flush(any_store)
    rows = recent_calls(any_store, limit=10)
    assert len(rows) == 3
    assert any(r.requested_model.startswith("mmm") for r in rows)
    rejected = spill_path(any_store, rejected=True)
    assert rejected is not None
    spilled = rejected.read_text().splitlines()
    assert sorted(json.loads(line)["row"]["id"] for line in spilled) == sorted(
        [first.id, floating.id]
    )
    assert "saved them to" in caplog.text


def test_closing_the_store_writes_what_is_queued(tmp_path: Path) -> None:
    url = str(tmp_path / "closing.db")
    with Store(url) as store:
        recs = [make(n) for n in range(50)]
        for rec in recs:
            record(rec, store)
        recorder = store.peek(_recorder.Recorder)
        assert recorder is not None and recorder.thread is not None
    # closed: everything written, the writer thread stopped
    assert not recorder.thread.is_alive()
    with Store(url) as again:
        assert {r.id for r in recent_calls(again, limit=100)} == {r.id for r in recs}


def test_each_store_has_its_own_recorder(tmp_path: Path) -> None:
    with Store(str(tmp_path / "a.db")) as a, Store(str(tmp_path / "b.db")) as b:
        record(make(), a)
        record(make(), a)
        record(make(), b)
        assert flush(a) and flush(b)
        assert len(recent_calls(a)) == 2 and len(recent_calls(b)) == 1
        assert a.peek(_recorder.Recorder) is not b.peek(_recorder.Recorder)


def test_a_forked_child_starts_with_an_empty_queue(
    any_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.chdir(tmp_path)
    store = any_store
    parent = [make(n) for n in range(2000)]
    for rec in parent:
        record(rec, store)
    # A forked child cannot write an SQLite file whose connections its parent had open
    # (SQLite's own rule, see the store handle's fork notes): the child writes only to
    # PostgreSQL here; on both, it must start without the parent's queued rows.
    child_writes = store.dialect != "sqlite"
    pid = os.fork()
    if pid == 0:  # the child: none of the parent's rows, a writer of its own
        code = 1
        try:
            queued = len(_recorder.recorder(store).queue)
            code = 0 if queued == 0 else 2
            if code == 0 and child_writes:
                record(make(99_999), store)
                code = 0 if flush(store, timeout=30) else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert flush(store)
    rows = recent_calls(store, limit=5000)
    assert len(rows) == 2000 + child_writes  # every parent row once (and the child's)
    assert {r.id for r in rows} >= {r.id for r in parent}
    rejected = spill_path(store, rejected=True)
    assert rejected is None or not rejected.exists()  # no duplicates
