"""Stats over any window, from rollups: whole days, then whole hours, then raw edge rows.

Percentiles come from merged log-scale histograms (see ``_histogram``): within
``RELATIVE_ERROR`` (< 2 %) of the exact nearest-rank values.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from llmlab._errors import InputError
from llmlab._json import JsonObject
from llmlab.monitor import _histogram as hist
from llmlab.monitor._frame import Frame, frame_from_aggs, frame_from_rows, group_frame
from llmlab.monitor._rollup_math import (
    COUNTERS,
    DAY,
    DIMENSIONS,
    FLOATS,
    HOUR,
    Agg,
    RollupKey,
    aggregate,
)
from llmlab.monitor._rollups import columns_from_stats
from llmlab.monitor._window import parse_window
from llmlab.pricing import price_tokens
from llmlab.store import (
    Store,
    from_pico,
    read_rollup_columns,
    resolve_store,
    stream_call_stats,
    sum_rollup_columns,
)

__all__ = ["GROUP_BY", "GroupStats", "StatsReport", "call_stats"]

GROUP_BY = (*DIMENSIONS, "tag:KEY", "hour", "day")
NONE_KEY = "(none)"
_NANO = Decimal("1e-9")


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The figures of one group (or of the whole window)."""

    key: str
    calls: int
    errors: int
    refused: int
    error_rate: float
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: Decimal
    cost_per_call: Decimal | None  # per priced call (not unpriced, not refused)
    cost_per_1k_tokens: Decimal | None  # over the tokens of priced calls
    unpriced: int
    cache_hits: int
    latency_mean_s: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    ttft_p99_s: float | None
    output_tokens_per_s: float | None
    cache_savings: Decimal | None

    def to_dict(self) -> JsonObject:
        """JSON-ready dict; money as strings (exact)."""
        out: JsonObject = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = str(value) if isinstance(value, Decimal) else value
        return out


@dataclass(frozen=True, slots=True)
class StatsReport:
    """Stats of a window, overall and per group."""

    since: datetime | None
    until: datetime
    by: str | None
    total: GroupStats
    groups: tuple[GroupStats, ...]
    percentile_relative_error: float = hist.RELATIVE_ERROR

    def to_dict(self) -> JsonObject:
        """JSON-ready dict (``version`` 1)."""
        return {
            "version": 1,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "by": self.by,
            "percentile_relative_error": round(self.percentile_relative_error, 5),
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }


def _check_by(by: str | None) -> str | None:
    if by is None or by in DIMENSIONS or by in ("hour", "day"):
        return by
    if by.startswith("tag:") and len(by) > 4:
        return by
    raise InputError(f"unknown group-by {by!r}; use one of: {', '.join(GROUP_BY)}")


