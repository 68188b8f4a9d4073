"""Hourly and daily rollups of the calls table, kept current as calls are recorded.

The recorder runs :func:`rollup_hook` inside each batch's insert transaction, so a batch
and its rollups commit together. Calls loaded behind the recorder's back (bulk imports,
repricing) are folded in by :func:`rebuild_rollups`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmlab._json import JsonObject
from llmlab.monitor import _histogram as hist
from llmlab.monitor._recorder import add_batch_hook
from llmlab.monitor._rollup_math import (
    COST,
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
    pico,
)
from llmlab.store import (
    Store,
    delete_rollups,
    insert_rollups,
    resolve_store,
    stream_call_stats,
    upsert_rollups,
)
from llmlab.store._fast_sql import ROLLUP_VALUE_COLUMNS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from sqlalchemy import Connection

__all__ = [
    "columns_from_stats",
    "rebuild_rollups",
    "rollup_deltas",
    "rollup_hook",
    "rollup_rows",
]


RollupCell = str | int | float | bytes
"""A value of a ``call_rollups`` row: key text, bucket start, sums, encoded histograms."""


def rollup_rows(aggs: Mapping[RollupKey, Agg]) -> list[dict[str, RollupCell]]:
    """Table rows for aggregated groups."""
    rows = []
    for (grain, start, dim, key), agg in aggs.items():
        row: dict[str, RollupCell] = {"grain": grain, "bucket_start": start, "dim": dim, "key": key}
        row.update(zip(COUNTERS, agg.ints.tolist(), strict=True))
        row.update(zip(FLOATS, agg.floats.tolist(), strict=True))
        row["latency_hist"] = hist.encode(agg.latency)
        row["ttft_hist"] = hist.encode(agg.ttft)
        rows.append(row)
    return rows


_VALUES = ROLLUP_VALUE_COLUMNS
_N_SUMS = len(_VALUES) - 2  # the last two columns are the histograms
_FLOAT_SUMS = frozenset(FLOATS)
_COST = _VALUES.index("cost")
_FLOAT_COLUMNS = frozenset(i for i, name in enumerate(_VALUES[:_N_SUMS]) if name in _FLOAT_SUMS)


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
    hit = bool(r.get("cache_hit"))
    # Latency and TTFT describe calls a provider answered: cache hits are counted apart.
    ok = status == "ok" and not hit
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
        "cost": pico(cost),
        "priced_tokens": tin + tout if cost is not None else 0,
        "unpriced": int(status != "refused" and r.get("cost_status") == "unpriced"),
        "ok_calls": int(ok),
        "ok_duration_s": duration if ok else 0.0,
        "ok_output_tokens": tout if ok else 0,
        "ttft_count": int(ttft is not None),
        "cache_hits": int(hit),
        "ttft_sum_s": float(ttft) if ttft is not None else 0.0,
    }
    vector = [named[name] for name in _VALUES[:_N_SUMS]]
    lat = hist.bucket_of(duration) if ok else -1
    return vector, lat, hist.bucket_of(float(ttft)) if ttft is not None else -1


def rollup_hook(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Recorder batch hook: add a batch of call rows into the rollups, same transaction."""
    if rows:
        upsert_rollups(conn, rollup_deltas(rows), _merge)


NUMPY_MIN_BATCH = 2000
"""Batches of at least this many calls are added up with numpy, smaller ones in plain
Python. Measured (2026-11-30, numpy already loaded, varied calls over four hours): plain
Python is as fast or faster up to about 2,000 calls (0.4 ms vs 0.8 ms at 16 calls, 6.2 vs
6.3 ms at 500), numpy faster beyond (132 vs 174 ms at 10,000). A recorder batch holds at
most 500 calls, so only a large spill-file replay uses numpy, and a one-call command never
imports it (about 0.15 s of CPU). Both give the same figures, to the bit
(``tests/monitor/test_rollup_paths.py``)."""


