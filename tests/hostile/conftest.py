"""Every hostile test runs on a fresh store of its own, with no provider settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmlab.store import Store

_SETTINGS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "LLMLAB_OPENAI_COMPATIBLE_BASE_URL",
    "LLMLAB_OPENAI_COMPATIBLE_API_KEY",
    "LLMLAB_MODEL",
    "LLMLAB_PRICES",
)


@pytest.fixture(autouse=True)
def _isolated(llmlab_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    yield
