"""Hourly and daily rollups of the calls table, kept current as calls are recorded.

The recorder runs :func:`rollup_hook` inside each batch's insert transaction, so a batch
and its rollups commit together. Calls loaded behind the recorder's back (bulk imports,
repricing) are folded in by :func:`rebuild_rollups`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection

from llmlab.monitor import _histogram as hist
from llmlab.monitor._recorder import add_batch_hook
from llmlab.monitor._rollup_math import (
    COUNTERS,
    DAY,
    FLOATS,
    HOUR,
    Agg,
    CallColumns,
    RollupKey,
    aggregate,
    call_dims,
    epoch,
    nanos,
)
from llmlab.store import (
    ROLLUP_VALUE_COLUMNS,
    delete_rollups,
    get_engine,
    insert_rollups,
    stream_call_stats,
    upsert_rollups,
)

__all__ = [
    "columns_from_stats",
    "rebuild_rollups",
    "rollup_hook",
    "rollup_rows",
]


def rollup_rows(aggs: Mapping[RollupKey, Agg]) -> list[dict[str, Any]]:
    """Table rows for aggregated groups."""
    rows = []
    for (grain, start, dim, key), agg in aggs.items():
        row: dict[str, Any] = {"grain": grain, "bucket_start": start, "dim": dim, "key": key}
        row.update(zip(COUNTERS, agg.ints.tolist(), strict=True))
        row.update(zip(FLOATS, agg.floats.tolist(), strict=True))
        row["latency_hist"] = hist.encode(agg.latency)
        row["ttft_hist"] = hist.encode(agg.ttft)
        rows.append(row)
    return rows


_VALUES = ROLLUP_VALUE_COLUMNS
_N_SUMS = len(_VALUES) - 2  # the last two columns are the histograms
_FLOAT_SUMS = frozenset(FLOATS)


def _merge(existing: Sequence[Any], delta: Sequence[Any]) -> tuple[Any, ...]:
    sums = [
        (float(a) + float(b)) if name in _FLOAT_SUMS else int(a) + int(b)
        for name, a, b in zip(_VALUES[:_N_SUMS], existing[:_N_SUMS], delta[:_N_SUMS], strict=True)
    ]
    hists = [
        hist.merge_bytes(a, b) for a, b in zip(existing[_N_SUMS:], delta[_N_SUMS:], strict=True)
    ]
    return (*sums, *hists)


def _row_vector(r: Mapping[str, Any]) -> tuple[list[float], int, int]:
    """A call's contribution in ``_VALUES`` order, and its latency / TTFT buckets (-1: none)."""
    status = r.get("status", "ok")
    ok = status == "ok"
    cost = r.get("cost")
    tin, tout = int(r.get("input_tokens") or 0), int(r.get("output_tokens") or 0)
    duration = float(r.get("duration_s") or 0.0)
    ttft = r.get("ttft_s") if ok else None
    named = {
        "calls": 1,
        "errors": int(status == "error"),
        "refused": int(status == "refused"),
        "input_tokens": tin,
        "output_tokens": tout,
        "cache_read_tokens": int(r.get("cache_read_tokens") or 0),
        "cache_write_tokens": int(r.get("cache_write_tokens") or 0),
        "reasoning_tokens": int(r.get("reasoning_tokens") or 0),
        "cost_nanos": nanos(cost),
        "priced_tokens": tin + tout if cost is not None else 0,
        "unpriced": int(status != "refused" and r.get("cost_status") == "unpriced"),
        "ok_calls": int(ok),
        "ok_duration_s": duration if ok else 0.0,
        "ok_output_tokens": tout if ok else 0,
        "ttft_count": int(ttft is not None),
        "ttft_sum_s": float(ttft) if ttft is not None else 0.0,
    }
    vector = [named[name] for name in _VALUES[:_N_SUMS]]
    lat = hist.bucket_of(duration) if ok else -1
    return vector, lat, hist.bucket_of(float(ttft)) if ttft is not None else -1


def _add(entry: list[Any], vector: list[float], lat: int, ttft: int, times: int = 1) -> None:
    entry[0] = [a + b for a, b in zip(entry[0], vector, strict=True)]
    if lat >= 0:
        entry[1][lat] = entry[1].get(lat, 0) + times
    if ttft >= 0:
        entry[2][ttft] = entry[2].get(ttft, 0) + times


