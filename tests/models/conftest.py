"""Fixtures for the model tests: a fresh store, fake keys, the wire server, clean caches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import llmlab.models._managed as managed
import llmlab.models._scripted as scripted_module
from llmlab.monitor import flush
from llmlab.monitor._budgets import invalidate_budget_cache
from llmlab.store import close_engines, get_engine, recent_calls
from llmlab.testing import WireServer

from .models_support import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY


@pytest.fixture(autouse=True)
def _isolated(llmlab_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
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
    invalidate_budget_cache()
    yield
    managed._models.clear()
    scripted_module._instances.clear()
    flush()
    invalidate_budget_cache()
    close_engines()


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
def calls(llmlab_db: str) -> Callable[[], list[dict[str, Any]]]:
    """Flush the recorder, then the recorded calls, oldest first."""

    def read() -> list[dict[str, Any]]:
        assert flush(llmlab_db)
        return list(reversed(recent_calls(get_engine(llmlab_db), limit=1000)))

    return read


@pytest.fixture
def server(wire_server: WireServer) -> WireServer:
    return wire_server
