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
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import text  # noqa: E402

import llmlab.monitor._recorder as _recorder  # noqa: E402
from llmlab.monitor import CallRecord, flush, new_call_id, record  # noqa: E402
from llmlab.store import Store, insert_calls  # noqa: E402


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


def bench_caller(store: Store, calls: int) -> dict[str, float]:
    """Time each record() call while the background writer is busy writing."""
    records = [make_record(n) for n in range(calls)]
    samples: list[float] = []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for rec in records:
        t0 = clock()
        record(rec, store)
        samples.append(clock() - t0)
    elapsed = time.perf_counter() - start
    flushed_at = time.perf_counter()
    flush(store)
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


def bench_ingest(store: Store, calls: int, batch: int) -> tuple[float, float]:
    """insert_calls() in batches, as the writer thread does: rows per wall and CPU second.

    The CPU figure (this thread's CPU time, SQLite's work included) is what an unshared
    core achieves; the wall figure suffers when other processes share the machine.
    """
    writer_rows = [_row(make_record(n)) for n in range(calls)]
    start, cpu_start = time.perf_counter(), time.thread_time()
    for first in range(0, calls, batch):
        insert_calls(store, writer_rows[first : first + batch])
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    return calls / wall, calls / cpu


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
        store = Store(url)  # create and migrate outside the timings
        _recorder.recorder(store)
        ingest, ingest_cpu = bench_ingest(store, args.calls, args.batch)
        hooks = list(_recorder._hooks)
        _recorder._hooks.clear()  # the recorder alone
        try:
            alone = bench_caller(store, args.calls)
        finally:
            _recorder._hooks.extend(hooks)
        shipped = bench_caller(store, args.calls)  # with the hooks llmlab registers (rollups)
        with store.read() as conn:
            total = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
        store.close()
    print(f"database: {'SQLite (temporary file)' if not args.db else args.db.split('@')[-1]}")
    print(f"calls: {args.calls:,} per measurement, batch {args.batch}; rows in store {total:,}")
    print(f"batch hooks registered by llmlab: {[hook.__qualname__ for hook in hooks]}")
    print()
    print(f"{'measurement':<52} {'recorder alone':>15} {'+ llmlab hooks':>15}  goal")
    for label, key, unit, goal in (
        ("record() on the caller path, mean", "mean_us", "us", "<= 100 us"),
        ("record() on the caller path, p50", "p50_us", "us", ""),
        ("record() on the caller path, p99", "p99_us", "us", ""),
        ("record() on the caller path, max", "max_us", "us", ""),
        ("end to end: record() x N, then flush(), calls/s", "end_to_end_per_s", "/s", ""),
    ):
        print(f"{label:<52} {alone[key]:>12,.1f} {unit} {shipped[key]:>12,.1f} {unit}  {goal}")
    print(
        f"{'ingest: insert_calls() in batches, calls/s':<52} {ingest:>12,.0f} /s"
        f"{'':>16}  >= 20,000 /s"
    )
    print(f"{'ingest per CPU second (unshared core)':<52} {ingest_cpu:>12,.0f} /s")
    print(f"load average while running: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
