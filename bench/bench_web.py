#!/usr/bin/env python3
"""Benchmark: the dashboard at scale (issue 11). Not a test.

Builds a store with N calls over 90 days (bulk inserts, the same synthetic calls as
bench_monitor.py, then the rollups), 100 eval runs of 200 cases and one run of 10,000
cases (results written in bulk, summaries computed by ``llmlab.evals.summarize`` as the
runner does), starts ``llmlab serve`` in its own process, and requests every page and
its JSON twin. Reports the app's own time per request (its ``Server-Timing`` header)
p50 and max, and the server process's peak RSS.

Run from the repository root::

    .venv/bin/python bench/bench_web.py --calls 1000000          # the issue's scale
    .venv/bin/python bench/bench_web.py --calls 100000 --repeat 5

Goals: every page <= 300 ms server time (the 10k-case run page too); RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from bench_monitor import PROMPTS, synthetic_rows  # noqa: E402

from llmlab.evals import summarize  # noqa: E402
from llmlab.monitor import rebuild_rollups  # noqa: E402
from llmlab.store import EvalResultRow, Store  # noqa: E402
from llmlab.store._tables_calls import calls  # noqa: E402
from llmlab.store._tables_evals import eval_results, eval_runs  # noqa: E402
from llmlab.store._tables_prompts import label_history, prompt_labels, prompts  # noqa: E402

SUITES = ["qa", "summaries", "extraction", "classification", "safety"]
RUN_MODELS = ["openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-haiku-4-5"]


def build_calls(store: Store, n: int, days: int) -> dict[str, float]:
    t0 = time.perf_counter()
    for rows in synthetic_rows(n, days, 1, 20_000):
        with store.write() as conn:
            conn.execute(calls.insert(), rows)
    t1 = time.perf_counter()
    rebuilt = rebuild_rollups(store=store)
    assert rebuilt == n, (rebuilt, n)
    return {"insert_s": round(t1 - t0, 1), "rollups_s": round(time.perf_counter() - t1, 1)}


def _results(run_id: str, n: int, rng: random.Random, started: datetime) -> list[dict[str, Any]]:
    rows = []
    skill = rng.uniform(0.55, 0.95)
    for i in range(n):
        passed = rng.random() < skill
        score = 1.0 if passed else rng.choice([0.0, 0.25, 0.5])
        rows.append(
            {
                "run_id": run_id,
                "case_id": f"case-{i:05d}",
                "epoch": 1,
                "status": "ok",
                "prompt": f"Question {i}: what is {i} + {i}? Answer with the number only.",
                "case_data": {"input": f"what is {i} + {i}?", "target": str(2 * i)},
                "output": str(2 * i) if passed else f"I think {2 * i + 1}",
                "score": score,
                "passed": passed,
                "errored": False,
                "scores": {"exact": score, "length": 1.0},
                "explanation": "matches" if passed else "expected the number only",
                "error": None,
                "tags": ["arith", "even" if i % 2 == 0 else "odd"],
                "weight": 1.0,
                "call_id": None,
                "cache_hit": False,
                "duration_s": rng.lognormvariate(-0.5, 0.4),
                "input_tokens": 30,
                "output_tokens": 4,
                "cost": Decimal("0.0000069"),
                "judge_calls": 0,
                "judge_input_tokens": 0,
                "judge_output_tokens": 0,
                "judge_cost": None,
                "created_at": started,
            }
        )
    return rows


def build_runs(store: Store, runs: int, cases: int, big: int) -> tuple[str, list[str]]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    ids: list[str] = []
    sizes = [cases] * runs + [big]
    for k, n in enumerate(sizes):
        suite = SUITES[k % len(SUITES)] if n == cases else "big"
        run_id = f"{suite}-{k:04d}-{rng.getrandbits(32):08x}"
        started = now - timedelta(hours=(len(sizes) - k) * 5)
        results = _results(run_id, n, rng, started)
        summary = summarize(
            [EvalResultRow(**r) for r in results],
            threshold=0.7,
            min_pass_rate=0.8,
            expected_results=n,
        )
        with store.write() as conn:
            conn.execute(
                eval_runs.insert(),
                {
                    "id": run_id,
                    "name": suite,
                    "fingerprint": f"fp-{suite}",
                    "model": RUN_MODELS[k % len(RUN_MODELS)],
                    "status": "finished",
                    "started_at": started,
                    "finished_at": started + timedelta(minutes=3),
                    "n_cases": n,
                    "epochs": 1,
                    "threshold": 0.7,
                    "suite": {"name": suite},
                    "options": {"reducer": "mean"},
                    "summary": summary,
                },
            )
            conn.execute(eval_results.insert(), results)
        ids.append(run_id)
    return ids[-1], ids[:-1]


def build_prompts(store: Store) -> None:
    now = datetime.now(UTC)
    with store.write() as conn:
        for name, newest in PROMPTS:
            for v in range(1, newest + 1):
                conn.execute(
                    prompts.insert(),
                    {
                        "name": name,
                        "version": v,
                        "hash": f"{name}-{v:04d}".ljust(64, "0"),
                        "kind": "text",
                        "template": f"{name} v{v}: {{{{ input }}}} (be brief{'!' * v})",
                        "syntax": "jinja",
                        "variables": {"input": None},
                        "config": {"model": "openai/gpt-4o-mini"},
                        "meta": {},
                        "message": f"version {v}",
                        "created_at": now - timedelta(days=newest - v),
                    },
                )
            conn.execute(
                prompt_labels.insert(),
                {"name": name, "label": "production", "version": newest, "updated_at": now},
            )
            conn.execute(
                label_history.insert(),
                {
                    "name": name,
                    "label": "production",
                    "to_version": newest,
                    "kind": "move",
                    "at": now,
                },  # fmt: skip
            )


def _built_runs(store: Store, big: int) -> tuple[str, list[str]]:
    """The big run and the small runs (oldest first) of a store built earlier."""
    with store.read() as conn:
        found = conn.execute(
            eval_runs.select()
            .with_only_columns(eval_runs.c.id, eval_runs.c.n_cases)
            .order_by(eval_runs.c.started_at)
        ).all()
    return next(r.id for r in found if r.n_cases == big), [r.id for r in found if r.n_cases != big]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


def measure(url: str, pages: dict[str, str], repeat: int) -> dict[str, Any]:
    port = _free_port()
    env = dict(os.environ, LLMLAB_DB=url, PYTHONPATH=str(ROOT / "src"))
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, llmlab; from llmlab.web import serve; "
            "serve(llmlab.open(sys.argv[1]), port=int(sys.argv[2]))",
            url,
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/favicon.ico")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
            rss_idle = peak_rss_mb(server.pid)
            figures: dict[str, Any] = {}
            for name, path in pages.items():
                api = (
                    "/api/overview" + path[1:]
                    if path.startswith("/?") or path == "/"
                    else "/api" + path
                )
                for twin in (path, api):
                    times = []
                    print(f"  {twin}", file=sys.stderr, flush=True)
                    for _ in range(repeat):
                        reply = client.get(twin)
                        assert reply.status_code == 200, (twin, reply.status_code, reply.text[:200])
                        timing = reply.headers["server-timing"]
                        times.append(float(timing.split("dur=")[1]))
                    key = name if twin == path else f"{name} (json)"
                    figures[key] = {
                        "p50_ms": round(statistics.median(times), 1),
                        "max_ms": round(max(times), 1),
                    }
            return {
                "pages": figures,
                "rss_idle_mb": rss_idle,
                "rss_peak_mb": peak_rss_mb(server.pid),
            }
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", help="build the store in this folder (kept)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the store already built in --keep"
    )
    parser.add_argument("--db", help="SQLAlchemy URL of an empty database (default: a temp file)")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="bench-web-")
    url = args.db or f"sqlite:///{folder}/llmlab.db"
    store = Store(url)
    built: dict[str, Any] = {}
    try:
        if args.reuse:
            big, small = _built_runs(store, args.big)
        else:
            t0 = time.perf_counter()
            built |= build_calls(store, args.calls, args.days)
            t1 = time.perf_counter()
            big, small = build_runs(store, args.runs, args.cases, args.big)
            built["runs_s"] = round(time.perf_counter() - t1, 1)
            build_prompts(store)
            built["total_build_s"] = round(time.perf_counter() - t0, 1)
        with store.read() as conn:
            some_call = conn.execute(calls.select().limit(1)).first()
        assert some_call is not None
    finally:
        store.close()
    pages = {
        "overview": "/",
        "overview 90d": "/?window=90d",
        "runs": "/runs",
        "runs filtered": "/runs?suite=qa&model=openai/gpt-4o",
        "runs search": "/runs?q=safety",
        "run 10k cases": f"/runs/{big}",
        "run 10k failed by score": f"/runs/{big}?failed=true&sort=score&desc=true",
        "run 10k search": f"/runs/{big}?q=case-09999",
        "run 10k last page": f"/runs/{big}?offset=9950",
        "case": f"/runs/{big}/cases/case-04242",
        "compare 200 cases": f"/compare?a={small[-1]}&b={small[-6]}",
        "compare 10k vs 200": f"/compare?a={big}&b={small[-1]}&differing=true",
        "prompts": "/prompts",
        "prompt (metrics over its calls)": "/prompts/qa?a=11&b=12",
        "experiments": "/experiments",
        "monitor 90d by day, by model": "/monitor?window=90d&grain=day&by=model",
        "monitor 7d by hour, by prompt": "/monitor?window=7d&grain=hour&by=prompt",
        "monitor 30d by tag": "/monitor?window=30d&grain=day&by=tag:feature",
        "calls": "/calls",
        "calls by model": "/calls?model=openai/gpt-4o",
        "calls errors": "/calls?status=error",
        "calls prompt@version": "/calls?prompt=summarize@3",
        "call": f"/calls/{some_call.id}",
        "labs": "/labs",
    }
    result = measure(url, pages, args.repeat)
    result |= {
        "calls": args.calls,
        "days": args.days,
        "runs": args.runs + 1,
        "big_run_cases": args.big,
        "build": built,
        "db_size_mb": round(Path(folder, "llmlab.db").stat().st_size / 2**20, 1)
        if not args.db
        else None,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result, indent=2))
    print("\n| page | HTML p50 / max ms | JSON p50 / max ms |\n|---|---|---|")
    for name in pages:
        h, j = result["pages"][name], result["pages"][f"{name} (json)"]
        print(f"| {name} | {h['p50_ms']} / {h['max_ms']} | {j['p50_ms']} / {j['max_ms']} |")
    slow = {k: v for k, v in result["pages"].items() if v["max_ms"] > 300}
    print(f"pages over 300 ms (max): {len(slow)}; peak RSS {result['rss_peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
