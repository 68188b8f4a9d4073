"""Export recorded calls as CSV or JSON lines, streamed: memory stays flat at any size."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from llmlab._errors import InputError
from llmlab.monitor._window import parse_window
from llmlab.pricing import plain_decimal
from llmlab.store import CALL_COLUMNS, Store, iter_calls, resolve_store

__all__ = ["EXPORT_FORMATS", "export_calls"]

EXPORT_FORMATS = ("csv", "jsonl")
_COLUMNS = CALL_COLUMNS


def export_calls(
    out: TextIO,
    *,
    format: str = "jsonl",
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    content: bool = True,
    store: Store | None = None,
) -> int:
    """Write the calls in [since, until), oldest first, to ``out``; returns how many.

    CSV cells hold JSON for tags and request; money is exact decimal text. With
    ``content=False`` the request and response text are left out.

    Raises:
        InputError: an unknown format or a malformed window.
    """
    if format not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {format!r}; use one of: csv, jsonl")
    start, end = parse_window(since, until)
    columns = [c for c in _COLUMNS if content or c not in ("request", "response_text")]
    writer = csv.writer(out) if format == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    count = 0
    for call in iter_calls(resolve_store(store), start, end):
        values = [getattr(call, c) for c in columns]
        if writer is not None:
            writer.writerow([_cell(v) for v in values])
        else:
            row = {c: _json(v) for c, v in zip(columns, values, strict=True)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return _json(value)
