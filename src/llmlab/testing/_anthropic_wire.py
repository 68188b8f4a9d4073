"""The Anthropic messages wire format: request reading, JSON bodies and the event stream.

Usage: ``input_tokens`` = input words (Anthropic reports cached tokens apart from it),
``cache_read_input_tokens`` / ``cache_creation_input_tokens`` as configured;
``output_tokens`` = reply words + reasoning tokens, with
``output_tokens_details.thinking_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmlab.testing._openai_wire import sse
from llmlab.testing._replies import ReplyScript, Turn, int_or_none, plan_turn, text_of

__all__ = ["anthropic_error", "anthropic_message", "anthropic_stream", "anthropic_turn"]

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


def _schema(body: Mapping[str, Any]) -> Any:
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else body.get("output_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return fmt.get("schema") or {"type": "object"}
    return None


def anthropic_turn(body: Mapping[str, Any], script: ReplyScript) -> Turn:
    """Compute the answer to a messages request body."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    texts = [text_of(body.get("system"))]
    texts += [text_of(m.get("content")) for m in messages]
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return plan_turn(
        model=str(body.get("model", "")),
        texts=texts,
        prompt=users[-1] if users else "",
        script=script,
        max_tokens=int_or_none(body.get("max_tokens")),
        stop=[s for s in body.get("stop_sequences") or () if isinstance(s, str)],
        schema=_schema(body),
    )


def _usage(turn: Turn, cache_read: int, cache_write: int, reasoning: int) -> dict[str, Any]:
    return {
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens + reasoning,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens_details": {"thinking_tokens": reasoning},
        "service_tier": "standard",
    }


def _message(turn: Turn, call_id: str, content: list[Any], stopped: bool) -> dict[str, Any]:
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
) -> dict[str, Any]:
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
    delta: dict[str, Any] = {
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


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    """An Anthropic error body."""
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
