"""Fixtures for the monitoring tests: a fresh SQLite store, and PostgreSQL when configured
(``pg_url`` comes from tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from llmlab.monitor import _alerts, configure_alerts
from llmlab.monitor._budgets import invalidate_budget_cache
from llmlab.store import close_engines


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("LLMLAB_ALERT_WEBHOOK", raising=False)
    configure_alerts(None)
    invalidate_budget_cache()
    yield
    invalidate_budget_cache()
    close_engines()
    _alerts._explicit = False  # back to LLMLAB_ALERT_WEBHOOK for other test folders


@pytest.fixture
def db_url(tmp_path: os.PathLike[str]) -> str:
    """A fresh SQLite store file."""
    return f"sqlite:///{tmp_path}/llmlab.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """Each test that takes this runs on SQLite and, when configured, PostgreSQL."""
    if request.param == "sqlite":
        return db_url
    return str(request.getfixturevalue("pg_url"))
