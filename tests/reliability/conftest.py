"""Fixtures of the reliability tests: one store per backend (SQLite file, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend: a new SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'llmlab.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def spill_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Spill files of server databases go under this folder (XDG_DATA_HOME), not $HOME."""
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


@pytest.fixture
def store(backend_url: str, spill_home: Path) -> Iterator[Store]:
    """An open store on each backend."""
    with Store(backend_url) as opened:
        yield opened
