"""Rollup rows as columns, and grouping them with numpy (the fast path of stats)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from llmlab.monitor import _histogram as hist
from llmlab.monitor._rollup_math import COUNTERS, FLOATS, Agg, RollupKey

__all__ = ["Frame", "frame_from_aggs", "frame_from_rows", "group_frame"]

_PAIR_SIZE = hist.PAIR.itemsize


@dataclass(slots=True)
class Frame:
    """Rollup rows: bucket starts, dims, keys, counters, sums and (maybe) histograms."""

    starts: list[int]
    dims: list[str]
    keys: list[str]
    ints: npt.NDArray[np.int64]
    floats: npt.NDArray[np.float64]
    latency: list[bytes] | None
    ttft: list[bytes] | None

    def __len__(self) -> int:
        return len(self.starts)


def frame_from_rows(rows: Sequence[Sequence[Any]], with_hist: bool) -> Frame:
    """A frame of rows ``(bucket_start, dim, key, *COUNTERS, *FLOATS[, lat, ttft])``."""
    n_int, n_float = len(COUNTERS), len(FLOATS)
    if not rows:
        return Frame([], [], [], np.zeros((0, n_int), np.int64), np.zeros((0, n_float)), [], [])
    cols = list(zip(*rows, strict=True))
    ints = np.array(cols[3 : 3 + n_int], dtype=np.int64).T
    floats = np.array(cols[3 + n_int : 3 + n_int + n_float], dtype=np.float64).T
    lat = [bytes(b or b"") for b in cols[-2]] if with_hist else None
    ttft = [bytes(b or b"") for b in cols[-1]] if with_hist else None
    return Frame([int(s) for s in cols[0]], list(cols[1]), list(cols[2]), ints, floats, lat, ttft)


def frame_from_aggs(aggs: Mapping[RollupKey, Agg]) -> Frame:
    """A frame of aggregates computed in memory (raw edge rows)."""
    keys = list(aggs)
    values = [aggs[k] for k in keys]
    n_int, n_float = len(COUNTERS), len(FLOATS)
    return Frame(
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
        np.array([a.ints for a in values], np.int64).reshape(-1, n_int),
        np.array([a.floats for a in values], np.float64).reshape(-1, n_float),
        [hist.encode(a.latency) for a in values],
        [hist.encode(a.ttft) for a in values],
    )


def _dense(
    blobs: list[bytes] | None, picked: Sequence[int], gid: npt.NDArray[np.int64], groups: int
) -> npt.NDArray[np.int64]:
    if blobs is None:
        return np.zeros((groups, hist.NUM_BUCKETS), np.int64)
    parts = [blobs[i] for i in picked]
    lengths = np.fromiter((len(b) // _PAIR_SIZE for b in parts), np.int64, len(parts))
    pairs = np.frombuffer(b"".join(parts), dtype=hist.PAIR)
    owner = np.repeat(gid, lengths)
    flat = np.bincount(
        owner * hist.NUM_BUCKETS + pairs["bucket"].astype(np.int64),
        weights=pairs["count"],
        minlength=groups * hist.NUM_BUCKETS,
    )
    return flat.astype(np.int64).reshape(groups, hist.NUM_BUCKETS)


def group_frame(frame: Frame, labels: Sequence[str | None]) -> dict[str, Agg]:
    """Add up the rows of ``frame`` by label (rows labelled None are left out)."""
    ids: dict[str, int] = {}
    picked: list[int] = []
    owner: list[int] = []
    for i, label in enumerate(labels):
        if label is not None:
            picked.append(i)
            owner.append(ids.setdefault(label, len(ids)))
    g = len(ids)
    if g == 0:
        return {}
    gid = np.asarray(owner, np.int64)
    ints = np.zeros((g, len(COUNTERS)), np.int64)
    np.add.at(ints, gid, frame.ints[picked])
    floats = np.zeros((g, len(FLOATS)), np.float64)
    np.add.at(floats, gid, frame.floats[picked])
    lat = _dense(frame.latency, picked, gid, g)
    ttft = _dense(frame.ttft, picked, gid, g)
    return {label: Agg(ints[j], floats[j], lat[j], ttft[j]) for label, j in ids.items()}
