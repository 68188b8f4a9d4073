"""Repricing after a price change, and streamed export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab._errors import InputError
from llmlab.monitor import (
    CallRecord,
    call_stats,
    export_calls,
    flush,
    new_call_id,
    record,
    reprice_calls,
)
from llmlab.store import Store


def _house_calls(store: Store, n: int) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    for i in range(n):
        record(
            CallRecord(
                id=new_call_id(),
                started_at=start + timedelta(minutes=37 * i),
                provider="openai-compatible",
                requested_model="house-7b",
                input_tokens=1_000_000,
                output_tokens=500_000,
                cost=None,
                cost_status="unpriced",
                duration_s=0.5,
            ),
            store=store,
        )
    flush(store=store)


def test_reprice_after_adding_a_price(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _house_calls(store, 10)
    assert call_stats(store=store).total.unpriced == 10
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "version: 1\nprices:\n  openai-compatible/house-7b:\n    input: 0.10\n    output: 0.20\n"
    )
    monkeypatch.setenv("LLMLAB_PRICES", str(prices))

    dry = reprice_calls(dry_run=True, store=store)
    assert (dry.examined, dry.changed) == (10, 10)
    assert dry.new_cost - dry.old_cost == Decimal("2.0")  # 10 x (0.10 + 0.10)
    assert dry.models["openai-compatible/house-7b"].newly_priced == 10
    assert call_stats(store=store).total.unpriced == 10  # nothing written

    done = reprice_calls(store=store)
    assert done.changed == 10 and not done.dry_run
    total = call_stats(store=store).total  # rollups were fixed too
    assert total.unpriced == 0 and total.cost == Decimal("2")
    assert reprice_calls(store=store).changed == 0  # idempotent
    rows = [json.loads(line) for line in _export(store, "jsonl").splitlines()]
    assert all(r["price_source"].startswith("override") for r in rows)
    assert all(Decimal(r["cost"]) == Decimal("0.2") for r in rows)


def _export(store: Store, fmt: str, **kw: object) -> str:
    out = io.StringIO()
    export_calls(out, format=fmt, store=store, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def test_export_csv_and_jsonl_with_window(store: Store) -> None:
    _house_calls(store, 5)
    lines = _export(store, "jsonl").splitlines()
    assert len(lines) == 5
    first = json.loads(lines[0])
    assert first["requested_model"] == "house-7b" and first["cost"] is None
    rows = list(csv.DictReader(io.StringIO(_export(store, "csv"))))
    assert len(rows) == 5 and rows[0]["tags"] == "{}" and rows[0]["cost"] == ""
    assert rows == sorted(rows, key=lambda r: r["started_at"])
    since = (datetime.now(UTC) - timedelta(days=2) + timedelta(minutes=60)).isoformat()
    assert len(_export(store, "jsonl", since=since).splitlines()) == 3
    no_content = json.loads(_export(store, "jsonl", content=False).splitlines()[0])
    assert "request" not in no_content and "response_text" not in no_content


def test_export_bad_format(store: Store) -> None:
    with pytest.raises(InputError, match="csv, jsonl"):
        _export(store, "xml")


def test_reprice_leaves_unbilled_calls_alone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    unbilled = {
        "failed": {"status": "error", "cost": Decimal(0), "cost_status": "priced"},
        "refused": {"status": "refused", "cost": Decimal(0), "cost_status": "priced"},
        "cache hit": {"cache_hit": True, "cost": Decimal(0), "cost_status": "priced"},
        "no usage": {"usage_reported": False, "cost": None, "cost_status": "unpriced"},
    }
    for i, fields in enumerate(unbilled.values()):
        record(
            CallRecord(
                id=new_call_id(),
                started_at=start + timedelta(minutes=i),
                provider="openai-compatible",
                requested_model="house-7b",
                input_tokens=1_000_000,
                output_tokens=500_000,
                **fields,  # type: ignore[arg-type]
            ),
            store=store,
        )
    flush(store=store)
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "version: 1\nprices:\n  openai-compatible/house-7b:\n    input: 0.10\n    output: 0.20\n"
    )
    monkeypatch.setenv("LLMLAB_PRICES", str(prices))

    report = reprice_calls(store=store)
    assert (report.examined, report.changed) == (4, 0)
    rows = [json.loads(line) for line in _export(store, "jsonl").splitlines()]
    assert sorted(r["cost"] for r in rows if r["cost"] is not None) == ["0", "0", "0"]