def rollup_hook(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Recorder batch hook: add a batch of call rows into the rollups, same transaction.

    Pure Python on purpose: batches are small (<= 500 rows), where numpy's per-call
    overhead costs more than it saves.
    """
    hours: dict[RollupKey, list[Any]] = {}
    for r in rows:
        vector, lat, ttft = _row_vector(r)
        start = epoch(r["started_at"]) // HOUR * HOUR
        dims = call_dims(
            r["provider"],
            r["requested_model"],
            r.get("prompt_name"),
            r.get("prompt_version"),
            r.get("experiment"),
            r.get("arm"),
            r.get("eval_run"),
            r.get("tags"),
        )
        for dim, key in (("all", ""), *dims.items()):
            entry = hours.get(("h", start, dim, key))
            if entry is None:
                hours[("h", start, dim, key)] = [vector, {}, {}]
                entry = hours[("h", start, dim, key)]
                if lat >= 0:
                    entry[1][lat] = 1
                if ttft >= 0:
                    entry[2][ttft] = 1
            else:
                _add(entry, vector, lat, ttft)
    days: dict[RollupKey, list[Any]] = {}
    for (_, start, dim, key), (vector, lat_counts, ttft_counts) in hours.items():
        day_key = ("d", start // DAY * DAY, dim, key)
        entry = days.setdefault(day_key, [[0] * _N_SUMS, {}, {}])
        _add(entry, vector, -1, -1)
        for b, n in lat_counts.items():
            entry[1][b] = entry[1].get(b, 0) + n
        for b, n in ttft_counts.items():
            entry[2][b] = entry[2].get(b, 0) + n
    deltas = {
        k: (*v[0], hist.encode_counts(v[1]), hist.encode_counts(v[2]))
        for k, v in (*hours.items(), *days.items())
    }
    upsert_rollups(conn, deltas, _merge)


def columns_from_stats(rows: Sequence[tuple[Any, ...]]) -> CallColumns:
    """Columns of rows from ``llmlab.store._rollups.stream_call_stats``."""
    n = len(rows)
    ints = np.zeros((n, len(COUNTERS)), np.int64)
    floats = np.zeros((n, len(FLOATS)), np.float64)
    latency = np.full(n, np.nan)
    ttft = np.full(n, np.nan)
    starts = np.zeros(n, np.int64)
    dims: list[dict[str, str]] = []
    tag_cache: dict[str | None, dict[str, Any]] = {}
    for i, r in enumerate(rows):
        (start, provider, model, pname, pver, exp, arm, run, tags_text, status, cstatus) = r[:11]
        cost_nanos, tin, tout, cr, cw, rs, duration, ttft_v = r[11:]
        tags = tag_cache.get(tags_text)
        if tags is None:
            tags = tag_cache[tags_text] = json.loads(tags_text) if tags_text else {}
        starts[i] = int(start)
        dims.append(call_dims(provider, model, pname, pver, exp, arm, run, tags))
        ok = status == "ok"
        tin, tout = int(tin or 0), int(tout or 0)
        has_ttft = ok and ttft_v is not None
        ints[i] = (
            1,
            status == "error",
            status == "refused",
            tin,
            tout,
            int(cr or 0),
            int(cw or 0),
            int(rs or 0),
            int(cost_nanos or 0),
            tin + tout if cost_nanos is not None else 0,
            status != "refused" and cstatus == "unpriced",
            ok,
            tout if ok else 0,
            has_ttft,
        )
        floats[i] = (float(duration or 0.0) if ok else 0.0, float(ttft_v) if has_ttft else 0.0)
        if ok:
            latency[i] = float(duration or 0.0)
        if has_ttft:
            ttft[i] = float(ttft_v)
    return CallColumns(starts, dims, ints, floats, latency, ttft)


def _aligned(moment: datetime | None, width: int, up: bool) -> int | None:
    if moment is None:
        return None
    epoch = int(moment.astimezone(UTC).timestamp())
    return -(-epoch // width) * width if up else epoch // width * width


def rebuild_rollups(
    url: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    chunk: int = 100_000,
) -> int:
    """Recompute rollups from the calls table (after bulk loads or repricing).

    The range is widened to whole days. Streams the calls in time order and writes each
    hour and day as soon as it is complete, so memory stays bounded. Returns the number
    of calls read.
    """
    engine = get_engine(url)
    start = _aligned(since, DAY, up=False)
    end = _aligned(until, DAY, up=True)
    delete_rollups(engine, start, end)
    lo = datetime.fromtimestamp(start, UTC) if start is not None else None
    hi = datetime.fromtimestamp(end, UTC) if end is not None else None
    pending: dict[RollupKey, Agg] = {}
    total = 0
    for part in stream_call_stats(engine, lo, hi, chunk=chunk, order=True):
        cols = columns_from_stats(part)
        total += len(cols)
        aggregate(cols, pending)
        # Calls arrive in time order: periods ending before the newest call are complete.
        newest = int(cols.start_s.max())
        insert_rollups(engine, rollup_rows(dict(_pop_complete(pending, newest))))
    insert_rollups(engine, rollup_rows(pending))
    return total


def _pop_complete(pending: dict[RollupKey, Agg], newest: int) -> Iterator[tuple[RollupKey, Agg]]:
    done = [k for k in pending if k[1] + (HOUR if k[0] == "h" else DAY) <= newest]
    for key in done:
        yield key, pending.pop(key)


add_batch_hook(rollup_hook)
