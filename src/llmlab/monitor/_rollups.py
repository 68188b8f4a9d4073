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
    columns_from_rows,
)
from llmlab.store import get_engine
from llmlab.store._rollups import (
    delete_rollups,
    insert_rollups,
    stream_call_stats,
    upsert_rollups,
)

__all__ = [
    "agg_from_row",
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


def agg_from_row(row: Mapping[str, Any], *, histograms: bool = True) -> Agg:
    """The figures of one rollup row (``histograms=False``: counters only, faster)."""
    return Agg(
        np.array([int(row[c]) for c in COUNTERS], np.int64),
        np.array([float(row[c]) for c in FLOATS], np.float64),
        hist.decode(row["latency_hist"]) if histograms else hist.empty(),
        hist.decode(row["ttft_hist"]) if histograms else hist.empty(),
    )


def _merge(existing: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {c: int(existing[c]) + int(delta[c]) for c in COUNTERS}
    merged.update({c: float(existing[c]) + float(delta[c]) for c in FLOATS})
    for name in ("latency_hist", "ttft_hist"):
        merged[name] = hist.encode(hist.merge([existing[name], delta[name]]))
    return merged


def rollup_hook(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Recorder batch hook: add a batch of call rows into the rollups, same transaction."""
    aggs: dict[RollupKey, Agg] = {}
    aggregate(columns_from_rows(rows), aggs)
    upsert_rollups(conn, rollup_rows(aggs), _merge)


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
