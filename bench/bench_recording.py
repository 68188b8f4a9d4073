#!/usr/bin/env python3
"""Benchmark: call recording overhead on the caller's path, and ingest rate into the store.

Run from the repository root::

    .venv/bin/python bench/bench_recording.py            # SQLite in a temporary folder
    .venv/bin/python bench/bench_recording.py --db URL   # e.g. PostgreSQL

Goals (issue 2): record() costs <= 100 us per call on the caller's path; ingest >= 20,000
calls/s into SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import text  # noqa: E402

from llmlab.monitor import CallRecord, flush, new_call_id, record  # noqa: E402
from llmlab.monitor._recorder import _writer_for  # noqa: E402
from llmlab.store import close_engines, get_engine, insert_calls  # noqa: E402


def make_record(n: int) -> CallRecord:
    """A realistic successful call: tokens, cost, tags, short request and reply captured."""
    return CallRecord(
        id=new_call_id(),
        started_at=datetime.now(UTC),
        provider="openai",
        requested_model="gpt-4o-mini",
        resolved_model="gpt-4o-mini-2024-07-18",
        duration_s=0.8,
        ttft_s=0.2,
        input_tokens=120 + n % 50,
        output_tokens=40,
        cost=Decimal("0.000042"),
        cost_status="priced",
        price_source="genai-prices 0.2.3: openai/gpt-4o-mini",
        finish_reason="stop",
        tags={"feature": "search", "user": f"u{n % 100}"},
        request={"messages": [{"role": "user", "content": "What is the capital of France?"}]},
        response_text="The capital of France is Paris.",
        prompt_name="qa",
        prompt_version=3,
    )


def bench_caller(url: str, calls: int) -> dict[str, float]:
    """Time each record() call while the background writer is busy writing."""
    records = [make_record(n) for n in range(calls)]
    samples: list[float] = []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for rec in records:
        t0 = clock()
        record(rec, url)
        samples.append(clock() - t0)
    elapsed = time.perf_counter() - start
    flushed_at = time.perf_counter()
    flush(url)
    done = time.perf_counter()
    samples.sort()
    return {
        "mean_us": statistics.fmean(samples) / 1000,
        "p50_us": samples[len(samples) // 2] / 1000,
        "p99_us": samples[int(len(samples) * 0.99)] / 1000,
        "max_us": samples[-1] / 1000,
        "loop_s": elapsed,
        "end_to_end_per_s": calls / (done - start),
        "flush_s": done - flushed_at,
    }


def bench_ingest(url: str, calls: int, batch: int) -> float:
    """insert_calls() in batches, as the writer thread does: rows per second."""
    writer_rows = [_row(make_record(n)) for n in range(calls)]
    engine = get_engine(url)
    start = time.perf_counter()
    for first in range(0, calls, batch):
        insert_calls(engine, writer_rows[first : first + batch])
    return calls / (time.perf_counter() - start)


def _row(rec: CallRecord) -> dict[str, object]:
    return {name: getattr(rec, name) for name in rec.__dataclass_fields__}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database path or URL (default: a fresh SQLite file)")
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "bench.db")
        engine = get_engine(url)  # create and migrate outside the timings
        _writer_for(url)
        ingest = bench_ingest(url, args.calls, args.batch)
        caller = bench_caller(url, args.calls)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
        close_engines()
    print(f"database: {'SQLite (temporary file)' if not args.db else args.db.split('@')[-1]}")
    print(f"calls: {args.calls:,} per measurement, batch {args.batch}; rows in store {total:,}")
    print()
    print(f"{'measurement':<46} {'result':>12}  goal")
    print(f"{'record() on the caller path, mean':<46} {caller['mean_us']:>9.1f} us  <= 100 us")
    print(f"{'record() on the caller path, p50':<46} {caller['p50_us']:>9.1f} us")
    print(f"{'record() on the caller path, p99':<46} {caller['p99_us']:>9.1f} us")
    print(f"{'record() on the caller path, max':<46} {caller['max_us']:>9.1f} us")
    print(f"{'ingest: insert_calls() in batches':<46} {ingest:>9,.0f} /s  >= 20,000 /s")
    print(f"{'end to end: record() x N then flush()':<46} {caller['end_to_end_per_s']:>9,.0f} /s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
