"""Fixtures for the model tests: a fresh store (with its own models and scripts), fake
keys, the wire server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from llmlab.monitor import flush
from llmlab.store import Store, recent_calls
from llmlab.testing import WireServer

from .models_support import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY


@pytest.fixture(autouse=True)
def _isolated(llmlab_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_ANTHROPIC_KEY)
    for name in (
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_AUTH_TOKEN",
        "LLMLAB_OPENAI_COMPATIBLE_BASE_URL",
        "LLMLAB_OPENAI_COMPATIBLE_API_KEY",
        "LLMLAB_MODEL",
        "LLMLAB_CAPTURE_CONTENT",
        "LLMLAB_PRICES",
    ):
        monkeypatch.delenv(name, raising=False)
    # Models and scripts live in the test's store, which the plugin closes afterwards.
    yield
    flush(llmlab_store)


@pytest.fixture
async def close_after() -> AsyncIterator[Callable[[Any], Any]]:
    """Register models to close when the test ends (their HTTP clients live on its loop)."""
    opened: list[Any] = []

    def keep(model: Any) -> Any:
        opened.append(model)
        return model

    yield keep
    for model in opened:
        await model.aclose()


@pytest.fixture
def calls(llmlab_store: Store) -> Callable[[], list[dict[str, Any]]]:
    """Flush the recorder, then the recorded calls, oldest first."""

    def read() -> list[dict[str, Any]]:
        assert flush(llmlab_store)
        return list(reversed([c.to_dict() for c in recent_calls(llmlab_store, limit=1000)]))

    return read


@pytest.fixture
def server(wire_server: WireServer) -> WireServer:
    return wire_server
