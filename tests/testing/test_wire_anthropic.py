"""The wire server through the official Anthropic SDK: replies, usage, the event stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import jsonschema
import pytest

from llmlab.testing import WireServer


@pytest.fixture
async def client(wire_server: WireServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=wire_server.url, api_key="ak-test", max_retries=0, timeout=5
    ) as c:
        yield c


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_message_reply_and_cache_usage(
    wire_server: WireServer, client: anthropic.AsyncAnthropic
) -> None:
    wire_server.config.cache_read_tokens = 5
    wire_server.config.cache_write_tokens = 7
    m = await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        system="be brief",
        messages=[{"role": "user", "content": [{"type": "text", "text": "hello there"}]}],
    )
    assert m.content[0].type == "text"
    assert m.content[0].text == "echo: hello there"
    assert m.stop_reason == "end_turn"
    assert m.model == "claude-haiku-4-5"
    assert m.usage.input_tokens == 4  # words only; cache tokens are reported apart
    assert m.usage.cache_read_input_tokens == 5
    assert m.usage.cache_creation_input_tokens == 7
    assert m.usage.output_tokens == 3
    (seen,) = wire_server.requests
    assert seen.api_key == "ak-test"
    assert "anthropic-version" in seen.headers


async def test_raw_stream_has_the_api_event_sequence(client: anthropic.AsyncAnthropic) -> None:
    stream = await client.messages.create(
        model="m", max_tokens=100, messages=_user("x y"), stream=True
    )
    events = [e async for e in stream]
    kinds = [e.type for e in events]
    assert kinds == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, delta = events[0], events[-2]
    assert start.type == "message_start"
    assert start.message.usage.input_tokens == 2
    assert delta.type == "message_delta"
    assert delta.usage.output_tokens == 3
    assert delta.delta.stop_reason == "end_turn"


async def test_stream_helper_accumulates_text_and_usage(
    wire_server: WireServer, client: anthropic.AsyncAnthropic
) -> None:
    wire_server.config.cache_read_tokens = 2
    async with client.messages.stream(
        model="m", max_tokens=100, messages=_user("one two three")
    ) as stream:
        pieces = [t async for t in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(pieces) == "echo: one two three"
    assert len(pieces) == 4
    assert final.usage.input_tokens == 3
    assert final.usage.output_tokens == 4
    assert final.usage.cache_read_input_tokens == 2


async def test_stop_sequence_and_max_tokens(client: anthropic.AsyncAnthropic) -> None:
    m = await client.messages.create(
        model="m", max_tokens=100, stop_sequences=["STOP"], messages=_user("go STOP now")
    )
    assert m.content[0].type == "text"
    assert m.content[0].text == "echo: go "
    assert m.stop_reason == "stop_sequence"
    assert m.stop_sequence == "STOP"
    m = await client.messages.create(model="m", max_tokens=2, messages=_user("a b c"))
    assert m.stop_reason == "max_tokens"
    assert m.usage.output_tokens == 2


async def test_output_format_json_schema(client: anthropic.AsyncAnthropic) -> None:
    schema = {
        "type": "object",
        "properties": {"verdict": {"type": "string"}, "score": {"type": "number"}},
        "required": ["verdict", "score"],
        "additionalProperties": False,
    }
    m = await client.messages.create(
        model="m",
        max_tokens=100,
        messages=_user("judge"),
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    assert m.content[0].type == "text"
    jsonschema.validate(json.loads(m.content[0].text), schema)


async def test_models_list_in_anthropic_shape(client: anthropic.AsyncAnthropic) -> None:
    page = await client.models.list()
    assert [m.id for m in page.data] == ["gpt-4o-mini", "claude-haiku-4-5"]
