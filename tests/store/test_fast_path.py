"""The SQLite fast path: generated SQL that cannot drift, rows stored byte-identical to the
engine path's, the same errors and spill guarantee, and SQLAlchemy never loaded by a
one-call command."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmlab._errors import StoreError
from llmlab.monitor import CallRecord, new_call_id
from llmlab.monitor import _recorder as recorder_module
from llmlab.monitor._rollups import _fast_rollups, rollup_hook
from llmlab.store import CALL_COLUMNS, ROLLUP_KEY_COLUMNS, ROLLUP_VALUE_COLUMNS, Store
from llmlab.store import _fast_sql as fast_sql
from llmlab.store._calls import insert_calls

ROOT = Path(__file__).resolve().parents[2]
_FIELDS = tuple(field.name for field in dataclasses.fields(CallRecord))


def _regen_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "regen_fast_sql", ROOT / "scripts/regen_fast_sql.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_sql_is_up_to_date() -> None:
    """Regenerating _fast_sql.py from the metadata gives the checked-in text exactly."""
    regen = _regen_module()
    assert regen.generate() == regen.TARGET.read_text(), (
        "src/llmlab/store/_fast_sql.py is stale: run scripts/regen_fast_sql.py"
    )
    # What _fast_sqlite.py relies on: parameters in column order.
    assert fast_sql.CALL_COLUMNS == fast_sql.INSERT_CALLS_PARAMS == CALL_COLUMNS
    assert fast_sql.ROLLUP_VALUE_COLUMNS == ROLLUP_VALUE_COLUMNS
    assert (*ROLLUP_KEY_COLUMNS, *ROLLUP_VALUE_COLUMNS) == fast_sql.ROLLUP_INSERT_PARAMS
    keys = tuple(f"key_{name}" for name in ROLLUP_KEY_COLUMNS)
    assert keys == fast_sql.ROLLUP_SELECT_PARAMS
    values = tuple(f"value_{name}" for name in ROLLUP_VALUE_COLUMNS)
    assert (*values, *keys) == fast_sql.ROLLUP_UPDATE_PARAMS


def _migrated(path: Path) -> Path:
    Store(str(path)).close()  # creates and migrates it (the engine path)
    return path


def _rows(n: int) -> list[dict[str, Any]]:
    """Awkward call rows: money below a pico-dollar and above 2**53 pico, aware and naive
    times, None everywhere it may be, unicode, over-long text, nested JSON."""
    costs = [
        Decimal("0.0000001125"),
        Decimal("0.0000000000005"),
        Decimal("0.0000000000015"),
        Decimal("12345.678901234567"),
        Decimal(0),
        None,
    ]
    moments = [
        datetime(2026, 11, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 30, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 11, 30, 0, 0, 0),  # naive: UTC
    ]
    rows = []
    for i in range(n):
        rec = CallRecord(
            id=new_call_id(),
            started_at=moments[i % len(moments)],
            provider="openai" if i % 2 else "anthropic",
            requested_model="m-" + "x" * (250 if i == 3 else 3),  # cut to 200 both ways
            duration_s=0.1 + 0.2 * i,
            ttft_s=None if i % 3 == 0 else 0.05 * i,
            input_tokens=10 * i,
            output_tokens=i,
            cost=costs[i % len(costs)],
            cost_status="priced" if costs[i % len(costs)] is not None else "unpriced",
            status="error" if i % 4 == 3 else "ok",  # type: ignore[arg-type]
            error_message="boom ✗" if i % 4 == 3 else None,
            tags={"user": f"ü{i % 2}", "team": "a"} if i % 2 else {},
            request={"messages": [{"role": "user", "content": f"héllo {i}"}], "n": [1, 2.5]}
            if i % 5
            else None,
            response_text="réponse" if i % 2 else None,
            prompt_name="p" if i % 3 == 1 else None,
            prompt_version=2 if i % 3 == 1 else None,
            cache_hit=i % 7 == 6,
            streamed=bool(i % 2),
        )
        row = {name: getattr(rec, name) for name in _FIELDS}
        row["tags"] = dict(rec.tags)
        rows.append(row)
    return rows


def _dump(path: Path) -> tuple[list[Any], list[Any]]:
    """Every stored value of calls and call_rollups with its SQLite storage class."""
    conn = sqlite3.connect(path)
    try:
        out = []
        for table, order in (("calls", "id"), ("call_rollups", "grain, bucket_start, dim, key")):
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            typed = ", ".join(f"typeof({c}), quote({c})" for c in columns)
            out.append(conn.execute(f"SELECT {typed} FROM {table} ORDER BY {order}").fetchall())
        return out[0], out[1]
    finally:
        conn.close()


def test_rows_and_rollups_are_byte_identical_to_the_engine_path(tmp_path: Path) -> None:
    batches = [_rows(14), _rows(5)]
    engine_db, fast_db = _migrated(tmp_path / "engine.db"), _migrated(tmp_path / "fast.db")
    # The same ids both ways, so that the rows compare whole.
    with Store(str(engine_db)) as store:
        store.engine  # noqa: B018 (made: the engine path)
        assert store.fast_sink() is None
        for batch in batches:
            insert_calls(store, [dict(r) for r in batch], in_transaction=rollup_hook)
    with Store(str(fast_db)) as store:
        fast = store.fast_sink()
        assert fast is not None, "an SQLite file at the current schema opens on the fast path"
        for batch in batches:
            fast.insert_calls([dict(r) for r in batch], _fast_rollups)
        assert store._engine is None  # nothing above needed SQLAlchemy's engine
    engine_calls, engine_rollups = _dump(engine_db)
    fast_calls, fast_rollups = _dump(fast_db)
    assert len(fast_calls) == 19 and len(fast_rollups) > 10
    assert fast_calls == engine_calls
    assert fast_rollups == engine_rollups


def test_recorder_uses_the_fast_path_and_later_the_engine(tmp_path: Path) -> None:
    path = _migrated(tmp_path / "rec.db")
    [first, second] = _rows(2)
    with Store(str(path)) as store:
        assert store.fast_sink() is not None
        recorder_module.record(CallRecord(**first), store=store)
        assert recorder_module.flush(store)
        assert store._engine is None
        # Anything that needs the full path makes the engine; the recorder follows it.
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM calls").scalar() == 1
        assert store.fast_sink() is None
        recorder_module.record(CallRecord(**second), store=store)
        assert recorder_module.flush(store)
    conn = sqlite3.connect(path)
    assert conn.execute(
        "SELECT sum(calls) FROM call_rollups WHERE dim = 'all' AND grain = 'd'"
    ).fetchone() == (2,)
    conn.close()


def test_no_fast_path_for_a_new_file_an_old_schema_or_memory(tmp_path: Path) -> None:
    with Store(str(tmp_path / "new.db")) as store:
        assert store.fast_sink() is None  # created and migrated by the engine path
    old = _migrated(tmp_path / "old.db")
    conn = sqlite3.connect(old)
    conn.execute("UPDATE alembic_version SET version_num = '0000_older'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="migrate"), Store(str(old)):
        pass  # the engine path says what is wrong, as before
    with Store("sqlite://") as store:
        assert store.fast_sink() is None


def test_locked_database_is_the_same_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMLAB_BUSY_TIMEOUT_S", "0.2")
    path = _migrated(tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with Store(str(path)) as fast_store, Store(str(path)) as engine_store:
            fast = fast_store.fast_sink()
            assert fast is not None
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreError) as fast_error:
                fast.insert_calls(_rows(1), _fast_rollups)
            with pytest.raises(StoreError) as engine_error:
                insert_calls(engine_store, _rows(1), in_transaction=rollup_hook)
            holder.execute("ROLLBACK")
        assert str(fast_error.value) == str(engine_error.value)
        assert "\n" not in str(fast_error.value) and "waited 0.2 s" in str(fast_error.value)
        assert (fast_error.value.kind, fast_error.value.retryable) == ("locked", True)
    finally:
        holder.close()


def test_duplicate_id_is_the_rows_fault(tmp_path: Path) -> None:
    path = _migrated(tmp_path / "dup.db")
    rows = _rows(1)
    with Store(str(path)) as store:
        fast = store.fast_sink()
        assert fast is not None
        fast.insert_calls(rows, _fast_rollups)
        with pytest.raises(sqlite3.IntegrityError) as error:
            fast.insert_calls(rows, _fast_rollups)
        assert recorder_module._bad_rows(error.value)


def test_spilled_on_the_fast_path_and_replayed_at_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing lost: the database stays locked past the retries, the batch goes to the
    spill file, and the next open writes it (with its rollups)."""
    monkeypatch.setenv("LLMLAB_BUSY_TIMEOUT_S", "0.05")
    monkeypatch.setattr(recorder_module, "RETRY_DELAYS_S", (0.0, 0.01))
    path = _migrated(tmp_path / "spill.db")
    [row] = _rows(1)
    holder = sqlite3.connect(path, isolation_level=None)
    with Store(str(path)) as store:
        assert store.fast_sink() is not None
        holder.execute("BEGIN IMMEDIATE")
        recorder_module.record(CallRecord(**row), store=store)
        assert recorder_module.flush(store)
        holder.execute("ROLLBACK")
    holder.close()
    spill = path.with_name("spill.db.unwritten.jsonl")
    assert row["id"] in spill.read_text()
    with Store(str(path)):
        pass  # replays
    assert not spill.exists()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT id FROM calls").fetchall() == [(row["id"],)]
    assert conn.execute(
        "SELECT calls FROM call_rollups WHERE dim = 'all' AND grain = 'h'"
    ).fetchall() == [(1,)]
    conn.close()


def _run(code: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "LLMLAB_DB": str(db),
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_one_call_without_sqlalchemy_and_with_it_when_a_budget_applies(tmp_path: Path) -> None:
    """A recorded model call on a migrated SQLite store loads no SQLAlchemy; with a budget
    in the store the same call takes the full path (the budget is enforced)."""
    db = _migrated(tmp_path / "one.db")
    code = """
        import sys
        import llmlab
        from llmlab.models import generate_sync, get_model, scripted
        with llmlab.open() as store:
            scripted("x", replies=["hello"], store=store)
            model = get_model("scripted/x", store=store)
            generate_sync("hi", model)
        print("sqlalchemy" in sys.modules, "genai_prices" in sys.modules)
    """
    result = _run(code, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "False False"  # a local model's price needs no genai-prices
    with Store(str(db)) as store:
        from llmlab.monitor import set_budget

        set_budget("cap", 5, period="day", store=store)
    result = _run(code, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith("True")
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM calls").fetchone() == (2,)
    assert conn.execute(
        "SELECT sum(calls) FROM call_rollups WHERE dim = 'all' AND grain = 'd'"
    ).fetchone() == (2,)
    conn.close()
