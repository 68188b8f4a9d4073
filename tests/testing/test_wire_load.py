"""The wire server under concurrency, and its command-line entry point."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import pytest

from llmlab.testing import WireServer

SRC = Path(__file__).resolve().parents[2] / "src"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_200_concurrent_requests_overlap(wire_server: WireServer) -> None:
    wire_server.config.latency_ms = 50
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> str:
            url = f"{wire_server.openai_base_url}/chat/completions"
            async with session.post(url, json=BODY) as resp:
                assert resp.status == 200
                data = await resp.json()
                return str(data["choices"][0]["message"]["content"])

        start = time.perf_counter()
        replies = await asyncio.gather(*(one() for _ in range(200)))
        elapsed = time.perf_counter() - start
    assert replies == ["echo: hi"] * 200
    assert elapsed < 2.0  # one at a time would take 10 s
    assert wire_server.count("/v1/chat/completions") == 200
    assert len(wire_server.requests) == 200


async def test_latency_header_and_junk_requests(wire_server: WireServer) -> None:
    wire_server.config.latency_ms = 2000
    url = f"{wire_server.openai_base_url}/chat/completions"
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        async with session.post(url, json=BODY, headers={"x-llmlab-latency-ms": "0"}) as resp:
            assert resp.status == 200
        assert time.perf_counter() - start < 1.0
        junk = {"model": 3, "messages": ["x", {"role": "user", "content": 5}], "max_tokens": "9"}
        async with session.post(url, json=junk, headers={"x-llmlab-latency-ms": "0"}) as resp:
            assert resp.status == 200
            assert (await resp.json())["choices"][0]["message"]["content"] == "echo: "
        async with session.post(url, data=b"not json", headers={"x-llmlab-latency-ms": "0"}) as r:
            assert r.status == 400
            assert "JSON object" in (await r.json())["error"]["message"]
        async with session.post(url, json=BODY, headers={"x-llmlab-latency-ms": "soon"}) as r:
            assert r.status == 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_stopped(stop_signal: signal.Signals) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "llmlab.testing.server", "--port", str(port)]
    cmd += ["--latency-ms", "20", "--fault", "503:count=1"]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert f"http://127.0.0.1:{port}" in line, line
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            with httpx.Client() as http:
                first = http.post(url, json=BODY)
                second = http.post(url, json=BODY)
            assert first.status_code == 503
            assert second.status_code == 200
            assert second.json()["choices"][0]["message"]["content"] == "echo: hi"
        finally:
            proc.send_signal(stop_signal)
            _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_cli_rejects_a_bad_fault_spec() -> None:
    cmd = [sys.executable, "-m", "llmlab.testing.server", "--port", "0", "--fault", "418x"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=30)
    assert done.returncode == 2
    assert "unknown fault kind '418x'" in done.stderr
    assert json.dumps(done.stdout) == '""'
