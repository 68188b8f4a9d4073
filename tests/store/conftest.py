"""Fixtures of the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An open store on an SQLite file and, when configured, on PostgreSQL."""
    url = (
        str(tmp_path / "llmlab.db")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    with Store(url) as store:
        yield store
