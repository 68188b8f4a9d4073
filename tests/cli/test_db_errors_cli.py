"""Database errors reach the user as ``error: <one line>`` and exit 2, no traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmlab.cli import main


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_locked_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMLAB_BUSY_TIMEOUT_S", "0.2")
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock: the upgrade must wait
    try:
        code, _, err = _main(capsys, "db", "upgrade", "--db", str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 2
    line = _error_line(err)
    assert "locked by another process" in line and "run the command again" in line
    code, out, _ = _main(capsys, "db", "upgrade", "--db", str(path))  # free again: works
    assert code == 0, out


def test_read_only_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()  # an empty, unmigrated file
    code, _, err = _main(capsys, "db", "upgrade", "--db", f"sqlite:///file:{path}?mode=ro&uri=true")
    assert code == 2
    assert "is read-only" in _error_line(err)


def test_empty_sqlite_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMLAB_DB", "sqlite:///")
    code, _, err = _main(capsys, "db", "current")
    assert code == 2
    assert "names no file" in _error_line(err)


def test_garbage_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all " * 500)
    code, _, err = _main(capsys, "db", "upgrade", "--db", str(junk))
    assert code == 2
    assert "not an SQLite database" in _error_line(err)