def rollup_deltas(
    rows: Sequence[Mapping[str, Any]], *, vectorised: bool | None = None
) -> dict[RollupKey, tuple[Any, ...]]:
    """What a batch of call rows adds to each rollup group, in ``ROLLUP_VALUE_COLUMNS``
    order (histograms as sparse bytes). ``vectorised``: numpy or plain Python (None: by
    the batch's size, see ``NUMPY_MIN_BATCH``)."""
    vectors: list[list[float]] = []
    buckets: list[tuple[int, int]] = []
    members: dict[RollupKey, list[int]] = {}
    for i, r in enumerate(rows):
        vector, lat, ttft = _row_vector(r)
        vectors.append(vector)
        buckets.append((lat, ttft))
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
        members.setdefault(("h", start, "all", ""), []).append(i)
        for dim, key in dims.items():
            members.setdefault(("h", start, dim, key), []).append(i)
    # Days are sums of their hours (a batch spans one or two of each).
    for (_, start, dim, key), idx in list(members.items()):
        members.setdefault(("d", start // DAY * DAY, dim, key), []).extend(idx)
    if vectorised is None:
        vectorised = len(rows) >= NUMPY_MIN_BATCH
    add = _deltas_numpy if vectorised else _deltas_plain
    return add(vectors, buckets, members)


def _deltas_plain(
    vectors: list[list[float]],
    buckets: list[tuple[int, int]],
    members: dict[RollupKey, list[int]],
) -> dict[RollupKey, tuple[Any, ...]]:
    # The same additions, in the same order, as _deltas_numpy: float sums start at 0.0 and
    # add the calls in member order (as np.add.at does); integers are exact either way.
    deltas: dict[RollupKey, tuple[Any, ...]] = {}
    for rollup_key, idx in members.items():
        values: list[Any] = []
        for column, figures in enumerate(zip(*(vectors[i] for i in idx), strict=True)):
            if column in _FLOAT_COLUMNS:
                total = 0.0  # not sum(): from Python 3.12 it compensates, numpy does not
                for figure in figures:
                    total += figure
                values.append(total)
            else:
                values.append(sum(figures))
        lat: dict[int, int] = {}
        ttft: dict[int, int] = {}
        for i in idx:
            lat_bucket, ttft_bucket = buckets[i]
            if lat_bucket >= 0:
                lat[lat_bucket] = lat.get(lat_bucket, 0) + 1
            if ttft_bucket >= 0:
                ttft[ttft_bucket] = ttft.get(ttft_bucket, 0) + 1
        deltas[rollup_key] = (*values, hist.encode_counts(lat), hist.encode_counts(ttft))
    return deltas


def _deltas_numpy(
    vectors: list[list[float]],
    buckets: list[tuple[int, int]],
    members: dict[RollupKey, list[int]],
) -> dict[RollupKey, tuple[Any, ...]]:
    import numpy as np

    keys = list(members)
    owner = np.repeat(np.arange(len(keys)), [len(members[k]) for k in keys])
    picked = np.fromiter((i for k in keys for i in members[k]), np.int64, len(owner))
    sums = np.zeros((len(keys), _N_SUMS))
    np.add.at(sums, owner, np.asarray(vectors)[picked])
    marks = np.asarray(buckets, np.int64)[picked]
    hists = []
    for column in (0, 1):
        valid = marks[:, column] >= 0
        hists.append(_counts(owner[valid] * hist.NUM_BUCKETS + marks[valid, column]))
    deltas: dict[RollupKey, tuple[Any, ...]] = {}
    costs = [int(vector[_COST]) for vector in vectors]
    for j, rollup_key in enumerate(keys):
        values = [
            float(v) if name in _FLOAT_SUMS else round(v)
            for name, v in zip(_VALUES[:_N_SUMS], sums[j].tolist(), strict=True)
        ]
        # Money in pico-dollars passes 2**53 at about $9,000: sum it exactly.
        values[_COST] = sum(costs[i] for i in members[rollup_key])
        deltas[rollup_key] = (
            *values,
            hist.encode_counts(hists[0].get(j, {})),
            hist.encode_counts(hists[1].get(j, {})),
        )
    return deltas


def _counts(codes: npt.NDArray[np.int64]) -> dict[int, dict[int, int]]:
    """``{group: {bucket: count}}`` of ``group * NUM_BUCKETS + bucket`` codes."""
    import numpy as np

    out: dict[int, dict[int, int]] = {}
    if len(codes):
        found, counts = np.unique(codes, return_counts=True)
        for code, n in zip(found.tolist(), counts.tolist(), strict=True):
            group, bucket = divmod(code, hist.NUM_BUCKETS)
            out.setdefault(group, {})[bucket] = n
    return out


def _num(values: Sequence[Any], missing: float = 0.0) -> npt.NDArray[np.float64]:
    import numpy as np

    return np.array([missing if v is None else v for v in values], np.float64)


def columns_from_stats(rows: Sequence[tuple[Any, ...]]) -> CallColumns:
    """Columns of rows from ``llmlab.store.stream_call_stats`` (vectorised)."""
    import numpy as np

    if not rows:
        empty = np.zeros(0)
        return CallColumns(
            np.zeros(0, np.int64),
            [],
            np.zeros((0, len(COUNTERS)), np.int64),
            np.zeros((0, len(FLOATS))),
            empty,
            empty,
        )
    (start, provider, model, pname, pver, exp, arm, run, tags_text, status, cstatus) = list(
        zip(*rows, strict=True)
    )[:11]
    cost, tin, tout, cr, cw, rs, duration, ttft, cache_hit = list(zip(*rows, strict=True))[11:]
    tag_cache: dict[str | None, JsonObject] = {}
    dims = []
    for i, text in enumerate(tags_text):
        tags = tag_cache.get(text)
        if tags is None:
            tags = tag_cache[text] = json.loads(text) if text else {}
        dims.append(
            call_dims(provider[i], model[i], pname[i], pver[i], exp[i], arm[i], run[i], tags)
        )
    st = np.array(status)
    hits = np.array([bool(h) for h in cache_hit])
    ok = (st == "ok") & ~hits  # timed calls: cache hits are counted apart
    cost_p = np.array([-1 if v is None else int(v) for v in cost], np.int64)
    t_in, t_out = _num(tin), _num(tout)
    dur = _num(duration)
    tt = _num(ttft, np.nan)
    has_ttft = ok & ~np.isnan(tt)
    priced = cost_p >= 0
    ints = np.column_stack(
        [
            np.ones(len(rows)),
            st == "error",
            st == "refused",
            t_in,
            t_out,
            _num(cr),
            _num(cw),
            _num(rs),
            np.zeros(len(rows)),  # cost: set exactly below
            np.where(priced, t_in + t_out, 0),
            (st != "refused") & (np.array(cstatus) == "unpriced"),
            ok,
            np.where(ok, t_out, 0),
            has_ttft,
            hits,
        ]
    ).astype(np.int64)
    ints[:, COST] = np.where(priced, cost_p, 0)
    floats = np.column_stack([np.where(ok, dur, 0.0), np.where(has_ttft, tt, 0.0)])
    return CallColumns(
        np.array(start, np.int64),
        dims,
        ints,
        floats,
        np.where(ok, dur, np.nan),
        np.where(has_ttft, tt, np.nan),
    )


def _aligned(moment: datetime | None, width: int, up: bool) -> int | None:
    if moment is None:
        return None
    epoch = int(moment.astimezone(UTC).timestamp())
    return -(-epoch // width) * width if up else epoch // width * width


def rebuild_rollups(
    *,
    store: Store | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    chunk: int = 100_000,
) -> int:
    """Recompute rollups from the calls table (after bulk loads or repricing).

    The range is widened to whole days. Streams the calls in time order and writes each
    hour and day as soon as it is complete, so memory stays bounded. Returns the number
    of calls read.
    """
    handle = resolve_store(store)
    start = _aligned(since, DAY, up=False)
    end = _aligned(until, DAY, up=True)
    delete_rollups(handle, start, end)
    lo = datetime.fromtimestamp(start, UTC) if start is not None else None
    hi = datetime.fromtimestamp(end, UTC) if end is not None else None
    pending: dict[RollupKey, Agg] = {}
    total = 0
    for part in stream_call_stats(handle, lo, hi, chunk=chunk, order=True):
        cols = columns_from_stats(part)
        total += len(cols)
        aggregate(cols, pending)
        # Calls arrive in time order: periods ending before the newest call are complete.
        newest = int(cols.start_s.max())
        insert_rollups(handle, rollup_rows(dict(_pop_complete(pending, newest))))
    insert_rollups(handle, rollup_rows(pending))
    return total


def _pop_complete(pending: dict[RollupKey, Agg], newest: int) -> Iterator[tuple[RollupKey, Agg]]:
    done = [k for k in pending if k[1] + (HOUR if k[0] == "h" else DAY) <= newest]
    for key in done:
        yield key, pending.pop(key)


def _fast_rollups(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[dict[RollupKey, tuple[Any, ...]], Callable[[Sequence[Any], Sequence[Any]], Any]]:
    """The rollup hook for the SQLite fast path: the same deltas and merge."""
    return rollup_deltas(rows), _merge


add_batch_hook(rollup_hook, fast=_fast_rollups)
