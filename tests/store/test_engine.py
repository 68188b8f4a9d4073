"""Engines: where the database is, SQLite settings, caching, clear errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from llmlab._errors import StoreError
from llmlab.store import Store, database_url, safe_url


def test_default_is_a_file_under_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMLAB_DB", raising=False)
    assert database_url() == f"sqlite:///{tmp_path.resolve()}/.llmlab/llmlab.db"
    Store().close()
    assert (tmp_path / ".llmlab" / "llmlab.db").is_file()


def test_llmlab_db_takes_a_path_or_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_DB", str(tmp_path / "sub" / "x.db"))
    assert database_url() == f"sqlite:///{tmp_path.resolve()}/sub/x.db"
    monkeypatch.setenv("LLMLAB_DB", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url("other.db").endswith("/other.db")  # an argument wins over the env


def test_sqlite_runs_in_wal_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    with Store(str(tmp_path / "a" / "b.db")) as store, store.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 30_000


def test_busy_timeout_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMLAB_BUSY_TIMEOUT_S", "1.5")
    with Store(str(tmp_path / "t.db")) as store, store.read() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 1500


def test_unopenable_file_is_a_store_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open database .*file/x.db"):
        Store(str(blocker / "x.db"))


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        Store(str(junk))


def test_unreachable_server_error_hides_the_password() -> None:
    url = "postgresql+psycopg://user:s3cr3t-pw@127.0.0.1:1/nothing?connect_timeout=2"
    with pytest.raises(StoreError) as info:
        Store(url)
    assert "s3cr3t-pw" not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)
    assert "s3cr3t-pw" not in safe_url(url)


def test_database_from_a_newer_llmlab_is_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "newer.db")
    with Store(path) as store, store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError, match="newer llmlab"):
        Store(path)


def test_in_memory_database_is_shared_between_threads() -> None:
    store = Store("sqlite://")  # migrated on this thread
    seen: list[object] = []

    def count() -> None:
        with store.read() as conn:
            seen.append(conn.execute(text("SELECT count(*) FROM calls")).scalar())

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()
    store.close()
    assert seen == [0]
