"""The OpenAI chat-completions wire format: request reading, JSON bodies and SSE chunks.

Usage: ``prompt_tokens`` = input words + cache-read + cache-write tokens (OpenAI counts
cached tokens inside the prompt), ``prompt_tokens_details.cached_tokens`` = cache-read and
``prompt_tokens_details.cache_write_tokens`` = cache-write tokens; ``completion_tokens`` =
reply words + reasoning tokens, with ``completion_tokens_details.reasoning_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NotRequired, TypedDict

from llmlab._json import JsonValue
from llmlab.testing._replies import ReplyScript, Turn, int_or_none, plan_turn, text_of

__all__ = [
    "OpenAICompletion",
    "OpenAIError",
    "OpenAIUsage",
    "openai_completion",
    "openai_error",
    "openai_stream",
    "openai_turn",
    "sse",
]

_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}


class _PromptDetails(TypedDict):
    cached_tokens: int
    cache_write_tokens: int
    audio_tokens: int


class _CompletionDetails(TypedDict):
    reasoning_tokens: int
    audio_tokens: int
    accepted_prediction_tokens: int
    rejected_prediction_tokens: int


class OpenAIUsage(TypedDict):
    """``usage`` of a chat completion."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: _PromptDetails
    completion_tokens_details: _CompletionDetails


class _Message(TypedDict):
    role: str
    content: str
    refusal: None


class _Choice(TypedDict):
    index: int
    message: _Message
    logprobs: None
    finish_reason: str


class OpenAICompletion(TypedDict):
    """A ``chat.completion`` body."""

    id: str
    object: str
    created: int
    model: str
    system_fingerprint: str
    choices: list[_Choice]
    usage: NotRequired[OpenAIUsage]


class _Delta(TypedDict, total=False):
    role: str
    content: str
    refusal: None


class _ErrorDetail(TypedDict):
    message: str
    type: str
    param: None
    code: str


class OpenAIError(TypedDict):
    """An error body."""

    error: _ErrorDetail


def sse(data: str | Mapping[str, object], event: str | None = None) -> bytes:
    """One server-sent event."""
    head = f"event: {event}\n" if event else ""
    body = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"{head}data: {body}\n\n".encode()


def openai_turn(body: Mapping[str, JsonValue], script: ReplyScript) -> Turn:
    """Compute the answer to a chat-completions request body."""
    listed = body.get("messages")
    messages = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    texts = [text_of(m.get("content")) for m in messages]
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    stop = body.get("stop")
    schema = None
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = (spec.get("schema") if isinstance(spec, dict) else None) or {"type": "object"}
    elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
        schema = {"type": "object", "properties": {"reply": {"type": "string"}}}
    return plan_turn(
        model=str(body.get("model", "")),
        texts=texts,
        prompt=users[-1] if users else "",
        script=script,
        max_tokens=int_or_none(body.get("max_completion_tokens") or body.get("max_tokens")),
        stop=[stop]
        if isinstance(stop, str)
        else [s for s in stop if isinstance(s, str)]
        if isinstance(stop, list)
        else [],
        schema=schema,
    )


def _usage(turn: Turn, cache: tuple[int, int], reasoning: int) -> OpenAIUsage:
    cache_read, cache_write = cache
    prompt = turn.input_tokens + cache_read + cache_write
    completion = turn.output_tokens + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {
            "cached_tokens": cache_read,
            "cache_write_tokens": cache_write,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def openai_completion(
    turn: Turn, *, call_id: str, created: int, cache: tuple[int, int], reasoning: int, usage: bool
) -> OpenAICompletion:
    """A ``chat.completion`` object; without ``usage`` when ``usage`` is false."""
    out: OpenAICompletion = {
        "id": call_id,
        "object": "chat.completion",
        "created": created,
        "model": turn.model,
        "system_fingerprint": "fp_llmlab",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": turn.reply, "refusal": None},
                "logprobs": None,
                "finish_reason": _FINISH[turn.finish],
            }
        ],
    }
    if usage:
        out["usage"] = _usage(turn, cache, reasoning)
    return out


def openai_stream(
    turn: Turn,
    pieces: list[str],
    *,
    call_id: str,
    created: int,
    cache: tuple[int, int],
    reasoning: int,
    include_usage: bool,
) -> list[bytes]:
    """The SSE events of a streamed completion, ``[DONE]`` included, one item per event."""
    head: dict[str, JsonValue] = {
        "id": call_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": turn.model,
        "system_fingerprint": "fp_llmlab",
    }
    if include_usage:
        head["usage"] = None

    def chunk(delta: _Delta, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse({**head, "choices": [choice]})

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events.extend(chunk({"content": piece}) for piece in pieces if piece)
    events.append(chunk({}, _FINISH[turn.finish]))
    if include_usage:
        events.append(sse({**head, "choices": [], "usage": _usage(turn, cache, reasoning)}))
    events.append(sse("[DONE]"))
    return events


def openai_error(status: int, message: str) -> OpenAIError:
    """An OpenAI error body."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}
