"""The aiohttp application: routes, fault injection, latency and response writing.

Routes:

- ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic), ``GET /v1/models``
  (Anthropic's shape when the request has an ``anthropic-version`` header);
- ``GET /_control/stats``, ``POST /_control/reset``, ``POST|GET|DELETE /_control/faults``
  (body: a fault spec ``{"spec": "429:count=2"}`` or the fields of ``FaultPlan.add``),
  ``POST /_control/config`` (fields of :class:`ServerConfig`) — for other processes.

Per-request headers: ``x-llmlab-fault: SPEC`` injects a fault into that request only;
``x-llmlab-latency-ms: N`` replaces the configured latency for it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

from aiohttp import web
from pydantic import ValidationError

from llmlab._errors import ConfigError
from llmlab._json import JsonObject, JsonValue
from llmlab.testing._anthropic_wire import (
    AnthropicMessage,
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    anthropic_turn,
)
from llmlab.testing._faults import Api, Fault, parse_fault_spec
from llmlab.testing._openai_wire import (
    OpenAICompletion,
    openai_completion,
    openai_error,
    openai_stream,
    openai_turn,
)
from llmlab.testing._state import WireState

__all__ = ["STATE_KEY", "build_app"]

STATE_KEY = web.AppKey("llmlab_wire_state", WireState)
_SPLIT = re.compile(r"(?<=\s)(?=\S)")
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_BREAKING = ("hang", "drop", "malformed")
# An event whose JSON is cut short; Anthropic's SDK only decodes events it knows by name.
_MALFORMED_EVENT = {
    "openai": b'data: {"id": "broken", "choices": [{"delta": \n\n',
    "anthropic": b'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": \n\n',
}


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


def _error(
    api: Api, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = openai_error(status, message) if api == "openai" else anthropic_error(status, message)
    return _json(body, status, headers)


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering; aiohttp then skips writing the response."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response()


def _key_ok(request: web.Request, key: str) -> bool:
    return request.headers.get("x-api-key") == key or (
        request.headers.get("authorization") == f"Bearer {key}"
    )


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"}


async def _serve(request: web.Request, api: Api) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    body: JsonValue
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    spec = request.headers.get("x-llmlab-fault")
    try:
        fault = parse_fault_spec(spec)[0] if spec else state.faults.pick(api)
    except ConfigError as exc:
        state.record(request.method, request.path, request.headers, body, None)
        return _error(api, 400, f"bad x-llmlab-fault header: {exc}")
    state.record(request.method, request.path, request.headers, body, fault)
    config = state.config
    if config.api_key is not None and not _key_ok(request, config.api_key):
        # Echo the key sent, as some providers do: callers must keep it out of their logs.
        sent = request.headers.get("x-api-key") or request.headers.get("authorization") or ""
        sent = sent.removeprefix("Bearer ")
        return _error(
            api, 401, f"Incorrect API key provided: {sent} (the llmlab wire server has another)"
        )
    if not isinstance(body, dict):
        return _error(api, 400, "the request body must be a JSON object")
    stream = bool(body.get("stream"))
    breaks_stream = stream and fault is not None and fault.after_chunks is not None
    if fault is not None and fault.kind == "hang" and not breaks_stream:
        await state.hang()
        return _drop(request)
    latency = request.headers.get("x-llmlab-latency-ms")
    try:
        delay = state.delay_s(max(0.0, float(latency)) if latency else None)
    except ValueError:
        return _error(api, 400, f"bad x-llmlab-latency-ms header {latency!r}: use a number")
    if delay > 0:
        await asyncio.sleep(delay)
    if fault is not None:
        status = fault.status
        if status is not None:
            headers = _retry_after(fault.retry_after) if fault.retry_after is not None else None
            return _error(api, status, f"injected fault {fault.kind}", headers)
        if fault.kind == "drop" and not breaks_stream:
            return _drop(request)
    if stream:
        return await _stream(request, state, api, body, fault)
    return _complete(state, api, body, fault)


def _complete(state: WireState, api: Api, body: JsonObject, fault: Fault | None) -> web.Response:
    config = state.config
    usage = fault is None or fault.kind != "no_usage"
    data: OpenAICompletion | AnthropicMessage
    if api == "openai":
        data = openai_completion(
            openai_turn(body, state.replies),
            call_id=f"chatcmpl-llmlab{state.next_id():06d}",
            created=int(time.time()),
            cache=(config.cache_read_tokens, config.cache_write_tokens),
            reasoning=config.reasoning_tokens,
            usage=usage,
        )
    else:
        data = anthropic_message(
            anthropic_turn(body, state.replies),
            call_id=f"msg_llmlab{state.next_id():06d}",
            cache_read=config.cache_read_tokens,
            cache_write=config.cache_write_tokens,
            reasoning=config.reasoning_tokens,
            usage=usage,
        )
    if fault is not None and fault.kind == "malformed":
        text = json.dumps(data)
        return web.Response(text=text[: len(text) // 2], content_type="application/json")
    return _json(data)


def _events(state: WireState, api: Api, body: JsonObject, usage: bool) -> list[bytes]:
    config = state.config
    if api == "openai":
        turn = openai_turn(body, state.replies)
        options = body.get("stream_options")
        wants_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return openai_stream(
            turn,
            _SPLIT.split(turn.reply),
            call_id=f"chatcmpl-llmlab{state.next_id():06d}",
            created=int(time.time()),
            cache=(config.cache_read_tokens, config.cache_write_tokens),
            reasoning=config.reasoning_tokens,
            include_usage=usage and wants_usage,
        )
    turn = anthropic_turn(body, state.replies)
    return anthropic_stream(
        turn,
        _SPLIT.split(turn.reply),
        call_id=f"msg_llmlab{state.next_id():06d}",
        cache_read=config.cache_read_tokens,
        cache_write=config.cache_write_tokens,
        reasoning=config.reasoning_tokens,
        usage=usage,
    )


async def _stream(
    request: web.Request, state: WireState, api: Api, body: JsonObject, fault: Fault | None
) -> web.StreamResponse:
    events = _events(state, api, body, usage=fault is None or fault.kind != "no_usage")
    break_at = None
    if fault is not None and fault.kind in _BREAKING:
        break_at = fault.after_chunks or 0
    delay = state.config.chunk_delay_ms / 1000.0
    resp = web.StreamResponse(headers=_SSE_HEADERS)
    try:
        await resp.prepare(request)
        if break_at is None and not delay:
            await resp.write(b"".join(events))
            await resp.write_eof()
            return resp
        for index, event in enumerate(events):
            if index == break_at and fault is not None:
                if fault.kind == "malformed":
                    await resp.write(_MALFORMED_EVENT[api])
                    await resp.write_eof()
                    return resp
                if fault.kind == "hang":
                    await state.hang()
                return _drop(request)
            if index and delay:
                await asyncio.sleep(delay)
            await resp.write(event)
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away; nothing left to answer
    return resp


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    return await _serve(request, "openai")


async def _messages(request: web.Request) -> web.StreamResponse:
    return await _serve(request, "anthropic")


async def _models(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    state.record(request.method, request.path, request.headers, None, None)
    names = state.config.models
    if "anthropic-version" in request.headers:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in names
        ]
        first, last = (names[0], names[-1]) if names else (None, None)
        return _json({"data": data, "has_more": False, "first_id": first, "last_id": last})
    listed = [{"id": m, "object": "model", "created": 0, "owned_by": "llmlab"} for m in names]
    return _json({"object": "list", "data": listed})


async def _control_stats(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    return _json({"counts": state.counts, "total": state.count(), "faults": state.faults.active})


async def _control_reset(request: web.Request) -> web.StreamResponse:
    request.app[STATE_KEY].reset()
    return _json({"ok": True})


async def _control_faults(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if request.method == "DELETE":
        state.faults.clear()
    elif request.method == "POST":
        try:
            body = await request.json()
            if "spec" in body:
                state.faults.add_spec(str(body["spec"]))
            else:
                state.faults.add(**body)
        except (ValueError, TypeError, ConfigError) as exc:
            return _json({"error": f"bad fault: {exc}"}, 400)
    return _json({"faults": state.faults.active})


async def _control_config(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    try:
        for name, value in (await request.json()).items():
            setattr(state.config, name, value)
    except (ValueError, TypeError, AttributeError, ValidationError) as exc:
        return _json({"error": f"bad config: {exc}"}, 400)
    return _json(state.config.model_dump())


def build_app(state: WireState) -> web.Application:
    """The aiohttp application serving ``state``."""
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_post("/v1/chat/completions", _chat_completions)
    app.router.add_post("/v1/messages", _messages)
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/_control/stats", _control_stats)
    app.router.add_post("/_control/reset", _control_reset)
    app.router.add_route("*", "/_control/faults", _control_faults)
    app.router.add_post("/_control/config", _control_config)
    return app
