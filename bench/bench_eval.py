"""Benchmark: llmlab's eval runner next to a bare ``openai.AsyncOpenAI`` loop.

Same job for every contender: N cases (default 2,000 and 10,000) against the local
wire-format server running in its own process with 100 ms latency, concurrency 100, an
includes scorer. llmlab records every call (``calls`` table) and every result
(``eval_results``). The bare loops only call and score. Each contender runs in a fresh
process, one after the other in the same invocation, against the same server. The
figure compared (issue 8) is the whole process's CPU, start-up included: user + system
time of the child (all threads) from ``getrusage(RUSAGE_CHILDREN)`` in this parent, so
interpreter start, imports, opening the store and closing it (flushing every row) count.
llmlab's database is created (migrated) beforehand, as a user's second run finds it, and
llmlab's sources are compiled to bytecode first, as an installed package's are.
CPU and wall time of the run alone (after set-up) are given too; peak RSS is the whole
process's.

Reproduce (from the repository root)::

    .venv/bin/python bench/bench_eval.py            # llmlab vs bare aiohttp, 2k and 10k
    .venv/bin/python bench/bench_eval.py --cases 2000 --modes llmlab,bare-aiohttp,bare-httpx
    # memory flat in the number of cases (under a minute): peak RSS at 1k vs 10k
    .venv/bin/python bench/bench_eval.py --cases 1000 --modes llmlab-scripted
    .venv/bin/python bench/bench_eval.py --cases 10000 --modes llmlab-scripted

Not a test: numbers depend on the machine. Goals (issue 3): llmlab's CPU per case <= the
bare loop's, wall <= 1.2x the bare loop's, peak RSS <= 150 MB. Issue 8: CPU per case, start-up
included, <= the bare ``AsyncOpenAI`` loop on ``DefaultAioHttpClient`` (the SDK's leanest
use) at 2,000 and 10,000 cases; peak RSS at 10k <= 1k + 15 MB and <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODES = ("llmlab", "llmlab-httpx", "bare-httpx", "bare-aiohttp", "llmlab-scripted")
"""``llmlab`` runs on its default transport (aiohttp); ``llmlab-httpx`` on the SDK's own;
``llmlab-scripted`` on the scripted model (no HTTP: the runner, the store and the call
recording alone; not among the default modes)."""
SUITE = """\
name: bench
prompt: "{{ input }}"
dataset: samples.jsonl
scorers:
  - includes: "{{ target }}"
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_suite(folder: Path, n: int) -> Path:
    with (folder / "samples.jsonl").open("w") as handle:
        for i in range(n):
            row = {"id": str(i), "input": f"Repeat the word token{i}", "target": f"token{i}"}
            handle.write(json.dumps(row) + "\n")
    suite = folder / "suite.yaml"
    suite.write_text(SUITE)
    return suite


async def bare(base_url: str, folder: Path, concurrency: int, aiohttp: bool) -> dict[str, Any]:
    import openai

    rows = [json.loads(line) for line in (folder / "samples.jsonl").open()]
    http_client = openai.DefaultAioHttpClient() if aiohttp else None
    client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", http_client=http_client)
    gate = asyncio.Semaphore(concurrency)

    async def one(row: dict[str, str]) -> bool:
        async with gate:
            reply = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": row["input"]}]
            )
        return row["target"] in (reply.choices[0].message.content or "")

    start_cpu, start, start_main = _cpu(), time.perf_counter(), time.thread_time()
    passed = sum(await asyncio.gather(*(one(row) for row in rows)))
    wall, cpu = time.perf_counter() - start, _cpu() - start_cpu
    main_cpu = time.thread_time() - start_main
    await client.close()
    return {
        "cases": len(rows),
        "passed": passed,
        "wall_s": wall,
        "cpu_s": cpu,
        "main_thread_cpu_s": main_cpu,
    }


async def llmlab_scripted(folder: Path, concurrency: int) -> dict[str, Any]:
    import llmlab as lab
    from llmlab.evals import load_suite, run_eval
    from llmlab.models import scripted

    store = lab.open()
    bot = scripted(
        "bench", function=lambda request: "echo " + request.messages[-1].content, store=store
    )
    suite = load_suite(folder / "suite.yaml")
    start_cpu, start, start_main = _cpu(), time.perf_counter(), time.thread_time()
    run = await run_eval(
        suite,
        model="scripted/bench",
        concurrency=concurrency,
        cache=False,
        resume=False,
        store=store,
        # The scripted model keeps every request it saw; a real provider keeps none.
        progress=lambda state: bot.history.clear(),
    )
    wall, cpu = time.perf_counter() - start, _cpu() - start_cpu
    main_cpu = time.thread_time() - start_main
    store.close()
    return {
        "cases": run.summary["cases"],
        "passed": run.summary["passed"],
        "wall_s": wall,
        "cpu_s": cpu,
        "main_thread_cpu_s": main_cpu,
        "results": run.summary["results"],
    }


