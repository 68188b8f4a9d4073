"""Migrations: an empty database upgraded to head has exactly the schema of the metadata."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from llmlab.store import Store, current_revision, head_revision, metadata
from llmlab.store._migrate import HEAD_REVISION


def _schema_diffs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _check_fresh_store(url: str) -> None:
    with Store(url, migrate=False) as raw:
        assert current_revision(raw) is None
        assert inspect(raw.engine).get_table_names() == []
    with Store(url) as store:  # migrates when opened
        assert current_revision(store) == head_revision()
        tables = set(inspect(store.engine).get_table_names())
        diffs = _schema_diffs(store.engine)
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert diffs == [], (
        f"the migration does not match the table metadata; run scripts/regen_migration.py: {diffs}"
    )


def test_sqlite_empty_database_migrates_to_the_metadata(tmp_path: Any) -> None:
    _check_fresh_store(str(tmp_path / "fresh.db"))


@pytest.mark.postgres
def test_postgres_empty_database_migrates_to_the_metadata(pg_url: str) -> None:
    _check_fresh_store(pg_url)


def test_head_is_the_single_initial_migration() -> None:
    assert head_revision() == "0001_initial"
    assert head_revision() == HEAD_REVISION  # the constant that spares loading Alembic
