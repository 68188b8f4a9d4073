"""Damaged or read-only databases, windows and budget limits out of range."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmlab.store import Store

from ._cli import fails_cleanly, run_cli

_SUITE = """\
version: 1
name: s
prompt: "Say {{ input }}"
dataset: cases.jsonl
scorers:
  - includes: {value: "{{ input }}"}
"""


def _suite(folder: Path) -> Path:
    (folder / "cases.jsonl").write_text('{"id": "a", "input": "hi"}\n', encoding="utf-8")
    path = folder / "suite.yaml"
    path.write_text(_SUITE, encoding="utf-8")
    return path


@pytest.fixture
def ran(tmp_path: Path, llmlab_store: Store, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database holding one eval run and its call, closed; its path."""
    run_cli(capsys, "eval", "run", str(_suite(tmp_path)), "-m", "scripted/x")
    llmlab_store.close()
    assert llmlab_store.path is not None
    return Path(llmlab_store.path)


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE eval_runs SET name = CAST(x'ff61' AS TEXT)",  # text that is not UTF-8
        'UPDATE eval_runs SET summary = \'{"version": 1, "cases\'',  # JSON cut short
        "UPDATE calls SET requested_model = CAST(x'c3' AS TEXT)",
    ],
)
@pytest.mark.parametrize("command", [["eval", "list"], ["monitor", "stats"]])
def test_damaged_rows(
    ran: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: str,
    command: list[str],
) -> None:
    with sqlite3.connect(ran) as conn:
        conn.execute(damage)
    monkeypatch.setenv("LLMLAB_DB", f"sqlite:///{ran}")
    code, _, err = run_cli(capsys, *command)
    assert "Traceback" not in err
    if code != 0:  # the command may not read the damaged column at all
        line = fails_cleanly(capsys, *command)
        assert "is damaged" in line


def test_damaged_pages(
    ran: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(ran.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096 : page * 4096 + 12] = b"\xde\xad" * 6
    ran.write_bytes(bytes(data))
    monkeypatch.setenv("LLMLAB_DB", f"sqlite:///{ran}")
    for command in (["eval", "list"], ["monitor", "stats"]):
        assert "is damaged" in fails_cleanly(capsys, *command)


def test_eval_run_on_a_read_only_database(
    ran: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ran.read_bytes()
    monkeypatch.setenv("LLMLAB_DB", f"sqlite:///file:{ran}?mode=ro&uri=true")
    line = fails_cleanly(capsys, "eval", "run", str(_suite(tmp_path)), "-m", "scripted/x")
    assert "is read-only" in line
    assert ran.read_bytes() == before


@pytest.mark.parametrize("since", ["99999999d", "99999999999999999999999w"])
def test_window_before_year_one(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    line = fails_cleanly(capsys, "monitor", "stats", "--since", since)
    assert "reaches back before year 1" in line


@pytest.mark.parametrize("limit", ["1e30", "1e10", "1000000.01", "nan", "-1", "0", "abc"])
def test_budget_limit_out_of_range(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    line = fails_cleanly(capsys, "budgets", "set", "x", "--", limit)
    assert "budget limit" in line
    code, out, _ = run_cli(capsys, "budgets", "list", "--json")
    assert code == 0 and '"x"' not in out  # nothing written


@pytest.mark.postgres
@pytest.mark.parametrize("limit", ["1e30", "1e10"])
def test_budget_limit_out_of_range_postgres(
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    limit: str,
) -> None:
    monkeypatch.setenv("LLMLAB_DB", pg_url)
    line = fails_cleanly(capsys, "budgets", "set", "x", limit)
    assert "at most $1,000,000 per period" in line
    code, out, _ = run_cli(capsys, "budgets", "set", "x", "1000000")
    assert code == 0, out


def test_budget_limit_at_the_maximum(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "budgets", "set", "x", "1000000")
    assert code == 0, err
    assert "$1000000" in out
