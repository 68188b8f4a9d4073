"""Fixed log-scale histograms for latency and time to first token.

Bucket ``i`` holds values in ``[MIN_S * RATIO**i, MIN_S * RATIO**(i+1))`` (bucket 0 also
takes everything below ``MIN_S``, the last everything above ``MAX_S``). A percentile is
reported as the geometric middle of the bucket holding the nearest-rank value, so for any
value between ``MIN_S`` (0.1 ms) and ``MAX_S`` (3 h) it is within ``RELATIVE_ERROR``
(``sqrt(1.04) - 1``, under 2 %) of the exact nearest-rank percentile of the raw values.

Histograms are mergeable by adding counts, so percentiles of any window are computed from
hourly rollups. They are stored sparse: little-endian (uint16 bucket, int64 count) pairs.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Counts = npt.NDArray[np.int64]

__all__ = [
    "MAX_S",
    "MIN_S",
    "NUM_BUCKETS",
    "PAIR_SIZE",
    "RATIO",
    "RELATIVE_ERROR",
    "bucket_of",
    "buckets_of",
    "decode",
    "encode",
    "encode_counts",
    "merge",
    "merge_bytes",
    "percentile",
    "percentiles",
]

RATIO = 1.04
MIN_S = 1e-4
MAX_S = 3 * 3600.0
_LOG_RATIO = math.log(RATIO)
NUM_BUCKETS = math.ceil(math.log(MAX_S / MIN_S) / _LOG_RATIO) + 1
RELATIVE_ERROR = math.sqrt(RATIO) - 1
# One stored (bucket, count) pair. numpy (the ``PAIR`` dtype, for vectorised reads) is
# imported only on first use: the recorder's hook encodes and merges a small batch's
# histograms with ``struct`` alone, so a one-call command never loads numpy.
_PAIR = struct.Struct("<Hq")
PAIR_SIZE = _PAIR.size


def __getattr__(name: str) -> Any:
    # ``PAIR``: the numpy dtype of a pair, made on first use.
    if name == "PAIR":
        return _pair()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _pair() -> np.dtype[Any]:
    """The numpy dtype of one stored pair (packed: the same bytes as ``_PAIR``)."""
    import numpy as np

    return np.dtype([("bucket", "<u2"), ("count", "<i8")])


def bucket_of(value_s: float) -> int:
    """The bucket of one value in seconds."""
    if value_s <= MIN_S:
        return 0
    return min(int(math.log(value_s / MIN_S) / _LOG_RATIO), NUM_BUCKETS - 1)


def buckets_of(values_s: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The buckets of many values (vectorised :func:`bucket_of`)."""
    import numpy as np

    arr = np.maximum(np.asarray(values_s, dtype=np.float64), MIN_S)
    idx = np.floor(np.log(arr / MIN_S) / _LOG_RATIO).astype(np.int64)
    return np.clip(idx, 0, NUM_BUCKETS - 1)


def empty() -> Counts:
    """A histogram with no values."""
    import numpy as np

    return np.zeros(NUM_BUCKETS, dtype=np.int64)


def encode(counts: Counts) -> bytes:
    """Sparse bytes of a dense count array."""
    import numpy as np

    nz = np.flatnonzero(counts)
    pairs = np.empty(len(nz), dtype=_pair())
    pairs["bucket"] = nz
    pairs["count"] = counts[nz]
    return pairs.tobytes()


def encode_counts(counts: dict[int, int]) -> bytes:
    """Sparse bytes of ``{bucket: count}`` (plain Python: the same bytes as :func:`encode`
    of the dense array, for the buckets given)."""
    pack = _PAIR.pack
    return b"".join(pack(bucket, count) for bucket, count in sorted(counts.items()))


def merge_bytes(a: bytes | None, b: bytes | None) -> bytes:
    """Sparse bytes of two sparse histograms added together (buckets whose sum is 0 are
    left out, as :func:`encode` leaves them out)."""
    if not a:
        return bytes(b or b"")
    if not b:
        return bytes(a)
    totals: dict[int, int] = {}
    for blob in (a, b):
        for bucket, count in _PAIR.iter_unpack(blob):
            totals[bucket] = totals.get(bucket, 0) + count
    return encode_counts({bucket: n for bucket, n in totals.items() if n})


def decode(blob: bytes | None) -> Counts:
    """Dense counts of sparse bytes."""
    import numpy as np

    counts = empty()
    if blob:
        pairs = np.frombuffer(blob, dtype=_pair())
        np.add.at(counts, pairs["bucket"].astype(np.int64), pairs["count"])
    return counts


def merge(blobs: Iterable[bytes | None]) -> Counts:
    """Dense counts of many sparse histograms added together."""
    import numpy as np

    parts = [np.frombuffer(b, dtype=_pair()) for b in blobs if b]
    if not parts:
        return empty()
    pairs = np.concatenate(parts)
    return np.bincount(
        pairs["bucket"].astype(np.int64), weights=pairs["count"], minlength=NUM_BUCKETS
    ).astype(np.int64)


def percentile(counts: Counts, q: float) -> float | None:
    """The ``q`` (0..100) nearest-rank percentile in seconds; None when empty."""
    import numpy as np

    total = int(counts.sum())
    if total == 0:
        return None
    rank = max(1, math.ceil(q / 100.0 * total))
    index = int(np.searchsorted(np.cumsum(counts), rank))
    return float(MIN_S * RATIO ** (index + 0.5))


def percentiles(rows: Sequence[Counts], qs: Sequence[float]) -> list[list[float | None]]:
    """:func:`percentile` for many histograms and percentiles at once (vectorised)."""
    if not rows:
        return []
    import numpy as np

    cum = np.cumsum(np.vstack(rows), axis=1)
    total = cum[:, -1]
    # One searchsorted over all rows: shift each row's cumulative counts past the last.
    shift = (np.arange(len(rows), dtype=np.int64) * (int(total.max()) + 1))[:, None]
    flat = (cum + shift).ravel()
    out = np.empty((len(rows), len(qs)))
    for j, q in enumerate(qs):
        rank = np.maximum(1, np.ceil(q / 100.0 * total)).astype(np.int64)
        index = np.searchsorted(flat, rank + shift[:, 0])
        index -= np.arange(len(rows)) * NUM_BUCKETS
        out[:, j] = MIN_S * RATIO ** (index + 0.5)
    return [
        [float(v) for v in row] if t > 0 else [None] * len(qs)
        for row, t in zip(out.tolist(), total.tolist(), strict=True)
    ]
