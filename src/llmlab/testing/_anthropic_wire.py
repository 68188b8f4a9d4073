"""The Anthropic messages wire format: request reading, JSON bodies and the event stream.

Usage: ``input_tokens`` = input words (Anthropic reports cached tokens apart from it),
``cache_read_input_tokens`` / ``cache_creation_input_tokens`` as configured;
``output_tokens`` = reply words + reasoning tokens, with
``output_tokens_details.thinking_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, TypedDict

from llmlab._json import JsonValue
from llmlab.testing._openai_wire import sse
from llmlab.testing._replies import ReplyScript, Turn, int_or_none, plan_turn, text_of

__all__ = [
    "AnthropicError",
    "AnthropicMessage",
    "AnthropicUsage",
    "anthropic_error",
    "anthropic_message",
    "anthropic_stream",
    "anthropic_turn",
]

_STOP = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens"}
_EMPTY_TEXT = {"type": "text", "text": ""}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class _OutputDetails(TypedDict):
    thinking_tokens: int


class AnthropicUsage(TypedDict):
    """``usage`` of a message (``output_tokens_details`` is None in ``message_start``)."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    output_tokens_details: _OutputDetails | None
    service_tier: str


class _TextBlock(TypedDict):
    type: str
    text: str


class AnthropicMessage(TypedDict):
    """A ``message`` body."""

    id: str
    type: str
    role: str
    model: str
    content: list[_TextBlock]
    stop_reason: str | None
    stop_sequence: str | None
    usage: NotRequired[AnthropicUsage]


class _ErrorDetail(TypedDict):
    type: str
    message: str


class AnthropicError(TypedDict):
    """An error body."""

    type: str
    error: _ErrorDetail


def _schema(body: Mapping[str, JsonValue]) -> Mapping[str, JsonValue] | None:
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else body.get("output_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) and schema else {"type": "object"}
    return None


def anthropic_turn(body: Mapping[str, JsonValue], script: ReplyScript) -> Turn:
    """Compute the answer to a messages request body."""
    listed = body.get("messages")
    messages = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    stops = body.get("stop_sequences")
    texts = [text_of(body.get("system"))]
    texts += [text_of(m.get("content")) for m in messages]
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return plan_turn(
        model=str(body.get("model", "")),
        texts=texts,
        prompt=users[-1] if users else "",
        script=script,
        max_tokens=int_or_none(body.get("max_tokens")),
        stop=[s for s in stops if isinstance(s, str)] if isinstance(stops, list) else [],
        schema=_schema(body),
    )


def _usage(turn: Turn, cache_read: int, cache_write: int, reasoning: int) -> AnthropicUsage:
    return {
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens + reasoning,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens_details": {"thinking_tokens": reasoning},
        "service_tier": "standard",
    }


def _message(
    turn: Turn, call_id: str, content: list[_TextBlock], stopped: bool
) -> AnthropicMessage:
    return {
        "id": call_id,
        "type": "message",
        "role": "assistant",
        "model": turn.model,
        "content": content,
        "stop_reason": _STOP[turn.finish] if stopped else None,
        "stop_sequence": turn.stop_sequence if stopped else None,
    }


def anthropic_message(
    turn: Turn, *, call_id: str, cache_read: int, cache_write: int, reasoning: int, usage: bool
) -> AnthropicMessage:
    """A ``message`` object; without ``usage`` when ``usage`` is false."""
    out = _message(turn, call_id, [{"type": "text", "text": turn.reply}], stopped=True)
    if usage:
        out["usage"] = _usage(turn, cache_read, cache_write, reasoning)
    return out


def anthropic_stream(
    turn: Turn,
    pieces: list[str],
    *,
    call_id: str,
    cache_read: int,
    cache_write: int,
    reasoning: int,
    usage: bool,
) -> list[bytes]:
    """The events of a streamed message, in the API's order, one item per event.

    ``message_start`` carries the input side of usage (output 1, as the API does), the
    closing ``message_delta`` the final, cumulative usage. Without ``usage`` both omit it.
    """
    final = _usage(turn, cache_read, cache_write, reasoning)
    start = _message(turn, call_id, [], stopped=False)
    if usage:
        start["usage"] = {**final, "output_tokens": 1, "output_tokens_details": None}
    delta: dict[str, object] = {
        "type": "message_delta",
        "delta": {"stop_reason": _STOP[turn.finish], "stop_sequence": turn.stop_sequence},
    }
    if usage:
        delta["usage"] = final
    events = [
        sse({"type": "message_start", "message": start}, "message_start"),
        sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
        sse({"type": "ping"}, "ping"),
    ]
    events.extend(
        sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
        for p in pieces
        if p
    )
    events.append(sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    events.append(sse(delta, "message_delta"))
    events.append(sse({"type": "message_stop"}, "message_stop"))
    return events


def anthropic_error(status: int, message: str) -> AnthropicError:
    """An Anthropic error body."""
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