async def llmlab(base_url: str, folder: Path, concurrency: int, httpx: bool) -> dict[str, Any]:
    import llmlab as lab
    from llmlab.evals import load_suite, run_eval
    from llmlab.models import get_model

    suite = load_suite(folder / "suite.yaml")
    options: dict[str, Any] = {"base_url": base_url, "api_key": "sk-bench"}
    if httpx:
        options["http_client"] = "httpx"
    # Set-up before the clock, as the bare loop imports its SDK and makes its client
    # first: open the store and make the model (which imports the SDK and makes the
    # provider's client). The run uses that model: one client, as in the bare loop.
    store = lab.open()
    model = get_model("openai/gpt-4o-mini", store=store, **options)
    start_cpu, start, start_main = _cpu(), time.perf_counter(), time.thread_time()
    run = await run_eval(
        suite,
        model=model,
        concurrency=concurrency,
        cache=False,
        resume=False,
        model_options=options,
        store=store,
    )
    wall, cpu = time.perf_counter() - start, _cpu() - start_cpu
    main_cpu = time.thread_time() - start_main
    await model.aclose()
    store.close()  # every call row flushed
    # Counted with sqlite3, not through the store: checking the bench must not load
    # SQLAlchemy into a process whose run may not need it.
    with contextlib.closing(sqlite3.connect(os.environ["LLMLAB_DB"])) as conn:
        calls = conn.execute("select count(*) from calls").fetchone()[0]
    return {
        "cases": run.summary["cases"],
        "passed": run.summary["passed"],
        "wall_s": wall,
        "cpu_s": cpu,
        "main_thread_cpu_s": main_cpu,
        "recorded_calls": calls,
        "results": run.summary["results"],
    }


def worker(mode: str, base_url: str, folder: Path, concurrency: int) -> None:
    if mode == "llmlab-scripted":
        result = asyncio.run(llmlab_scripted(folder, concurrency))
    elif mode.startswith("llmlab"):
        result = asyncio.run(llmlab(base_url, folder, concurrency, mode.endswith("httpx")))
    else:
        result = asyncio.run(bare(base_url, folder, concurrency, mode.endswith("aiohttp")))
    result["peak_rss_mb"] = _peak_mb()
    print(json.dumps(result))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the wire server did not start")


def _contender(
    mode: str, folder: Path, port: int, concurrency: int, env: dict[str, str]
) -> dict[str, Any] | None:
    """Run one contender in a fresh process; its result with the whole process's CPU."""
    mode_env = {**env, "LLMLAB_DB": str(folder / f"{mode}.db")}
    if mode.startswith("llmlab"):
        # Create the database first, as a user's second run finds it: migrating a new file
        # (Alembic, about 1 s of CPU) is a one-off, not a cost of running an eval.
        subprocess.run(
            [sys.executable, "-m", "llmlab", "db", "upgrade"],
            env=mode_env,
            check=True,
            capture_output=True,
        )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            mode,
            "--dir",
            str(folder),
            "--base-url",
            f"http://127.0.0.1:{port}/v1",
            "--concurrency",
            str(concurrency),
        ],
        env=mode_env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # Start-up included: interpreter, imports, set-up, the run, closing (flushing) the store.
    result["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="2000,10000", help="comma-separated case counts")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--modes", default="llmlab,bare-aiohttp")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.base_url, args.dir, args.concurrency)
        return 0

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    # llmlab from this checkout runs from bytecode, as an installed package does (pip
    # compiles it at install) and as the SDK in site-packages does: without this, a
    # PYTHONDONTWRITEBYTECODE environment makes every llmlab process compile its ~100
    # modules again (about 50 ms of CPU here), which the bare loop never pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "llmlab")],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmlab.testing.server",
            "--port",
            str(port),
            "--latency-ms",
            str(args.latency_ms),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows: dict[str, dict[str, Any]] = {}
    try:
        _wait_for(port)
        for cases in (int(n) for n in args.cases.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                write_suite(folder, cases)
                for mode in args.modes.split(","):
                    result = _contender(mode, folder, port, args.concurrency, env)
                    if result is None:
                        return 1
                    rows[f"{mode} @ {cases}"] = result
                    print(f"{mode} @ {cases}: {result}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"concurrency {args.concurrency}, latency {args.latency_ms:g} ms, "
        f"load average {load} (1, 5, 15 min) at the end\n"
    )
    print(
        "| contender | cases | CPU ms/case (whole process) | CPU ms/case (run only) "
        "| of which main thread | wall s (run) | peak RSS MB | passed |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key, r in rows.items():
        mode = key.split(" @ ")[0]
        main_thread = r.get("main_thread_cpu_s")
        main_text = f"{1000 * main_thread / r['cases']:.2f}" if main_thread is not None else "-"
        print(
            f"| {mode} | {r['cases']} | {1000 * r['process_cpu_s'] / r['cases']:.2f} "
            f"| {1000 * r['cpu_s'] / r['cases']:.2f} | {main_text} | {r['wall_s']:.2f} "
            f"| {r['peak_rss_mb']:.0f} | {r['passed']}/{r['cases']} |"
        )
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
