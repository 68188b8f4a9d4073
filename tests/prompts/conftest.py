"""Fixtures for the prompts tests: a temporary store per test, caches cleared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmlab.prompts import PromptRegistry, clear_prompt_cache
from llmlab.store import close_engines


@pytest.fixture
def store(llmlab_db: str) -> Iterator[str]:
    """A fresh SQLite store (LLMLAB_DB) with no cached prompts; engines closed after."""
    clear_prompt_cache()
    yield llmlab_db
    clear_prompt_cache()
    close_engines()


@pytest.fixture
def registry(store: str) -> PromptRegistry:
    return PromptRegistry()
