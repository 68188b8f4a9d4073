"""Each injected fault, as the official SDKs see it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from llmlab.testing import WireServer


@pytest.fixture
async def oai(wire_server: WireServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=wire_server.openai_base_url, api_key="sk-test", max_retries=0, timeout=5
    ) as c:
        yield c


@pytest.fixture
async def ant(wire_server: WireServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=wire_server.url, api_key="ak-test", max_retries=0, timeout=5
    ) as c:
        yield c


USER: Any = [{"role": "user", "content": "a b c"}]


async def _openai_call(client: openai.AsyncOpenAI, **extra: Any) -> Any:
    return await client.chat.completions.create(model="m", messages=USER, **extra)


async def _anthropic_call(client: anthropic.AsyncAnthropic, **extra: Any) -> Any:
    return await client.messages.create(model="m", max_tokens=50, messages=USER, **extra)


async def test_429_carries_retry_after(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    wire_server.faults.add("429", count=2, retry_after=2)
    with pytest.raises(openai.RateLimitError) as oerr:
        await _openai_call(oai)
    with pytest.raises(anthropic.RateLimitError) as aerr:
        await _anthropic_call(ant)
    assert oerr.value.response.headers["retry-after"] == "2"
    assert aerr.value.response.headers["retry-after"] == "2"
    assert aerr.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "injected fault 429"},
    }
    assert (await _openai_call(oai)).choices[0].message.content == "echo: a b c"  # used up
    assert [r.fault for r in wire_server.requests] == ["429", "429", None]


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic, status: int
) -> None:
    wire_server.faults.add(status, count=2)
    with pytest.raises(openai.APIStatusError) as oerr:
        await _openai_call(oai)
    with pytest.raises(anthropic.APIStatusError) as aerr:
        await _anthropic_call(ant)
    assert oerr.value.status_code == status
    assert aerr.value.status_code == status


async def test_sdk_retries_honour_retry_after_and_are_counted(wire_server: WireServer) -> None:
    wire_server.faults.add("429", count=2, retry_after=0.2)
    async with openai.AsyncOpenAI(
        base_url=wire_server.openai_base_url, api_key="sk-test", max_retries=2
    ) as client:
        start = time.perf_counter()
        r = await _openai_call(client)
        elapsed = time.perf_counter() - start
    assert r.choices[0].message.content == "echo: a b c"
    assert elapsed >= 0.4
    assert wire_server.count("/v1/chat/completions") == 3
    assert [q.headers["x-stainless-retry-count"] for q in wire_server.requests] == ["0", "1", "2"]


async def test_hang_times_out(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    wire_server.faults.add("hang", count=2)
    with pytest.raises(openai.APITimeoutError):
        await _openai_call(oai, timeout=0.3)
    with pytest.raises(anthropic.APITimeoutError):
        await _anthropic_call(ant, timeout=0.3)
    assert wire_server.count() == 2


async def test_drop_is_a_connection_error(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    wire_server.faults.add("drop", count=2)
    with pytest.raises(openai.APIConnectionError) as oerr:
        await _openai_call(oai)
    assert not isinstance(oerr.value, openai.APITimeoutError)
    with pytest.raises(anthropic.APIConnectionError):
        await _anthropic_call(ant)


async def test_malformed_body_fails_to_decode(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    wire_server.faults.add("malformed", count=4)
    with pytest.raises(json.JSONDecodeError):
        await _openai_call(oai)
    with pytest.raises(json.JSONDecodeError):
        await _anthropic_call(ant)
    with pytest.raises(json.JSONDecodeError):
        stream = await _openai_call(oai, stream=True)
        _ = [c async for c in stream]
    with pytest.raises(json.JSONDecodeError):
        async with ant.messages.stream(model="m", max_tokens=9, messages=USER) as astream:
            await astream.get_final_message()


async def test_missing_usage(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    wire_server.faults.add("no_usage", count=3)
    r = await _openai_call(oai)
    assert r.choices[0].message.content == "echo: a b c"
    assert r.usage is None
    stream = await _openai_call(oai, stream=True, stream_options={"include_usage": True})
    chunks = [c async for c in stream]
    assert chunks and all(c.usage is None for c in chunks)
    m = await _anthropic_call(ant)
    assert m.content[0].text == "echo: a b c"
    assert m.usage is None


async def test_stream_broken_midway(wire_server: WireServer, oai: openai.AsyncOpenAI) -> None:
    wire_server.faults.add("drop", after_chunks=2)
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        stream = await _openai_call(oai, stream=True)
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["", "echo: "]  # the role chunk, then one word, then nothing
    wire_server.faults.add("hang", after_chunks=1)
    with pytest.raises(openai.APITimeoutError):
        stream = await _openai_call(oai, stream=True, timeout=0.3)
        _ = [c async for c in stream]


async def test_fault_only_for_one_api(
    wire_server: WireServer, oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic
) -> None:
    wire_server.faults.add(500, api="anthropic")
    assert (await _openai_call(oai)).choices[0].message.content == "echo: a b c"
    with pytest.raises(anthropic.InternalServerError):
        await _anthropic_call(ant)


async def test_fault_by_request_header(wire_server: WireServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=wire_server.openai_base_url,
        api_key="sk-test",
        max_retries=0,
        default_headers={"x-llmlab-fault": "429:retry_after=3"},
    ) as client:
        for _ in range(2):  # every request that carries the header
            with pytest.raises(openai.RateLimitError) as err:
                await _openai_call(client)
            assert err.value.response.headers["retry-after"] == "3"
        with pytest.raises(openai.BadRequestError, match="unknown fault kind"):
            await _openai_call(client, extra_headers={"x-llmlab-fault": "nonsense"})
    assert wire_server.faults.active == []


async def test_control_endpoints(wire_server: WireServer, oai: openai.AsyncOpenAI) -> None:
    async with httpx.AsyncClient(base_url=wire_server.url) as http:
        r = await http.post("/_control/faults", json={"spec": "503:count=1"})
        assert r.status_code == 200
        assert r.json()["faults"][0]["kind"] == "503"
        r = await http.post("/_control/faults", json={"kind": "500", "count": 5})
        assert len(r.json()["faults"]) == 2
        assert (await http.post("/_control/faults", json={"kind": "boom"})).status_code == 400
        with pytest.raises(openai.InternalServerError) as err:
            await _openai_call(oai)
        assert err.value.status_code == 503
        assert (await http.delete("/_control/faults")).json() == {"faults": []}
        r = await http.post("/_control/config", json={"cache_read_tokens": 9})
        assert r.json()["cache_read_tokens"] == 9
        assert (await http.post("/_control/config", json={"nope": 1})).status_code == 400
        usage = (await _openai_call(oai)).usage
        assert usage is not None and usage.prompt_tokens == 3 + 9
        stats = (await http.get("/_control/stats")).json()
        assert stats["counts"] == {"/v1/chat/completions": 2}
        assert stats["total"] == 2
        await http.post("/_control/reset")
        assert wire_server.count() == 0
        assert wire_server.config.cache_read_tokens == 0


async def test_stop_ends_hung_requests_promptly() -> None:
    srv = WireServer().start()
    try:
        srv.faults.add("hang")
        async with openai.AsyncOpenAI(
            base_url=srv.openai_base_url, api_key="sk-test", max_retries=0, timeout=30
        ) as client:
            call = asyncio.ensure_future(_openai_call(client))
            while srv.count() == 0:
                await asyncio.sleep(0.01)
            start = time.perf_counter()
            await asyncio.to_thread(srv.stop)
            assert time.perf_counter() - start < 1.5
            with pytest.raises(openai.APIConnectionError):
                await call
    finally:
        srv.stop()
