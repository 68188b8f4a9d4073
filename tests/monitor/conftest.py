"""Fixtures for the monitoring tests: a fresh SQLite store, and PostgreSQL when configured."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from llmlab.monitor import configure_alerts
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


@pytest.fixture
def db_url(tmp_path: os.PathLike[str]) -> str:
    """A fresh SQLite store file."""
    return f"sqlite:///{tmp_path}/llmlab.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema-less database URL (skipped without LLMLAB_TEST_PG_URL)."""
    base = os.environ.get("LLMLAB_TEST_PG_URL")
    if not base:
        pytest.skip("LLMLAB_TEST_PG_URL not set")
    name = f"llmlab_mon_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        yield url
        close_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """Each test that takes this runs on SQLite and, when configured, PostgreSQL."""
    if request.param == "sqlite":
        return db_url
    return str(request.getfixturevalue("pg_url"))
