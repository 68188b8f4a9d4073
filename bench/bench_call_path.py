"""CPU per model call on the client side: the bare SDK against llmlab's call path.

Starts the wire server in another process (so its CPU is not counted), then makes the
same N calls, C at a time, four ways, and prints the client process's CPU per call:

- ``sdk create()``: ``AsyncOpenAI.chat.completions.create`` on the aiohttp client, the
  SDK's leanest documented use (its request transform included);
- ``sdk post()``: the same client's ``post("/chat/completions", body=dict, cast_to=...)``,
  the SDK's documented way to send a ready body (no per-call request transform);
- ``llmlab generate()``: ``get_model("openai/...")`` into a temporary SQLite store: the
  whole call path (budget check, pricing, recording on a background thread);
- ``llmlab stream()``: the same through ``stream`` (what ``llmlab run`` uses);
- the same for Anthropic (``messages.create`` / ``post("/v1/messages")`` /
  ``get_model("anthropic/...")``).

Reproduce: ``PYTHONPATH=src python bench/bench_call_path.py [--calls 2000] [--concurrency 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import openai
from anthropic.types import Message
from openai.types.chat import ChatCompletion

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello to the benchmark, please."},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _drive(call: Callable[[], Awaitable[Any]], calls: int, concurrency: int) -> float:
    """CPU seconds this process spends on ``calls`` calls, ``concurrency`` at a time."""
    for _ in range(20):  # warm up: connections, imports, caches
        await call()
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - cpu


async def _bench(base_url: str, calls: int, concurrency: int) -> dict[str, float]:
    results: dict[str, float] = {}
    client = openai.AsyncOpenAI(
        api_key="sk-bench",
        base_url=base_url,
        max_retries=0,
        http_client=openai.DefaultAioHttpClient(),
    )

    async def create() -> Any:
        return await client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            max_completion_tokens=20,  # type: ignore[arg-type]
        )

    async def post() -> Any:
        body = {"model": MODEL, "messages": MESSAGES, "max_completion_tokens": 20}
        return await client.post("/chat/completions", body=body, cast_to=ChatCompletion)

    results["openai sdk create()"] = await _drive(create, calls, concurrency)
    results["openai sdk post()"] = await _drive(post, calls, concurrency)
    await client.close()

    root = base_url.removesuffix("/v1")
    claude = anthropic.AsyncAnthropic(
        api_key="sk-bench",
        base_url=root,
        max_retries=0,
        http_client=anthropic.DefaultAioHttpClient(),
    )
    user = [MESSAGES[1]]

    async def a_create() -> Any:
        return await claude.messages.create(
            model="claude-haiku-4-5",
            system=MESSAGES[0]["content"],
            messages=user,  # type: ignore[arg-type]
            max_tokens=20,
        )

    async def a_post() -> Any:
        body = {
            "model": "claude-haiku-4-5",
            "system": MESSAGES[0]["content"],
            "messages": user,
            "max_tokens": 20,
        }
        return await claude.post("/v1/messages", body=body, cast_to=Message)

    results["anthropic sdk create()"] = await _drive(a_create, calls, concurrency)
    results["anthropic sdk post()"] = await _drive(a_post, calls, concurrency)
    await claude.close()

    from llmlab.models import Request, get_model
    from llmlab.monitor import flush
    from llmlab.store import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db")
        model = get_model(f"openai/{MODEL}", store=store, base_url=base_url, api_key="sk-bench")
        request = Request.of(MESSAGES[1]["content"], system=MESSAGES[0]["content"], max_tokens=20)

        async def generate() -> Any:
            return await model.generate(request)

        async def stream() -> Any:
            async for item in model.stream(request):
                last = item
            return last

        results["llmlab openai generate()"] = await _drive(generate, calls, concurrency)
        results["llmlab openai stream()"] = await _drive(stream, calls, concurrency)
        await model.aclose()
        model = get_model(
            "anthropic/claude-haiku-4-5", store=store, base_url=root, api_key="sk-bench"
        )
        results["llmlab anthropic generate()"] = await _drive(generate, calls, concurrency)
        await model.aclose()
        flush(store)
        store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llmlab.testing.server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        results = asyncio.run(_bench(f"http://127.0.0.1:{port}/v1", args.calls, args.concurrency))
    finally:
        server.terminate()
        server.wait()
    print(f"| way | CPU per call (ms), {args.calls} calls, concurrency {args.concurrency} |")
    print("|---|---|")
    for name, cpu in results.items():
        print(f"| {name} | {cpu / args.calls * 1000:.3f} |")


if __name__ == "__main__":
    main()
