"""Fixtures for the monitoring tests: an open store on a fresh SQLite file (``store``, also
the default handle), and on PostgreSQL too when configured (``any_store``; ``pg_url`` comes
from tests/conftest.py). Stores are opened and closed per test: nothing global is reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmlab.monitor import _alerts, configure_alerts
from llmlab.store import Store


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("LLMLAB_ALERT_WEBHOOK", raising=False)
    configure_alerts(None)
    yield
    _alerts._explicit = False  # back to LLMLAB_ALERT_WEBHOOK for other test folders


@pytest.fixture
def store(llmlab_store: Store) -> Store:
    """An open store on a fresh SQLite file, the default handle during the test."""
    return llmlab_store


@pytest.fixture
def db_url(store: Store) -> str:
    """The URL of ``store`` (for subprocesses and the CLI)."""
    return store.url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, store: Store) -> Iterator[Store]:
    """Each test that takes this runs on SQLite and, when configured, PostgreSQL."""
    if request.param == "sqlite":
        yield store
        return
    with Store(str(request.getfixturevalue("pg_url"))) as pg:
        yield pg
