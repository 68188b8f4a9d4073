"""The managed call path: recording, links, capture, pricing states, budgets, cache, keys."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmlab import BudgetExceeded, ProviderError, RetriesExhausted
from llmlab.models import (
    AdaptiveLimiter,
    Request,
    Response,
    TextDelta,
    call_links,
    current_links,
    generate_sync,
    get_model,
    scripted,
)
from llmlab.models._redact import redact, register_secret
from llmlab.monitor import set_budget
from llmlab.testing import WireServer

from .models_support import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, FAST

Keep = Callable[[Any], Any]


async def test_scripted_call_is_recorded_with_links_tags_and_content(calls: Any) -> None:
    scripted("bot").enqueue("hello back to you")
    model = get_model("scripted/bot")
    request = Request.of("hi there", system="be nice", tags={"user": "ann"}, temperature=0.5)
    with call_links(eval_run="run-1", sample_id="s-3", epoch=2, prompt_name="greet"):
        response = await model.generate(request)
    assert response.text == "hello back to you"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 4)
    assert response.cost == Decimal(0) and response.cost_status == "local"
    (row,) = calls()
    assert row["id"] == response.call_id
    assert row["provider"] == "scripted" and row["requested_model"] == "bot"
    assert (row["input_tokens"], row["output_tokens"]) == (4, 4)
    assert row["cost_status"] == "local" and row["cost"] == Decimal(0)
    assert row["tags"] == {"user": "ann"}
    assert (row["eval_run"], row["sample_id"], row["epoch"]) == ("run-1", "s-3", 2)
    assert row["prompt_name"] == "greet"
    assert row["request"]["messages"][0] == {"role": "system", "content": "be nice"}
    assert row["request"]["temperature"] == 0.5
    assert row["response_text"] == "hello back to you"
    assert row["started_at"].tzinfo is not None
    assert row["duration_s"] >= 0 and row["ttft_s"] is None
    assert scripted("bot").history == [request]


async def test_content_capture_can_be_switched_off(
    calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMLAB_CAPTURE_CONTENT", "0")
    scripted("quiet").enqueue("secret answer")
    await get_model("scripted/quiet").generate(Request.of("secret question"))
    (row,) = calls()
    assert row["request"] is None and row["response_text"] is None
    assert row["output_tokens"] == 2


async def test_scripted_stream_yields_words_and_records_ttft(calls: Any) -> None:
    scripted("words").enqueue("one two three")
    items = [i async for i in get_model("scripted/words").stream(Request.of("go"))]
    assert [i.text for i in items if isinstance(i, TextDelta)] == ["one ", "two ", "three"]
    final = items[-1]
    assert isinstance(final, Response) and final.ttft_s is not None
    (row,) = calls()
    assert row["streamed"] is True and row["ttft_s"] is not None


async def test_scripted_queued_error_is_retried(calls: Any) -> None:
    scripted("flaky").enqueue(ProviderError("flaky", retryable=True, status_code=503), "ok")
    response = await get_model("scripted/flaky", **FAST).generate(Request.of("x"))
    assert response.text == "ok"
    assert calls()[0]["attempts"] == 2


async def test_scripted_function_and_exhausted_script(calls: Any) -> None:
    scripted("fn", function=lambda req: req.messages[-1].content.upper())
    assert (await get_model("scripted/fn").generate(Request.of("abc"))).text == "ABC"
    empty = get_model("scripted/empty")
    with pytest.raises(ProviderError, match="no reply queued"):
        await empty.generate(Request.of("x"))
    rows = calls()
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert rows[1]["error_type"] == "script_exhausted"


async def test_unknown_model_is_recorded_unpriced_with_a_warning(
    server: WireServer, close_after: Keep, calls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    model = close_after(
        get_model("openai/llmlab-no-such-model-x1", base_url=server.openai_base_url)
    )
    response = await model.generate(Request.of("hi"))
    assert response.cost is None and response.cost_status == "unpriced"
    (row,) = calls()
    assert row["cost"] is None and row["cost_status"] == "unpriced"
    assert row["input_tokens"] == 1 and row["output_tokens"] == 2
    assert "llmlab-no-such-model-x1" in caplog.text


async def test_hard_budget_refuses_and_records(
    server: WireServer, close_after: Keep, calls: Any, llmlab_db: str
) -> None:
    set_budget("tiny", Decimal("0.000001"), scope="model", value="openai/gpt-4o-mini")
    model = close_after(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url))
    with pytest.raises(BudgetExceeded):
        await model.generate(Request.of("hi", max_tokens=1000))
    assert server.count() == 0
    (row,) = calls()
    assert (row["status"], row["error_type"], row["attempts"]) == ("refused", "budget_exceeded", 0)


async def test_cache_hits_are_recorded_free_and_trials_are_separate(
    server: WireServer, close_after: Keep, calls: Any
) -> None:
    model = close_after(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url))
    cached = model.configured(cache=True)
    first = await cached.generate(Request.of("same question"))
    second = await cached.generate(Request.of("same question", tags={"t": "x"}))
    assert server.count() == 1
    assert not first.cache_hit and first.cost and first.cost > 0
    assert second.cache_hit and second.cost == Decimal(0) and second.text == first.text
    with call_links(epoch=1):
        await cached.generate(Request.of("same question"))
    assert server.count() == 2  # another trial is another sample
    streamed = [i async for i in cached.stream(Request.of("same question"))][-1]
    assert streamed.cache_hit and server.count() == 2
    await model.generate(Request.of("same question"))  # the cache is off by default
    assert server.count() == 3
    rows = calls()
    assert [r["cache_hit"] for r in rows] == [False, True, False, True, False]
    assert rows[1]["cost"] == Decimal(0) and rows[1]["input_tokens"] == first.usage.input_tokens


async def test_no_api_key_in_database_or_logs(
    server: WireServer,
    close_after: Keep,
    calls: Any,
    caplog: pytest.LogCaptureFixture,
    llmlab_db: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    openai_model = close_after(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url))
    anthropic_model = close_after(get_model("anthropic/claude-haiku-4-5", base_url=server.url))
    for model in (openai_model, anthropic_model):
        await model.generate(Request.of("hi"))
        [i async for i in model.stream(Request.of("hi"))]
    server.config.api_key = "the-right-key-is-another-one"  # now every call is refused: 401
    errors: list[str] = []
    for model in (openai_model, anthropic_model):
        with pytest.raises(ProviderError) as caught:
            await model.generate(Request.of("hi"))
        assert caught.value.status_code == 401
        # The server echoed the key it was sent; what we raise shows it masked.
        assert "Incorrect API key provided: ***" in str(caught.value)
        errors.append(str(caught.value))
    server.faults.add("500", count=20)
    server.config.api_key = None
    with pytest.raises(RetriesExhausted) as exhausted:
        await openai_model.generate(Request.of("hi"))
    errors.append(str(exhausted.value))
    rows = calls()
    assert len(rows) == 7
    # The key did reach the server (so it was in play), but nowhere of ours.
    assert any(FAKE_OPENAI_KEY in str(r.headers) for r in server.requests)
    db_path = Path(llmlab_db.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    for key in (FAKE_OPENAI_KEY, FAKE_ANTHROPIC_KEY):
        assert key.encode() not in stored
        assert key not in caplog.text
        assert all(key not in e for e in errors)
        assert all(key not in str(r) for r in rows)


def test_generate_sync_scripted_and_over_http(server: WireServer, calls: Any) -> None:
    scripted("sync").enqueue("done")
    assert generate_sync("go", "scripted/sync").text == "done"
    name = "openai/gpt-4o-mini"
    response = generate_sync("hi", get_model(name, base_url=server.openai_base_url), max_tokens=9)
    assert response.text == "echo: hi"
    # A second loop gets its own HTTP client (the first one's loop is gone).
    again = generate_sync(Request.of("hi"), get_model(name, base_url=server.openai_base_url))
    assert again.text == "echo: hi"
    assert len(calls()) == 3
    assert server.requests[0].body["max_completion_tokens"] == 9


def test_get_model_caches_instances() -> None:
    a = get_model("scripted/x", max_retries=1)
    assert get_model("scripted/x", max_retries=1) is a
    assert get_model("scripted/x", max_retries=2) is not a
    assert a.policy.max_retries == 1


async def test_attached_limiter_sees_rate_limits(
    server: WireServer, close_after: Keep, calls: Any
) -> None:
    limiter = AdaptiveLimiter(8, cooldown_s=0.0)
    model = close_after(get_model("openai/gpt-4o-mini", base_url=server.openai_base_url, **FAST))
    limited = model.configured(limiter=limiter)
    server.faults.add("429", count=2, retry_after=0.0)
    assert (await limited.generate(Request.of("hi"))).text == "echo: hi"
    assert limiter.overloads == 2
    assert limiter.limit == 2  # halved twice, then one success adds 1/2
    assert limiter.in_flight == 0
    assert model.limiter is None  # the original is unchanged


def test_redact_hides_keys_from_env_code_and_key_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "plain-secret-value-123")
    register_secret("code-given-secret-456")
    text = redact(
        "bad key plain-secret-value-123 / code-given-secret-456 / sk-abcdefghijklmnop "
        "/ Authorization: Bearer abc.def.ghi.jkl / key-value store"
    )
    assert "secret" not in text and "sk-abc" not in text and "abc.def" not in text
    assert "key-value store" in text


def test_call_links_nest_override_and_refuse_unknown_names() -> None:
    with call_links(eval_run="run-1", sample_id="a") as outer:
        with call_links(sample_id="b", epoch=3) as inner:
            assert (inner.eval_run, inner.sample_id, inner.epoch) == ("run-1", "b", 3)
            assert current_links() is inner
        assert current_links() is outer and outer.epoch is None
    assert current_links().eval_run is None
    with pytest.raises(TypeError, match="unknown link"), call_links(sample="x"):
        pass
