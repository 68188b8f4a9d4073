"""CLI: monitor stats / reprice / export, calls filters, budgets, alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab.cli import main
from llmlab.monitor import flush, record
from llmlab.store import Store

from ._calls import make_calls


@pytest.fixture
def db(store: Store, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's store (``LLMLAB_DB``, the default handle) for the CLI to open."""
    monkeypatch.setenv("COLUMNS", "250")
    return store.url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _seed(db: str, n: int = 60) -> None:
    for c in make_calls(n, start=datetime.now(UTC) - timedelta(hours=30), span=timedelta(hours=29)):
        record(c)  # into the default handle: the test's store
    flush()


def test_stats_table_and_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db)
    code, out, _ = run(capsys, "monitor", "stats", "--by", "model")
    assert code == 0
    assert "openai/gpt-4o-mini" in out and "total" in out and "p95" in out
    code, out, _ = run(capsys, "monitor", "stats", "--since", "48h", "--by", "hour", "--json")
    data = json.loads(out)
    assert data["version"] == 1 and data["total"]["calls"] == 60
    assert sum(g["calls"] for g in data["groups"]) == 60
    code, out, _ = run(capsys, "monitor", "stats", "--since", "1h", "--json")
    assert json.loads(out)["total"]["calls"] == 0


def test_stats_table_shows_every_figure(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db)
    code, out, _ = run(capsys, "monitor", "stats")
    assert code == 0
    for column in ("TTFT p99", "cache read", "cache write", "reasoning", "out tok/s", "$/1k tok"):
        assert column in out
    cache_read = sum(c.cache_read_tokens for c in make_calls(60, start=datetime.now(UTC),
                                                              span=timedelta(hours=1)))  # fmt: skip
    total_row = [line for line in out.splitlines() if "total" in line][-1]
    assert str(cache_read) in total_row.split()


def test_stats_bad_input_is_one_line_exit_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "monitor", "stats", "--since", "yesterdayish")
    assert code == 2 and "24h" in err and "Traceback" not in err
    code, _, err = run(capsys, "monitor", "stats", "--by", "colour")
    assert code == 2 and "tag:KEY" in err


def test_calls_filters(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db)
    code, out, _ = run(capsys, "monitor", "calls", "--min-latency", "1.0", "--json", "-n", "100")
    rows = json.loads(out)
    assert rows and all(r["duration_s"] >= 1.0 for r in rows)
    code, out, _ = run(capsys, "monitor", "calls", "--min-cost", "0.0002", "--json", "-n", "100")
    rows = json.loads(out)
    assert rows and all(Decimal(r["cost"]) >= Decimal("0.0002") for r in rows)
    code, out, _ = run(capsys, "monitor", "calls", "--since", "2h", "--json", "-n", "100")
    assert len(json.loads(out)) < 60
    made = make_calls(60, start=datetime.now(UTC), span=timedelta(hours=1))
    for option, value, keep in (
        ("--model", "gpt-4o", lambda c: c.requested_model == "gpt-4o"),
        ("--prompt", "summarize@2", lambda c: c.prompt_name == "summarize"),
        ("--status", "error", lambda c: c.status == "error"),
        ("--tag", "user=u1", lambda c: c.tags.get("user") == "u1"),
    ):
        code, out, _ = run(capsys, "monitor", "calls", option, value, "--json", "-n", "100")
        expected = sum(1 for c in made if keep(c))
        assert code == 0 and 0 < len(json.loads(out)) == expected, option
    code, out, _ = run(capsys, "monitor", "calls", "--prompt", "summarize@3", "--json")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("--status", "failed", "ok, error, refused"),
        ("--prompt", "summarize@two", "NAME@VERSION"),
        ("--min-cost", "nan", "number of dollars"),
    ],
)
def test_calls_bad_filters_are_one_line_exit_2(
    db: str, capsys: pytest.CaptureFixture[str], option: str, value: str, hint: str
) -> None:
    code, _, err = run(capsys, "monitor", "calls", option, value)
    assert code == 2 and hint in err and "Traceback" not in err


def test_export_and_reprice(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db, 10)
    code, out, _ = run(capsys, "monitor", "export", "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 11
    target = tmp_path / "calls.jsonl"
    code, _, err = run(capsys, "monitor", "export", "-o", str(target))
    assert "wrote 10 call(s)" in err and len(target.read_text().splitlines()) == 10
    code, out, _ = run(capsys, "monitor", "reprice", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["examined"] == 10


def test_budgets_cli(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "budgets", "set", "team", "10", "--period", "day")
    assert code == 0 and "hard, $10 per day" in out
    code, out, _ = run(
        capsys, "budgets", "set", "alice", "5", "--scope", "tag", "--value", "user=alice", "--soft"
    )
    assert "tag:user=alice" in out
    code, out, _ = run(capsys, "budgets", "list", "--json")
    listed = json.loads(out)
    assert [b["name"] for b in listed] == ["alice", "team"] and listed[1]["limit"] == "10"
    code, out, _ = run(capsys, "budgets", "list")
    assert "team" in out and "soft" in out
    code, out, _ = run(capsys, "budgets", "set", "tiny", "0.0000001", "--soft")
    assert code == 0 and "soft, $0.0000001 per month" in out
    code, out, _ = run(capsys, "budgets", "list", "--json")
    assert [b["limit"] for b in json.loads(out) if b["name"] == "tiny"] == ["0.0000001"]
    code, out, _ = run(capsys, "budgets", "remove", "tiny")
    code, _, err = run(capsys, "budgets", "set", "bad", "--", "-3")
    assert code == 2 and "more than $0" in err
    code, out, _ = run(capsys, "budgets", "remove", "team")
    assert code == 0
    code, _, err = run(capsys, "budgets", "remove", "team")
    assert code == 2 and "unknown budget" in err


def test_alerts_cli(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "alerts", "add-rule", "errs", "--metric", "error_rate", "--limit", "0.05",
        "--min-calls", "5", "--window", "48h",
    )  # fmt: skip
    assert code == 0
    _seed(db)  # about 10 % errors: recording checks the rules and raises the alert
    code, out, _ = run(capsys, "alerts", "check", "--json")
    assert json.loads(out) == []  # already firing: not raised twice
    code, out, _ = run(capsys, "alerts", "list", "--json")
    (alert,) = json.loads(out)
    assert alert["kind"] == "error_rate" and alert["source"] == "errs"
    code, out, _ = run(capsys, "alerts", "list")
    assert "errs" in out
    code, out, _ = run(capsys, "alerts", "rules", "--json")
    assert json.loads(out)[0]["firing"] is True
    code, out, _ = run(capsys, "alerts", "remove-rule", "errs")
    assert code == 0
