"""Fixtures for the prompts tests: a store handle of each test's own, on SQLite and on
PostgreSQL (the server named by LLMLAB_TEST_PG_URL; skipped when it is unset)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.prompts import PromptRegistry
from llmlab.store import Store, using_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """An open store on an empty database: the default handle and ``LLMLAB_DB`` (which
    the CLI and the recorder read) during the test, closed afterwards."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'llmlab.db'}"
    monkeypatch.setenv("LLMLAB_DB", url)
    with Store(url) as handle, using_store(handle):
        yield handle


@pytest.fixture
def registry(store: Store) -> PromptRegistry:
    return PromptRegistry()
