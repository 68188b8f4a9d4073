"""Database errors at run time become one ``StoreError`` line, each provoked for real."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from llmlab._errors import StoreError
from llmlab.store import Store


def _one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message, message
    return message


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_BUSY_TIMEOUT_S", "0.2")


def test_locked_past_the_busy_timeout(tmp_path: Path, short_busy_timeout: None) -> None:
    path = tmp_path / "locked.db"
    Store(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
    try:
        with Store(str(path)) as store:
            started = time.monotonic()
            with pytest.raises(StoreError) as info, store.write() as conn:
                conn.execute(text("DELETE FROM calls"))
            assert time.monotonic() - started < 5  # the short timeout applied
            assert info.value.kind == "locked"
            assert info.value.retryable
            line = _one_line(info.value)
            assert "locked by another process" in line and str(path) in line
            assert "waited 0.2 s" in line
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_busy_timeout_must_be_a_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_BUSY_TIMEOUT_S", "soon")
    with pytest.raises(StoreError, match="LLMLAB_BUSY_TIMEOUT_S='soon' is not a number"):
        Store(str(tmp_path / "x.db"))


def test_read_only_database(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    Store(str(path)).close()
    # Tests run as root, which ignores file modes: open the file read-only instead.
    with Store(f"sqlite:///file:{path}?mode=ro&uri=true") as store:
        with store.read() as conn:  # reading still works
            assert conn.execute(text("SELECT count(*) FROM calls")).scalar() == 0
        with pytest.raises(StoreError) as info, store.write() as conn:
            conn.execute(text("DELETE FROM calls"))
    assert info.value.kind == "read_only"
    assert not info.value.retryable
    assert "is read-only" in _one_line(info.value)


_FILL = """
import resource, signal, sys
from sqlalchemy import text
from llmlab._errors import StoreError
from llmlab.store import Store

store = Store(sys.argv[1])
with store.write() as conn:
    conn.execute(text("CREATE TABLE filler (x BLOB)"))
# The process may now grow files by only a little: a full disk, as the writer sees it.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
size = __import__("os").path.getsize(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 200_000, size + 200_000))
try:
    for _ in range(100):
        with store.write() as conn:
            conn.execute(text("INSERT INTO filler VALUES (randomblob(100000))"))
except StoreError as exc:
    print(exc.kind, exc, sep="\\n")
    store.close()
    sys.exit(0)
sys.exit("no error")
"""


def test_disk_full(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FILL), str(tmp_path / "full.db")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    kind, line = result.stdout.strip().splitlines()
    assert kind == "disk_full"
    assert "free some space" in line


def test_missing_table_is_an_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(str(path)).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE calls")
    raw.commit()
    raw.close()
    with Store(str(path)) as store, pytest.raises(StoreError) as info, store.read() as conn:
        conn.execute(text("SELECT count(*) FROM calls"))
    assert info.value.kind == "schema"
    assert "llmlab db upgrade" in _one_line(info.value)


def test_newer_schema_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with Store(str(path)) as store, store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError, match="newer llmlab") as info:
        Store(str(path))
    _one_line(info.value)


def test_garbage_file_is_refused_on_open(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 1000)
    with pytest.raises(StoreError, match="junk.db") as info:
        Store(str(junk))
    assert "not an SQLite database" in _one_line(info.value)


def test_damaged_file_at_run_time(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    with Store(str(path)) as store, store.write() as conn:
        conn.execute(text("CREATE TABLE filler (x BLOB)"))
        for _ in range(50):
            conn.execute(text("INSERT INTO filler VALUES (randomblob(4000))"))
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 3, len(data) - page, page):  # every page past the first few
        data[start : start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    # Found when opening (the schema pages) or when reading the table: one line either way.
    with pytest.raises(StoreError) as info, Store(str(path)) as store, store.read() as conn:
        conn.execute(text("SELECT count(x), sum(length(x)) FROM filler")).all()
    assert info.value.kind == "corrupt"
    assert "restore it from a backup" in _one_line(info.value)


@pytest.mark.postgres
def test_connection_lost(pg_url: str) -> None:
    with Store(pg_url) as store:
        with store.read() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with Store(pg_url) as killer, killer.write() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(StoreError) as info:
                conn.execute(text("SELECT 1"))
        assert info.value.kind == "connection"
        assert info.value.retryable
        assert "run the command again" in _one_line(info.value)
        with store.read() as conn:  # the next connection works again
            assert conn.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.postgres
def test_missing_table_on_postgres(pg_url: str) -> None:
    with Store(pg_url) as store:
        with store.write() as conn:
            conn.execute(text("DROP TABLE response_cache"))
        with pytest.raises(StoreError) as info, store.read() as conn:
            conn.execute(text("SELECT count(*) FROM response_cache"))
    assert info.value.kind == "schema"


def test_integrity_errors_are_left_alone(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    with Store(str(tmp_path / "i.db")) as store:
        with store.write() as conn:
            conn.execute(text("CREATE TABLE u (x INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO u VALUES (1)"))
        with pytest.raises(IntegrityError), store.write() as conn:
            conn.execute(text("INSERT INTO u VALUES (1)"))


def test_unopenable_path_says_check_the_folder(tmp_path: Path) -> None:
    # Root ignores file modes: a folder where the file should be fails the same way.
    folder = tmp_path / "taken.db"
    folder.mkdir()
    with pytest.raises(StoreError) as info:
        Store(str(folder))
    assert info.value.kind == "permission"
    assert "may read and write it" in _one_line(info.value)
