"""The response cache on the SQLite fast path: the same rows as the engine path, the same
answers, the first answer kept, and no SQLAlchemy loaded by a lookup."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import llmlab
from llmlab.store import Store
from llmlab.store._cache import COLUMNS, cache_get, cache_put
from llmlab.store._tables_cache import response_cache

PAYLOAD = {
    "version": 3,
    "response": {"text": "héllo \u2603", "usage": {"input_tokens": 3}, "stop": None},
    "nested": [1, 2.5, True, None, {"k": "v"}],
}


def _migrated(path: Path) -> Path:
    Store(str(path)).close()  # creates and migrates it (the engine path)
    return path


def _raw(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT key, provider, model, typeof(created_at), length(created_at), response,"
            " typeof(response) FROM response_cache ORDER BY key"
        ).fetchall()


def test_columns_are_the_tables() -> None:
    assert tuple(c.name for c in response_cache.columns) == COLUMNS


def test_fast_and_engine_paths_store_the_same_bytes_and_read_the_same(tmp_path: Path) -> None:
    fast_db, engine_db = _migrated(tmp_path / "fast.db"), _migrated(tmp_path / "engine.db")
    fast, engine = Store(str(fast_db)), Store(str(engine_db))
    try:
        assert fast.fast_sink() is not None
        engine.engine  # noqa: B018  (made: the engine path from here on)
        assert engine.fast_sink() is None
        for store in (fast, engine):
            cache_put(store, "k1", "openai", "gpt-4o-mini", PAYLOAD)
            cache_put(store, "k1", "openai", "other", {"version": 3})  # the first one stays
        assert fast.fast_sink() is not None  # still no engine
        assert _raw(fast_db) == _raw(engine_db)
        got_fast, got_engine = cache_get(fast, "k1"), cache_get(engine, "k1")
        assert got_fast is not None and got_engine is not None
        assert got_fast.model == "gpt-4o-mini" and got_fast.response == PAYLOAD
        assert got_fast.created_at.tzinfo is not None
        assert (got_fast.key, got_fast.provider, got_fast.model, got_fast.response) == (
            got_engine.key,
            got_engine.provider,
            got_engine.model,
            got_engine.response,
        )
        assert cache_get(fast, "absent") is None
    finally:
        fast.close()
        engine.close()
    # Across paths: what one wrote the other reads identically.
    with Store(str(fast_db)) as reopened:
        reopened.engine  # noqa: B018
        again = cache_get(reopened, "k1")
    assert again is not None and again == got_fast


def test_a_lookup_loads_no_sqlalchemy(tmp_path: Path) -> None:
    db = _migrated(tmp_path / "c.db")
    code = (
        "import sys\n"
        "from llmlab.store import Store\n"
        "from llmlab.store._cache import cache_get, cache_put\n"
        f"s = Store({str(db)!r})\n"
        "cache_put(s, 'k', 'p', 'm', {'version': 1})\n"
        "print(cache_get(s, 'k').response, cache_get(s, 'x'), 'sqlalchemy' in sys.modules)\n"
        "s.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(llmlab.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["{'version':", "1}", "None", "False"]
