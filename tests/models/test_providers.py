"""OpenAI and Anthropic through their official SDKs against the local wire server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price

from llmlab.models import Request, Response, TextDelta, get_model
from llmlab.testing import WireServer

from .models_support import FAST

Keep = Callable[[Any], Any]


def openai_model(server: WireServer, keep: Keep, name: str = "gpt-4o-mini", **opts: Any) -> Any:
    return keep(get_model(f"openai/{name}", base_url=server.openai_base_url, **FAST, **opts))


def anthropic_model(
    server: WireServer, keep: Keep, name: str = "claude-haiku-4-5", **opts: Any
) -> Any:
    return keep(get_model(f"anthropic/{name}", base_url=server.anthropic_base_url, **FAST, **opts))


REQUEST = Request.of("hello there world", system="be brief")  # 2 + 3 words of input


@pytest.fixture
def cached_server(server: WireServer) -> WireServer:
    server.config.cache_read_tokens = 7
    server.config.cache_write_tokens = 3
    server.config.reasoning_tokens = 2
    return server


@pytest.mark.parametrize("streamed", [False, True])
async def test_openai_usage_includes_cache_tokens(
    cached_server: WireServer, close_after: Keep, calls: Any, streamed: bool
) -> None:
    model = openai_model(cached_server, close_after)
    if streamed:
        items = [item async for item in model.stream(REQUEST)]
        response = items[-1]
        assert "".join(i.text for i in items[:-1] if isinstance(i, TextDelta)) == response.text
    else:
        response = await model.generate(REQUEST)
    assert isinstance(response, Response)
    assert response.text == "echo: hello there world"
    # prompt_tokens already holds the cached tokens: 5 words + 7 read + 3 written.
    assert response.usage.input_tokens == 15
    assert response.usage.cache_read_tokens == 7
    assert response.usage.cache_write_tokens == 3
    assert response.usage.output_tokens == 4 + 2
    assert response.usage.reasoning_tokens == 2
    assert response.usage_reported
    assert response.finish_reason == "stop"
    assert response.model == "gpt-4o-mini"

    expected = calc_price(
        GenaiUsage(input_tokens=15, output_tokens=6, cache_read_tokens=7, cache_write_tokens=3),
        model_ref="gpt-4o-mini",
        provider_id="openai",
    ).total_price
    assert response.cost == expected
    assert response.cost_status == "priced"

    (row,) = calls()
    assert row["id"] == response.call_id
    assert (row["input_tokens"], row["cache_read_tokens"], row["cache_write_tokens"]) == (15, 7, 3)
    assert (row["output_tokens"], row["reasoning_tokens"]) == (6, 2)
    assert row["cost"] == expected
    assert row["status"] == "ok"
    assert row["streamed"] is streamed
    assert row["provider"] == "openai" and row["requested_model"] == "gpt-4o-mini"


@pytest.mark.parametrize("streamed", [False, True])
async def test_anthropic_input_adds_cache_tokens(
    cached_server: WireServer, close_after: Keep, calls: Any, streamed: bool
) -> None:
    model = anthropic_model(cached_server, close_after)
    if streamed:
        response = [item async for item in model.stream(REQUEST)][-1]
    else:
        response = await model.generate(REQUEST)
    assert response.text == "echo: hello there world"
    # Anthropic's input_tokens excludes the cache; ours includes it: 5 + 7 + 3.
    assert response.usage.input_tokens == 15
    assert response.usage.cache_read_tokens == 7
    assert response.usage.cache_write_tokens == 3
    assert response.usage.output_tokens == 6
    assert response.usage.reasoning_tokens == 2
    assert response.finish_reason == "stop"  # end_turn, in the common vocabulary
    sent = cached_server.requests[-1].body
    assert sent["system"] == "be brief"
    assert [m["role"] for m in sent["messages"]] == ["user"]
    expected = calc_price(
        GenaiUsage(input_tokens=15, output_tokens=6, cache_read_tokens=7, cache_write_tokens=3),
        model_ref="claude-haiku-4-5",
        provider_id="anthropic",
    ).total_price
    # Cache reads and writes are priced apart from plain input: a wrong split would differ.
    plain = calc_price(
        GenaiUsage(input_tokens=15, output_tokens=6),
        model_ref="claude-haiku-4-5",
        provider_id="anthropic",
    ).total_price
    assert expected != plain
    assert response.cost == expected and response.cost_status == "priced"
    (row,) = calls()
    assert row["input_tokens"] == 15 and row["cost_status"] == "priced"
    assert row["cost"] == expected


async def test_streaming_records_time_to_first_token(
    server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.config.chunk_delay_ms = 60
    for model in (openai_model(server, close_after), anthropic_model(server, close_after)):
        items = [item async for item in model.stream(Request.of("one two three four"))]
        response = items[-1]
        assert sum(isinstance(i, TextDelta) for i in items) >= 3
        assert response.ttft_s is not None
        # Several more pieces came 60 ms apart after the first one.
        assert 0 < response.ttft_s < response.duration_s - 0.1
    rows = calls()
    assert len(rows) == 2
    for row in rows:
        assert row["streamed"] is True
        assert row["ttft_s"] is not None and 0 < row["ttft_s"] < row["duration_s"] - 0.1


async def test_missing_usage_is_marked_not_reported_and_unpriced(
    server: WireServer, close_after: Keep, calls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server.faults.add("no_usage", count=4)
    for model in (openai_model(server, close_after), anthropic_model(server, close_after)):
        response = await model.generate(Request.of("hi"))
        assert response.text == "echo: hi"
        assert not response.usage_reported
        assert response.usage.input_tokens == 0
        # Unknown token counts: charged the worst case, marked estimated, never a silent $0.
        assert response.cost and response.cost_status == "estimated"
        streamed = [item async for item in model.stream(Request.of("hi"))][-1]
        assert not streamed.usage_reported and streamed.cost_status == "estimated"
        assert f"{model.full_name} answered without token usage" in caplog.text
    rows = calls()
    assert len(rows) == 4
    assert all(r["status"] == "ok" and r["usage_reported"] is False for r in rows)
    assert all(r["cost"] > 0 and r["cost_status"] == "estimated" for r in rows)


async def test_request_parameters_reach_the_wire(server: WireServer, close_after: Keep) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    request = Request.of(
        "hi", temperature=0.2, max_tokens=50, stop=("END",), seed=7, json_schema=schema
    )
    await openai_model(server, close_after).generate(request)
    sent = server.requests[-1].body
    assert sent["temperature"] == 0.2
    assert sent["max_completion_tokens"] == 50
    assert sent["stop"] == ["END"]
    assert sent["seed"] == 7
    assert sent["response_format"]["json_schema"]["schema"] == schema

    response = await anthropic_model(server, close_after).generate(request)
    sent = server.requests[-1].body
    assert sent["temperature"] == 0.2
    assert sent["max_tokens"] == 50
    assert sent["stop_sequences"] == ["END"]
    assert sent["output_config"]["format"] == {"type": "json_schema", "schema": schema}
    assert set(json.loads(response.text)) == {"a"}


async def test_anthropic_prompt_json_mode_prefills(server: WireServer, close_after: Keep) -> None:
    server.replies.enqueue('"a": "x"}')
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    model = anthropic_model(server, close_after, json_mode="prompt")
    response = await model.generate(Request.of("hi", json_schema=schema))
    assert json.loads(response.text) == {"a": "x"}
    sent = server.requests[-1].body
    assert "output_config" not in sent
    assert sent["messages"][-1] == {"role": "assistant", "content": "{"}
    assert "JSON schema" in sent["system"]


async def test_openai_compatible_uses_max_tokens_and_base_url_env(
    server: WireServer, close_after: Keep, monkeypatch: pytest.MonkeyPatch, calls: Any
) -> None:
    monkeypatch.setenv("LLMLAB_OPENAI_COMPATIBLE_BASE_URL", server.openai_base_url)
    model = close_after(get_model("openai-compatible/Qwen/Qwen2.5-7B", **FAST))
    response = await model.generate(Request.of("hi", max_tokens=5))
    assert response.text == "echo: hi"
    sent = server.requests[-1]
    assert sent.body["max_tokens"] == 5 and sent.body["model"] == "Qwen/Qwen2.5-7B"
    # OPENAI_API_KEY is never sent to a third-party server.
    assert "llmlabtest" not in sent.headers.get("authorization", "")
    (row,) = calls()
    assert row["provider"] == "openai-compatible"
    assert row["cost_status"] == "unpriced" and row["cost"] is None


async def test_aiohttp_client_option(server: WireServer, close_after: Keep) -> None:
    model = openai_model(server, close_after, http_client="aiohttp")
    assert (await model.generate(Request.of("hi"))).text == "echo: hi"
    streamed = [item async for item in model.stream(Request.of("hi"))][-1]
    assert streamed.text == "echo: hi"


async def test_sdk_retries_are_off(server: WireServer, close_after: Keep) -> None:
    model = openai_model(server, close_after, max_retries=0)
    server.faults.add("503", count=3)
    with pytest.raises(Exception, match="503"):
        await model.generate(Request.of("hi"))
    assert server.count("/v1/chat/completions") == 1
