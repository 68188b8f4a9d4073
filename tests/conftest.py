"""Shared fixtures. Each section belongs to one area; keep them separate."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

# --- PostgreSQL ---------------------------------------------------------------------------
# Tests marked ``postgres`` run against the server named by LLMLAB_TEST_PG_URL (started by
# scripts/start-postgres.sh, which .ci/run calls) and are skipped when it is unset.


def pg_base_url() -> str:
    """The server URL from LLMLAB_TEST_PG_URL, or skip the test."""
    base = os.environ.get("LLMLAB_TEST_PG_URL", "").strip()
    if not base:
        pytest.skip("LLMLAB_TEST_PG_URL not set (scripts/start-postgres.sh prints one)")
    return base


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    base = pg_base_url()
    name = f"llmlab_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin.url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- llmlab pytest plugin -----------------------------------------------------------------
# The plugin (wire_server, llmlab_db ...) is registered by the package's pytest11 entry point
# once llmlab is installed; load it here when running from a bare checkout (PYTHONPATH=src).


def pytest_configure(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if not (manager.has_plugin("llmlab") or manager.has_plugin("llmlab.testing._pytest_plugin")):
        manager.import_plugin("llmlab.testing._pytest_plugin")
