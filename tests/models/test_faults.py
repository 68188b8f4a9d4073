"""Injected faults: the right retries (count, Retry-After honoured) and a recorded failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from llmlab import ModelTimeout, ProviderError, RetriesExhausted
from llmlab.models import Request, TextDelta, get_model
from llmlab.testing import WireServer

from .models_support import FAST

Keep = Callable[[Any], Any]
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


def model_for(api: str, server: WireServer, keep: Keep, **opts: Any) -> Any:
    options = {**FAST, **opts}
    if api == "openai":
        return keep(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url, **options))
    return keep(get_model("anthropic/claude-haiku-4-5", base_url=server.url, **options))


api = pytest.mark.parametrize("api", ["openai", "anthropic"])


@api
async def test_429_retry_after_is_honoured(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("429", count=2, retry_after=0.4)
    model = model_for(api, server, close_after)
    response = await model.generate(Request.of("hi"))
    assert response.text == "echo: hi"
    arrivals = [r.at for r in server.requests]
    assert len(arrivals) == 3
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # The backoff alone would wait at most 0.05 s; the server asked for 0.4 s.
    assert all(gap >= 0.39 for gap in gaps), gaps
    (row,) = calls()
    assert row["status"] == "ok" and row["attempts"] == 3


@api
async def test_429_to_the_end_is_a_recorded_rate_limit_failure(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("429", count=10, retry_after=0.2)
    model = model_for(api, server, close_after, max_retries=2)
    start = time.perf_counter()
    with pytest.raises(RetriesExhausted) as caught:
        await model.generate(Request.of("hi"))
    assert time.perf_counter() - start >= 0.39  # two waits of the server's Retry-After
    assert caught.value.attempts == 3 and caught.value.last_error.status_code == 429
    assert server.count(PATHS[api]) == 3
    (row,) = calls()
    assert (row["status"], row["error_type"], row["attempts"]) == ("error", "rate_limited", 3)
    assert row["cost"] == 0 and row["price_source"] == "no answer: not billed"


@api
@pytest.mark.parametrize("status", ["500", "503"])
async def test_server_errors_exhaust_retries(
    api: str, status: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add(status, count=10)
    model = model_for(api, server, close_after, max_retries=2)
    with pytest.raises(RetriesExhausted) as caught:
        await model.generate(Request.of("hi"))
    assert caught.value.attempts == 3
    assert caught.value.last_error.status_code == int(status)
    message = str(caught.value)
    assert model.full_name in message and status in message
    assert server.count(PATHS[api]) == 3
    (row,) = calls()
    assert row["status"] == "error"
    assert row["attempts"] == 3
    assert row["error_type"] in ("server_error", "overloaded")
    assert model.full_name in row["error_message"]


@api
async def test_default_is_four_retries(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("500", count=10)
    with pytest.raises(RetriesExhausted):
        await model_for(api, server, close_after).generate(Request.of("hi"))
    assert server.count(PATHS[api]) == 5
    assert calls()[0]["attempts"] == 5


@api
async def test_hang_past_timeout_is_retried_then_fails(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("hang", count=2)
    model = model_for(api, server, close_after, timeout_s=0.3, max_retries=1)
    start = time.perf_counter()
    with pytest.raises(RetriesExhausted) as caught:
        await model.generate(Request.of("hi"))
    assert time.perf_counter() - start >= 0.6
    assert isinstance(caught.value.last_error, ModelTimeout)
    assert server.count(PATHS[api]) == 2
    (row,) = calls()
    assert (row["status"], row["error_type"], row["attempts"]) == ("error", "timeout", 2)


@api
async def test_hang_once_then_answer(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("hang", count=1)
    model = model_for(api, server, close_after, timeout_s=0.3)
    assert (await model.generate(Request.of("hi"))).text == "echo: hi"
    assert calls()[0]["attempts"] == 2


@api
@pytest.mark.parametrize("fault", ["drop", "malformed"])
async def test_dropped_connection_and_malformed_json_are_retried(
    api: str, fault: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add(fault, count=1)
    model = model_for(api, server, close_after)
    assert (await model.generate(Request.of("hi"))).text == "echo: hi"
    assert server.count(PATHS[api]) == 2
    (row,) = calls()
    assert row["status"] == "ok" and row["attempts"] == 2


@api
@pytest.mark.parametrize(
    ("fault", "error_type"), [("drop", "connection"), ("malformed", "malformed_response")]
)
async def test_persistent_fault_is_recorded(
    api: str, fault: str, error_type: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add(fault, count=10)
    with pytest.raises(RetriesExhausted):
        await model_for(api, server, close_after, max_retries=1).generate(Request.of("hi"))
    (row,) = calls()
    assert (row["status"], row["error_type"], row["attempts"]) == ("error", error_type, 2)


@api
async def test_client_errors_are_not_retried(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("400", count=5)
    with pytest.raises(ProviderError) as caught:
        await model_for(api, server, close_after).generate(Request.of("hi"))
    assert not isinstance(caught.value, RetriesExhausted)
    assert caught.value.status_code == 400 and not caught.value.retryable
    assert server.count(PATHS[api]) == 1
    (row,) = calls()
    assert (row["status"], row["error_type"], row["attempts"]) == ("error", "bad_request", 1)


@api
async def test_stream_retries_before_the_first_piece(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("503", count=1)
    items = [i async for i in model_for(api, server, close_after).stream(Request.of("a b c"))]
    assert items[-1].text == "echo: a b c"
    (row,) = calls()
    assert row["status"] == "ok" and row["attempts"] == 2 and row["streamed"]


@api
async def test_stream_broken_midway_is_not_retried(
    api: str, server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("drop", count=1, after_chunks=5)
    model = model_for(api, server, close_after)
    received: list[str] = []
    with pytest.raises(ProviderError) as caught:
        async for item in model.stream(Request.of("one two three four five six")):
            if isinstance(item, TextDelta):
                received.append(item.text)
    assert received  # text had already arrived, so a retry would duplicate it
    assert caught.value.error_type == "connection"
    assert server.count(PATHS[api]) == 1
    (row,) = calls()
    assert row["status"] == "error" and row["streamed"] and row["error_type"] == "connection"


async def test_attempts_count_retries_before_a_final_client_error(
    server: WireServer, close_after: Keep, calls: Any
) -> None:
    server.faults.add("503", count=1)
    server.faults.add("400", count=1)
    with pytest.raises(ProviderError) as caught:
        await model_for("openai", server, close_after).generate(Request.of("hi"))
    assert caught.value.status_code == 400
    (row,) = calls()
    assert (row["error_type"], row["attempts"]) == ("bad_request", 2)
