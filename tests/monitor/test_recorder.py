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
from sqlalchemy import Connection, Engine, text

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
from llmlab.store import CALL_COLUMNS, get_engine, recent_calls


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


def test_record_then_flush_writes_every_field(db_url: str) -> None:
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
    record(rec, db_url)
    assert flush(db_url)
    [row] = recent_calls(get_engine(db_url))
    assert row == dataclasses.asdict(rec)


def test_many_records_are_written_in_batches(db_url: str) -> None:
    batches: list[int] = []

    def listener(_engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
        batches.append(len(rows))

    add_batch_listener(listener)
    try:
        for n in range(1_234):
            record(make(n), db_url)
        assert flush(db_url)
    finally:
        remove_batch_listener(listener)
    assert sum(batches) == 1_234
    assert max(batches) <= _recorder.BATCH_SIZE
    assert len(batches) < 100  # batched, not one transaction per call
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM calls")).scalar() == 1_234


def test_rows_are_written_without_flush(db_url: str) -> None:
    record(make(), db_url)
    engine = get_engine(db_url)
    for _ in range(200):
        if recent_calls(engine):
            break
        time.sleep(0.01)
    assert len(recent_calls(engine)) == 1


def test_hook_runs_in_the_insert_transaction(db_url: str) -> None:
    seen: list[int] = []

    def hook(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        # the batch is visible inside the same transaction
        seen.append(conn.execute(text("SELECT count(*) FROM calls")).scalar_one())

    add_batch_hook(hook)
    try:
        record(make(), db_url)
        flush(db_url)
    finally:
        remove_batch_hook(hook)
    assert seen == [1]


def test_failing_hook_does_not_lose_calls(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_recorder, "RETRY_DELAYS_S", (0.0, 0.0, 0.0))

    def broken(_conn: Connection, _rows: Sequence[Mapping[str, Any]]) -> None:
        raise RuntimeError("rollup bug")

    add_batch_hook(broken)
    try:
        record(make(), db_url)
        flush(db_url)
    finally:
        remove_batch_hook(broken)
    assert len(recent_calls(get_engine(db_url))) == 1
    assert "rollup bug" in caplog.text


def test_content_capture_can_be_switched_off(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_CAPTURE_CONTENT", "0")
    record(make(), db_url)
    flush(db_url)
    [row] = recent_calls(get_engine(db_url))
    assert row["request"] is None
    assert row["response_text"] is None
    assert row["input_tokens"] == 100


def test_unreachable_database_is_retried_then_saved_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_recorder, "RETRY_DELAYS_S", (0.0, 0.01))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    url = str(blocker / "x.db")  # a folder that cannot exist
    rec = make(tags={"k": "v"})
    caplog.set_level(logging.WARNING, logger="llmlab.monitor")
    record(rec, url)
    assert flush(url, timeout=30)
    attempts = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(attempts) == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "cannot write 1 call record(s)" in errors[0]
    spill = tmp_path / ".llmlab" / "unwritten-calls.jsonl"
    assert str(spill) in errors[0]
    [saved] = [json.loads(line) for line in spill.read_text().splitlines()]
    assert saved["id"] == rec.id
    assert saved["cost"] == "0.000021"
    assert saved["tags"] == {"k": "v"}


def test_a_bad_row_does_not_sink_its_batch(
    any_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    first = make()
    record(first, any_url)
    assert flush(any_url)
    long_name = "m" * 500  # longer than the column: stored shortened, not rejected
    record(make(requested_model=long_name), any_url)
    record(dataclasses.replace(make(), id=first.id), any_url)  # duplicate id
    floating = make(cost=0.5)  # type: ignore[arg-type]  # money is never a float
    record(floating, any_url)
    record(make(), any_url)
    assert flush(any_url)
    rows = recent_calls(get_engine(any_url), limit=10)
    assert len(rows) == 3
    assert any(r["requested_model"].startswith("mmm") for r in rows)
    spilled = (tmp_path / ".llmlab" / "unwritten-calls.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in spilled) == sorted([first.id, floating.id])
    assert "saved them to" in caplog.text