def call_stats(
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    *,
    by: str | None = None,
    last_hours: float | None = None,
    store: Store | None = None,
) -> StatsReport:
    """Stats of the calls that started in [since, until).

    Args:
        since: ``24h``, ``7d``, an ISO date/time, or a datetime; None: from the first call.
        until: same forms; None: now.
        by: ``model``, ``provider``, ``prompt``, ``arm``, ``eval_run``, ``tag:KEY``,
            ``hour`` or ``day``; None: only the total.
        last_hours: instead of ``since``: the last N hours before ``until``.
        store: the store (default: the default handle).

    Raises:
        InputError: a malformed window or an unknown group-by.
    """
    by = _check_by(by)
    start, end = parse_window(since, until, last_hours=last_hours)
    handle = resolve_store(store)
    dim = by if by is not None and by not in ("hour", "day") else None
    # The model dimension is always read, for cache savings; its histograms only if needed.
    hist_dims = {"all", dim or "all"}
    frames = _collect(handle, start, end, hist_dims, daily=by != "hour")
    total = Agg()
    groups: dict[str, Agg] = {}
    models: dict[str, Agg] = {}
    width = HOUR if by == "hour" else DAY
    for frame in frames:
        _merge_into(total, group_frame(frame, ["" if d == "all" else None for d in frame.dims]))
        if by in ("hour", "day"):
            labels = [
                _label(s // width * width, by) if d == "all" else None
                for s, d in zip(frame.starts, frame.dims, strict=True)
            ]
        else:
            labels = [k if d == dim else None for d, k in zip(frame.dims, frame.keys, strict=True)]
        _merge_groups(groups, group_frame(frame, labels))
        model_labels = [
            k if d == "model" else None for d, k in zip(frame.dims, frame.keys, strict=True)
        ]
        _merge_groups(models, group_frame(frame, model_labels))
    if dim is not None:
        rest = Agg()
        rest.add(total)
        for agg in groups.values():
            rest.subtract(agg)
        if rest.get("calls") > 0:
            groups[NONE_KEY] = rest
    savings = {key: _cache_savings(key, agg) for key, agg in models.items()}
    known = [s for s in savings.values() if s is not None]
    total_savings = sum(known, Decimal(0)) if known else None
    keys = list(groups)
    lat = hist.percentiles([groups[k].latency for k in keys], _QS)
    ttft = hist.percentiles([groups[k].ttft for k in keys], _QS)
    made = [
        _figures(key, groups[key], savings.get(key) if by == "model" else None, lat[i], ttft[i])
        for i, key in enumerate(keys)
    ]
    if by in ("hour", "day"):
        made.sort(key=lambda g: g.key)
    else:
        made.sort(key=lambda g: (-g.cost, -g.calls, g.key))
    overall = _figures(
        "total",
        total,
        total_savings,
        hist.percentiles([total.latency], _QS)[0],
        hist.percentiles([total.ttft], _QS)[0],
    )
    return StatsReport(start, end, by, overall, tuple(made))


def _merge_into(target: Agg, found: dict[str, Agg]) -> None:
    for agg in found.values():
        target.add(agg)


def _merge_groups(target: dict[str, Agg], found: dict[str, Agg]) -> None:
    for key, agg in found.items():
        if key in target:
            target[key].add(agg)
        else:
            target[key] = agg


def _collect(
    store: Store,
    start: datetime | None,
    end: datetime,
    hist_dims: Collection[str],
    *,
    daily: bool,
) -> list[Frame]:
    """Frames covering [start, end): daily and hourly rollups, raw rows at the edges."""
    lo = start.timestamp() if start is not None else 0.0
    hi = end.timestamp()
    h0, h1 = math.ceil(lo / HOUR) * HOUR, math.floor(hi / HOUR) * HOUR
    out: list[Frame] = []
    raw: list[tuple[float, float]] = []
    if h0 >= h1:
        raw.append((lo, hi))
    else:
        raw += [(lo, h0), (h1, hi)]
        d0, d1 = -(-h0 // DAY) * DAY, h1 // DAY * DAY
        whole_days = d0 < d1
        hourly = [(h0, d0), (d1, h1)] if whole_days else [(h0, h1)]
        # Model sums (for cache savings) always come from days where they can.
        model = "model" not in hist_dims
        if whole_days:
            out += _rollup_frames(store, "d", hist_dims if daily else (), d0, d1, model)
            if not daily:
                out += _rollup_frames(store, "h", hist_dims, d0, d1, model_sums=False)
        for a, b in hourly:
            out += _rollup_frames(store, "h", hist_dims, a, b, model)
    wanted = {*hist_dims, "model"}
    for a_s, b_s in raw:
        if a_s < b_s:
            aggs = _raw_aggs(store, _at(a_s, start), _at(b_s, end), wanted)
            out.append(frame_from_aggs(aggs))
    return out


def _at(epoch: float, exact: datetime | None) -> datetime:
    """The exact window edge when ``epoch`` is one (no float round trip), else the instant."""
    if exact is not None and exact.timestamp() == epoch:
        return exact
    return datetime.fromtimestamp(epoch, UTC)


_SUMS = (*COUNTERS, *FLOATS)


def _rollup_frames(
    store: Store,
    grain: str,
    hist_dims: Collection[str],
    start: int,
    end: int,
    model_sums: bool,
) -> list[Frame]:
    """Rollup rows of ``hist_dims`` with histograms, and model counters summed if asked."""
    if start >= end:
        return []
    frames = []
    if hist_dims:
        columns = (*_SUMS, "latency_hist", "ttft_hist")
        rows = read_rollup_columns(store, grain, sorted(hist_dims), start, end, columns)
        frames.append(frame_from_rows(rows, with_hist=True))
    if model_sums:
        rows = sum_rollup_columns(store, grain, ["model"], start, end, _SUMS)
        frames.append(frame_from_rows(rows, with_hist=False))
    return frames


def _raw_aggs(
    store: Store, lo: datetime, hi: datetime, dims: Collection[str]
) -> dict[RollupKey, Agg]:
    aggs: dict[RollupKey, Agg] = {}
    for part in stream_call_stats(store, lo, hi):
        aggregate(columns_from_stats(part), aggs, grains=("h",), only=dims)
    return aggs


def _label(bucket_start: int, by: str) -> str:
    return time.strftime(
        "%Y-%m-%dT%H:00Z" if by == "hour" else "%Y-%m-%d", time.gmtime(bucket_start)
    )


def _cache_savings(model_key: str, agg: Agg) -> Decimal | None:
    cached = agg.get("cache_read_tokens")
    if cached <= 0:
        return Decimal(0)
    provider, _, model = model_key.partition("/")
    full = price_tokens(provider, model, input_tokens=cached, output_tokens=0)
    actual = price_tokens(
        provider, model, input_tokens=cached, output_tokens=0, cache_read_tokens=cached
    )
    if full.cost is None or actual.cost is None:
        return None
    return full.cost - actual.cost


_QS = (50.0, 95.0, 99.0)


def _figures(
    key: str,
    agg: Agg,
    savings: Decimal | None,
    lat: Sequence[float | None],
    ttft: Sequence[float | None],
) -> GroupStats:
    # Plain Python numbers once: numpy scalar access per field costs more than the rest.
    g = dict(zip(COUNTERS, agg.ints.tolist(), strict=True))
    calls, ok_calls = g["calls"], g["ok_calls"]
    cost = from_pico(g["cost"]).normalize() if g["cost"] else Decimal(0)
    ok_duration = float(agg.floats[0])
    priced_tokens = g["priced_tokens"]
    priced_calls = calls - g["unpriced"] - g["refused"]
    return GroupStats(
        key=key,
        calls=calls,
        errors=g["errors"],
        refused=g["refused"],
        error_rate=g["errors"] / calls if calls else 0.0,
        input_tokens=g["input_tokens"],
        output_tokens=g["output_tokens"],
        cache_read_tokens=g["cache_read_tokens"],
        cache_write_tokens=g["cache_write_tokens"],
        reasoning_tokens=g["reasoning_tokens"],
        cost=cost,
        cost_per_call=(cost / priced_calls).quantize(_NANO) if priced_calls > 0 else None,
        cost_per_1k_tokens=(cost * 1000 / priced_tokens).quantize(_NANO) if priced_tokens else None,
        unpriced=g["unpriced"],
        cache_hits=g["cache_hits"],
        latency_mean_s=ok_duration / ok_calls if ok_calls else None,
        latency_p50_s=lat[0],
        latency_p95_s=lat[1],
        latency_p99_s=lat[2],
        ttft_p50_s=ttft[0],
        ttft_p95_s=ttft[1],
        ttft_p99_s=ttft[2],
        output_tokens_per_s=g["ok_output_tokens"] / ok_duration if ok_duration > 0 else None,
        cache_savings=savings,
    )
