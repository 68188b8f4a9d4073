"""``llmlab db``: upgrade, current, url."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_upgrade_then_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.db")
    code, out, _ = run(capsys, "db", "current", "--db", db)
    assert code == 0
    assert "(empty)" in out
    assert "needs `llmlab db upgrade`" in out
    code, out, _ = run(capsys, "db", "upgrade", "--db", db)
    assert code == 0
    assert "at revision 0001_initial" in out
    code, out, _ = run(capsys, "db", "current", "--db", db)
    assert "up to date" in out


def test_url_follows_llmlab_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMLAB_DB", "postgresql+psycopg://me:hunter2@db.example/llmlab")
    code, out, _ = run(capsys, "db", "url")
    assert code == 0
    assert out.strip() == "postgresql+psycopg://me:***@db.example/llmlab"


def test_unopenable_database_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "db", "upgrade", "--db", str(blocker / "x.db"))
    assert code == 2
    assert err.startswith("error: cannot open database")
    assert "Traceback" not in err
