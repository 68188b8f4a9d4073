"""Rollup arithmetic: which groups a call counts in, and columnar aggregation.

numpy is imported by the functions that use it (columnar aggregation, for
``rebuild_rollups`` and the stats), not by this module: the recorder's hook needs only
:func:`call_dims`, :func:`epoch` and :func:`pico` for a small batch.

A call counts once in each of its groups: ``all``, ``model`` (``provider/model``),
``provider``, ``prompt`` (``name@version``), ``arm`` (``experiment/arm``), ``eval_run``
and one ``tag:KEY`` per tag — for the hour and for the day it started in. Calls without
a prompt, arm, run or tag are not stored under those dimensions; the stats layer derives
their "(none)" group as ``all`` minus the named groups.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmlab.monitor import _histogram as hist
from llmlab.store import to_pico

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "COUNTERS",
    "DAY",
    "DIMENSIONS",
    "FLOATS",
    "HOUR",
    "Agg",
    "CallColumns",
    "RollupKey",
    "aggregate",
    "call_dims",
    "epoch",
    "pico",
]

HOUR = 3600
DAY = 86400
# Integer counters, then float sums, in the order the tables and arrays hold them.
COUNTERS: tuple[str, ...] = (
    "calls",
    "errors",
    "refused",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost",
    "priced_tokens",
    "unpriced",
    "ok_calls",
    "ok_output_tokens",
    "ttft_count",
    "cache_hits",
)
FLOATS: tuple[str, ...] = ("ok_duration_s", "ttft_sum_s")
_COUNTER_INDEX = {name: i for i, name in enumerate(COUNTERS)}
_FLOAT_INDEX = {name: i for i, name in enumerate(FLOATS)}
DIMENSIONS: tuple[str, ...] = ("model", "provider", "prompt", "arm", "eval_run")

RollupKey = tuple[str, int, str, str]  # grain, bucket start (epoch s), dim, key


def _zeros(n: int, dtype: str) -> Any:
    # numpy is imported on first use: the recorder's hook adds a small batch without it.
    import numpy as np

    return np.zeros(n, dtype)


@dataclass(slots=True)
class Agg:
    """Sums and histograms of one rollup group."""

    ints: npt.NDArray[np.int64] = field(default_factory=lambda: _zeros(len(COUNTERS), "int64"))
    floats: npt.NDArray[np.float64] = field(default_factory=lambda: _zeros(len(FLOATS), "float64"))
    latency: npt.NDArray[np.int64] = field(default_factory=hist.empty)
    ttft: npt.NDArray[np.int64] = field(default_factory=hist.empty)

    def add(self, other: Agg) -> None:
        """Add another group's figures into this one."""
        self.ints += other.ints
        self.floats += other.floats
        self.latency += other.latency
        self.ttft += other.ttft

    def subtract(self, other: Agg) -> None:
        """Remove another group's figures (for the derived "(none)" group)."""
        self.ints -= other.ints
        self.floats -= other.floats
        self.latency -= other.latency
        self.ttft -= other.ttft

    def get(self, name: str) -> int:
        """One integer counter by name."""
        return int(self.ints[_COUNTER_INDEX[name]])

    def getf(self, name: str) -> float:
        """One float sum by name."""
        return float(self.floats[_FLOAT_INDEX[name]])


@dataclass(slots=True)
class CallColumns:
    """Many calls as columns, the unit of aggregation."""

    start_s: npt.NDArray[np.int64]
    dims: list[dict[str, str]]  # per call: dim -> key
    ints: npt.NDArray[np.int64]  # (n, len(COUNTERS))
    floats: npt.NDArray[np.float64]  # (n, len(FLOATS))
    latency_s: npt.NDArray[np.float64]  # NaN where not an ok call
    ttft_s: npt.NDArray[np.float64]  # NaN where none

    def __len__(self) -> int:
        return len(self.start_s)


def call_dims(
    provider: str,
    model: str,
    prompt_name: str | None,
    prompt_version: int | None,
    experiment: str | None,
    arm: str | None,
    eval_run: str | None,
    tags: Mapping[str, Any] | None,
) -> dict[str, str]:
    """The groups (dim -> key) one call counts in, besides ``all``."""
    dims = {"model": f"{provider}/{model}", "provider": provider}
    if prompt_name:
        dims["prompt"] = f"{prompt_name}@{prompt_version}" if prompt_version else prompt_name
    if experiment or arm:
        dims["arm"] = f"{experiment or ''}/{arm or ''}"
    if eval_run:
        dims["eval_run"] = eval_run
    for key, value in (tags or {}).items():
        dims[f"tag:{key}"] = str(value)
    return dims


COST = COUNTERS.index("cost")
"""The cost column among the counters (integer pico-dollars)."""


