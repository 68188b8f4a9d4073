"""The wire server through the official OpenAI SDK: replies, usage, streaming, schema."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import openai
import pytest

from llmlab.testing import WireServer


@pytest.fixture
async def client(wire_server: WireServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=wire_server.openai_base_url, api_key="sk-test", max_retries=0, timeout=5
    ) as c:
        yield c


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_reply_echoes_last_user_message_with_exact_usage(
    wire_server: WireServer, client: openai.AsyncOpenAI
) -> None:
    wire_server.config.cache_read_tokens = 3
    wire_server.config.cache_write_tokens = 2
    wire_server.config.reasoning_tokens = 4
    messages: list[Any] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "hello big world"},
    ]
    r = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert r.choices[0].message.content == "echo: hello big world"
    assert r.choices[0].finish_reason == "stop"
    assert r.model == "gpt-4o-mini"
    usage = r.usage
    assert usage is not None
    assert usage.prompt_tokens == 8 + 3 + 2  # 8 words + cache read + cache write
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 3
    assert usage.prompt_tokens_details.cache_write_tokens == 2
    assert usage.completion_tokens == 4 + 4  # "echo: hello big world" + reasoning
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 4
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_api_key_and_body_are_recorded(
    wire_server: WireServer, client: openai.AsyncOpenAI
) -> None:
    await client.chat.completions.create(model="m", messages=_user("hi"), temperature=0.5)
    (seen,) = wire_server.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.api_key == "sk-test"
    assert seen.body["temperature"] == 0.5
    assert wire_server.count("/v1/chat/completions") == 1


async def test_wrong_api_key_is_refused_when_one_is_required(
    wire_server: WireServer, client: openai.AsyncOpenAI
) -> None:
    wire_server.config.api_key = "sk-right"
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="m", messages=_user("hi"))


async def test_stream_yields_the_reply_and_a_final_usage_chunk(
    client: openai.AsyncOpenAI,
) -> None:
    stream = await client.chat.completions.create(
        model="m",
        messages=_user("one two three"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 3
    assert chunks[-1].usage.completion_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])


async def test_stream_without_include_usage_has_no_usage(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="m", messages=_user("a b"), stream=True)
    chunks = [c async for c in stream]
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


async def test_latency_precedes_first_byte_and_chunk_delay_separates_ttft(
    wire_server: WireServer, client: openai.AsyncOpenAI
) -> None:
    wire_server.config.latency_ms = 100
    wire_server.config.chunk_delay_ms = 30
    start = time.perf_counter()
    stream = await client.chat.completions.create(
        model="m", messages=_user("w1 w2 w3 w4 w5"), stream=True
    )
    ttft = None
    async for chunk in stream:
        if ttft is None and chunk.choices and chunk.choices[0].delta.content:
            ttft = time.perf_counter() - start
    total = time.perf_counter() - start
    assert ttft is not None
    assert ttft >= 0.1
    assert total - ttft >= 5 * 0.03  # five more events after the first word, 30 ms apart


async def test_json_schema_reply_validates(client: openai.AsyncOpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "minLength": 3},
            "score": {"type": "integer", "minimum": 3},
            "ratio": {"type": "number"},
            "ok": {"type": "boolean"},
            "label": {"enum": ["good", "bad"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "detail": {"$ref": "#/$defs/Detail"},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["answer", "score", "ratio", "ok", "label", "tags", "detail", "maybe"],
        "additionalProperties": False,
        "$defs": {
            "Detail": {
                "type": "object",
                "properties": {"why": {"type": "string"}},
                "required": ["why"],
                "additionalProperties": False,
            }
        },
    }
    r = await client.chat.completions.create(
        model="m",
        messages=_user("grade this"),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "grade", "schema": schema, "strict": True},
        },
    )
    content = r.choices[0].message.content
    assert content is not None
    value = json.loads(content)
    jsonschema.validate(value, schema)
    assert value["answer"] == "echo: grade this"


async def test_max_tokens_cuts_the_reply(client: openai.AsyncOpenAI) -> None:
    r = await client.chat.completions.create(model="m", messages=_user("a b c d e f"), max_tokens=3)
    assert r.choices[0].message.content == "echo: a b"
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None
    assert r.usage.completion_tokens == 3


async def test_scripted_replies_queue_then_mapping_then_echo(
    wire_server: WireServer, client: openai.AsyncOpenAI
) -> None:
    wire_server.replies.enqueue("queued one")
    wire_server.replies.set({"2+2?": "4"})

    async def ask(text: str) -> str | None:
        r = await client.chat.completions.create(model="m", messages=_user(text))
        return r.choices[0].message.content

    assert await ask("2+2?") == "queued one"
    assert await ask("2+2?") == "4"
    assert await ask("other") == "echo: other"
    wire_server.replies.set(str.upper)
    assert await ask("shout") == "SHOUT"


async def test_models_list(client: openai.AsyncOpenAI) -> None:
    page = await client.models.list()
    assert [m.id for m in page.data] == ["gpt-4o-mini", "claude-haiku-4-5"]
