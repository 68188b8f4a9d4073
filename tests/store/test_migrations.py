"""Migrations: an empty database upgraded to head has exactly the schema of the metadata."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from llmlab.store import current_revision, get_engine, head_revision, metadata, unmigrated_engine


def _schema_diffs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _check_fresh_store(url: str) -> None:
    raw = unmigrated_engine(url)
    try:
        assert current_revision(raw) is None
        assert inspect(raw).get_table_names() == []
    finally:
        raw.dispose()
    engine = get_engine(url)  # migrates on first use
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    diffs = _schema_diffs(engine)
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
