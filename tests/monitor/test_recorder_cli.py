"""``llmlab monitor calls``: recent calls as a table or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from llmlab.cli import main
from llmlab.monitor import CallRecord, flush, record
from llmlab.store import Store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def recorded(db_url: str) -> str:
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    common: dict[str, Any] = {"input_tokens": 1200, "output_tokens": 34, "duration_s": 1.25}
    record(
        CallRecord(
            id="a" * 32,
            started_at=t0,
            provider="openai",
            requested_model="gpt-4o-mini",
            cost=Decimal("0.000200400000"),
            cost_status="priced",
            ttft_s=0.3,
            **common,
        )
    )
    record(
        CallRecord(
            id="b" * 32,
            started_at=t0 + timedelta(minutes=1),
            provider="openai-compatible",
            requested_model="llama",
            cost_status="unpriced",
            **common,
        )
    )
    record(
        CallRecord(
            id="c" * 32,
            started_at=t0 + timedelta(minutes=2),
            provider="local",
            requested_model="smollm2",
            cost=Decimal(0),
            cost_status="local",
            status="error",
            error_type="timeout",
            **common,
        )
    )
    assert flush()
    return db_url


def test_table_shows_cost_states(
    recorded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "monitor", "calls")
    assert code == 0
    assert "$0.0002004" in out
    assert "unpriced" in out
    assert "local" in out
    assert "1200/34" in out
    assert "0.30 s" in out  # TTFT
    assert "timeout" in out
    # newest first
    assert out.index("smollm2") < out.index("llama") < out.index("gpt-4o-mini")


def test_json_listing(recorded: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "monitor", "calls", "--json", "--limit", "2")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["c" * 32, "b" * 32]
    assert rows[1]["cost"] is None
    assert rows[0]["cost"] == "0"
    assert rows[0]["started_at"] == "2026-03-01T09:02:00+00:00"


def test_bad_tag_filter_is_a_usage_error(recorded: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "monitor", "calls", "--tag", "novalue")
    assert code == 2
    assert "KEY=VALUE" in err


def test_tiny_costs_print_as_plain_decimals(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    record(
        CallRecord(
            id="d" * 32,
            started_at=datetime(2026, 3, 1, tzinfo=UTC),
            provider="openai",
            requested_model="gpt-4.1-nano",
            cost=Decimal("0.000000123457"),
            cost_status="priced",
        )
    )
    assert flush()
    code, out, _ = run(capsys, "monitor", "calls", "--json")
    assert code == 0
    assert json.loads(out)[0]["cost"] == "0.000000123457"  # exact, and not "1.23457E-7"
    code, out, _ = run(capsys, "monitor", "calls")
    assert "$0.000000123457" in out
