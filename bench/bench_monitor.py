#!/usr/bin/env python3
"""Benchmark: monitoring stats at scale (issue 5). Not a test.

Bulk-ingests synthetic calls spread over 90 days (several providers, models, prompts,
tags, errors, streamed and not), builds the hourly/daily rollups, then times
``call_stats`` over everything and over the last 24 h, in total, by model and by hour,
and checks the rollup percentiles against the exact ones from the raw rows.

Run from the repository root::

    .venv/bin/python bench/bench_monitor.py --calls 10000000            # SQLite
    .venv/bin/python bench/bench_monitor.py --calls 1000000 --db URL    # e.g. PostgreSQL

Goals: ingest >= 20,000 calls/s; each stats query <= 200 ms; percentiles within the
stated relative error (``llmlab.monitor._histogram.RELATIVE_ERROR``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402
from sqlalchemy import text  # noqa: E402

from llmlab.monitor import call_stats, rebuild_rollups  # noqa: E402
from llmlab.monitor._histogram import RELATIVE_ERROR  # noqa: E402
from llmlab.store import Store, insert_calls  # noqa: E402
from llmlab.store._calls import CALL_COLUMNS  # noqa: E402

# (provider, model, $ per input token, $ per output token, median latency s)
MODELS = [
    ("openai", "gpt-4o-mini", "0.00000015", "0.0000006", 0.6),
    ("openai", "gpt-4o", "0.0000025", "0.00001", 1.4),
    ("anthropic", "claude-haiku-4-5", "0.000001", "0.000005", 0.8),
    ("anthropic", "claude-sonnet-4-5", "0.000003", "0.000015", 2.2),
    ("openai-compatible", "llama-3.1-8b", None, None, 0.3),  # unpriced
]
PROMPTS = [("summarize", 3), ("classify", 7), ("extract", 2), ("qa", 12), ("rewrite", 1)]
FEATURES = ["search", "chat", "support", "batch"]


def synthetic_rows(n: int, days: int, seed: int, chunk: int) -> Iterator[list[dict[str, Any]]]:
    """``n`` calls in time order over the ``days`` before now, ``chunk`` rows at a time."""
    rng = np.random.default_rng(seed)
    end = datetime.now(UTC).timestamp()
    start = end - days * 86400
    span = (end - start) / math.ceil(n / chunk)
    template = dict.fromkeys(CALL_COLUMNS)
    prices = [(Decimal(i), Decimal(o)) if i and o else None for _, _, i, o, _ in MODELS]
    for first in range(0, n, chunk):
        m = min(chunk, n - first)
        lo = start + (first // chunk) * span
        times = np.sort(rng.uniform(lo, lo + span, m))
        model_i = rng.choice(len(MODELS), m, p=[0.4, 0.15, 0.25, 0.1, 0.1])
        prompt_i = rng.integers(0, len(PROMPTS) + 1, m)  # last index: no prompt
        user = rng.integers(0, 50, m)
        feature = rng.integers(0, len(FEATURES), m)
        status_roll = rng.random(m)
        tin = rng.lognormal(6.5, 0.8, m).astype(np.int64) + 1
        tout = rng.lognormal(4.5, 0.9, m).astype(np.int64) + 1
        cache = np.where(rng.random(m) < 0.3, tin // 2, 0)
        medians = np.array([MODELS[i][4] for i in model_i])
        duration = medians * rng.lognormal(0.0, 0.5, m)
        streamed = rng.random(m) < 0.7
        ttft = duration * rng.uniform(0.1, 0.4, m)
        rows = []
        for j in range(m):
            provider, model = MODELS[model_i[j]][:2]
            status = "error" if status_roll[j] < 0.02 else "ok"
            price = prices[model_i[j]]
            ti, to = int(tin[j]), int(tout[j])
            row = dict(template)
            p = int(prompt_i[j])
            row.update(
                id=f"{seed:04d}{first + j:028d}",
                started_at=datetime.fromtimestamp(float(times[j]), UTC),
                duration_s=float(duration[j]),
                ttft_s=float(ttft[j]) if streamed[j] and status == "ok" else None,
                provider=provider,
                requested_model=model,
                resolved_model=model,
                input_tokens=ti,
                output_tokens=to if status == "ok" else 0,
                cache_read_tokens=int(cache[j]),
                cache_write_tokens=0,
                reasoning_tokens=0,
                usage_reported=True,
                cost=(ti * price[0] + to * price[1]) if price and status == "ok" else None,
                currency="USD",
                cost_status="priced" if price else "unpriced",
                status=status,
                error_type="provider_error" if status == "error" else None,
                attempts=1,
                streamed=bool(streamed[j]),
                tags={"user": f"u{user[j]}", "feature": FEATURES[feature[j]]},
                prompt_name=PROMPTS[p][0] if p < len(PROMPTS) else None,
                prompt_version=PROMPTS[p][1] if p < len(PROMPTS) else None,
                cache_hit=False,
            )
            rows.append(row)
        yield rows


def exact_percentiles(store: Store, since: datetime | None) -> dict[str, float]:
    """Nearest-rank latency percentiles of the raw rows (the ground truth)."""
    sql = "SELECT duration_s FROM calls WHERE status = 'ok'"
    params: dict[str, Any] = {}
    if since is not None:
        sql += " AND started_at >= :since"
        params["since"] = (
            since if store.dialect != "sqlite" else since.strftime("%Y-%m-%d %H:%M:%S.%f")
        )
    with store.read() as conn:
        values = np.sort(np.fromiter((r[0] for r in conn.execute(text(sql), params)), float))
    return {
        f"p{q}": float(values[max(1, math.ceil(q / 100 * len(values))) - 1]) for q in (50, 95, 99)
    }


def timed(fn: Any, repeat: int) -> tuple[float, list[float], list[float], Any]:
    """First (cold) wall time, warm wall and CPU times in ms, and the last result."""
    wall, cpu = [], []
    result = None
    for _ in range(repeat + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall[0], wall[1:], cpu[1:], result


def ingest(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    """Bulk-insert the synthetic calls, then build the rollups; the figures."""
    t0 = time.perf_counter()
    insert_s = 0.0
    for rows in synthetic_rows(args.calls, args.days, 1, args.chunk):
        t = time.perf_counter()
        insert_calls(store, rows)
        insert_s += time.perf_counter() - t
    total_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    rebuilt = rebuild_rollups(store=store)
    rollup_s = time.perf_counter() - t1
    assert rebuilt == args.calls, (rebuilt, args.calls)
    return {
        "insert_s": round(insert_s, 2),
        "insert_calls_per_s": round(args.calls / insert_s),
        "generate_and_insert_s": round(total_s, 2),
        "rollup_build_s": round(rollup_s, 2),
        "ingest_with_rollups_calls_per_s": round(args.calls / (insert_s + rollup_s)),
    }


def measure(store: Store, repeat: int) -> dict[str, Any]:
    """Time the stats queries and compare their percentiles with the exact ones."""
    queries: dict[str, Any] = {}
    percentiles: dict[str, Any] = {}
    now = datetime.now(UTC)
    windows: dict[str, datetime | None] = {"all": None, "last 24h": now - timedelta(hours=24)}
    for label, since in windows.items():
        for by in (None, "model", "hour"):
            cold, warm, cpu, report = timed(
                lambda s=since, b=by: call_stats(s, now, by=b, store=store), repeat
            )
            queries[f"{label}, by {by or '-'}"] = {
                "cold_ms": round(cold, 1),
                "warm_median_ms": round(statistics.median(warm), 1),
                "warm_max_ms": round(max(warm), 1),
                "cpu_median_ms": round(statistics.median(cpu), 1),
                "groups": len(report.groups),
                "calls": report.total.calls,
            }
        exact = exact_percentiles(store, since)
        total = call_stats(since, now, store=store).total
        approx = {
            "p50": total.latency_p50_s,
            "p95": total.latency_p95_s,
            "p99": total.latency_p99_s,
        }
        percentiles[label] = {
            q: {
                "exact_s": round(exact[q], 5),
                "rollup_s": round(approx[q] or 0.0, 5),
                "rel_error": round(abs((approx[q] or 0.0) / exact[q] - 1), 5),
            }
            for q in exact
        }
    return {"queries": queries, "percentiles": percentiles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--db", help="SQLAlchemy URL or file (default: a temporary SQLite file)")
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument(
        "--reset", action="store_true", help="empty the calls and rollups of --db first"
    )
    parser.add_argument(
        "--queries-only", action="store_true", help="only time the queries on --db as it is"
    )
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="llmlab-bench-")
    url = args.db or f"sqlite:///{tmp.name}/bench.db"
    store = Store(url)
    with store.write() as conn:
        if args.reset:
            conn.execute(text("DELETE FROM calls"))
            conn.execute(text("DELETE FROM call_rollups"))
        stored = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
    if stored and not args.queries_only:
        sys.exit(f"{args.db} already holds calls; pass --reset to empty it (destroys them)")
    results: dict[str, Any] = {
        "backend": store.dialect,
        "calls": stored if args.queries_only else args.calls,
        "days": args.days,
        "relative_error_bound": round(RELATIVE_ERROR, 5),
    }
    if not args.queries_only:
        results.update(ingest(store, args))
    with store.read() as conn:
        results["rollup_rows"] = conn.execute(
            text("SELECT count(*) FROM call_rollups")
        ).scalar_one()
    results.update(measure(store, args.repeat))
    store.close()
    tmp.cleanup()
    print(json.dumps(results, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