def pico(cost: Any) -> int:
    """A call's cost (Decimal dollars or None) as integer pico-dollars (None: 0), the same
    unit and rounding as the stored column, so live and rebuilt rollups agree exactly."""
    return 0 if cost is None else to_pico(cost)


def epoch(moment: datetime) -> int:
    """Integer epoch seconds of a datetime (naive: UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def aggregate(
    cols: CallColumns,
    out: dict[RollupKey, Agg],
    grains: Iterable[str] = ("h", "d"),
    only: Container[str] | None = None,
) -> None:
    """Add every call in ``cols`` into its hourly and daily groups in ``out``
    (``only``: just these dimensions besides ``all``)."""
    if not len(cols):
        return
    import numpy as np

    lat_b = np.where(np.isnan(cols.latency_s), -1, hist.buckets_of(np.nan_to_num(cols.latency_s)))
    ttft_b = np.where(np.isnan(cols.ttft_s), -1, hist.buckets_of(np.nan_to_num(cols.ttft_s)))
    # Map every (dim, key) to a small integer so grouping is integer work in numpy.
    dim_ids: dict[tuple[str, str], int] = {("all", ""): 0}
    pair_rows: list[int] = []
    pair_ids: list[int] = []
    for i, dims in enumerate(cols.dims):
        pair_rows.append(i)
        pair_ids.append(0)
        for dim_key in dims.items():
            if only is not None and dim_key[0] not in only:
                continue
            pair_rows.append(i)
            pair_ids.append(dim_ids.setdefault(dim_key, len(dim_ids)))
    rows = np.asarray(pair_rows, np.int64)
    ids = np.asarray(pair_ids, np.int64)
    names = list(dim_ids)
    for grain in grains:
        width = HOUR if grain == "h" else DAY
        start = cols.start_s // width * width
        _aggregate_grain(cols, grain, start, rows, ids, names, lat_b, ttft_b, out)


def _aggregate_grain(
    cols: CallColumns,
    grain: str,
    start: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    ids: npt.NDArray[np.int64],
    names: list[tuple[str, str]],
    lat_b: npt.NDArray[np.int64],
    ttft_b: npt.NDArray[np.int64],
    out: dict[RollupKey, Agg],
) -> None:
    import numpy as np

    group_code = start[rows] * len(names) + ids
    uniq, inverse = np.unique(group_code, return_inverse=True)
    g = len(uniq)
    # bincount per column: far faster than np.add.at; float64 sums are exact below 2**53.
    ints = np.column_stack(
        [np.bincount(inverse, weights=c, minlength=g) for c in cols.ints[rows].T]
    ).astype(np.int64)
    # Money in pico-dollars passes 2**53 at about $9,000: sum it exactly, in int64.
    cost = np.zeros(g, np.int64)
    np.add.at(cost, inverse, cols.ints[rows, COST])
    ints[:, COST] = cost
    floats = np.column_stack(
        [np.bincount(inverse, weights=c, minlength=g) for c in cols.floats[rows].T]
    )
    lat_codes = _hist_codes(inverse, lat_b[rows])
    ttft_codes = _hist_codes(inverse, ttft_b[rows])
    codes = uniq.tolist()
    for lo in range(0, g, _BLOCK):
        hi = min(g, lo + _BLOCK)
        lat = _dense_block(lat_codes, lo, hi)
        ttft = _dense_block(ttft_codes, lo, hi)
        for j in range(lo, hi):
            bucket_start, name_id = divmod(codes[j], len(names))
            dim, key = names[name_id]
            agg = out.get((grain, bucket_start, dim, key))
            if agg is None:
                agg = out[(grain, bucket_start, dim, key)] = Agg()
            agg.ints += ints[j]
            agg.floats += floats[j]
            agg.latency += lat[j - lo]
            agg.ttft += ttft[j - lo]


# Groups per dense histogram block: bounds the block at _BLOCK x NUM_BUCKETS counts.
_BLOCK = 2048


def _hist_codes(
    inverse: npt.NDArray[np.int64], buckets: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    import numpy as np

    keep = buckets >= 0
    return np.sort(inverse[keep] * hist.NUM_BUCKETS + buckets[keep])


def _dense_block(codes: npt.NDArray[np.int64], lo: int, hi: int) -> npt.NDArray[np.int64]:
    """Counts of groups [lo, hi) as a (hi - lo, NUM_BUCKETS) array, from sorted codes."""
    import numpy as np

    base, top = lo * hist.NUM_BUCKETS, hi * hist.NUM_BUCKETS
    part = codes[np.searchsorted(codes, base) : np.searchsorted(codes, top)] - base
    flat = np.bincount(part, minlength=top - base)
    return flat.reshape(hi - lo, hist.NUM_BUCKETS).astype(np.int64)
