"""Moments are stored as UTC and read back timezone-aware, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select

from llmlab.store import UtcDateTime


def _round_trip(url: str) -> None:
    metadata = MetaData()
    table = Table(
        "moments", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime())
    )
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        paris = timezone(timedelta(hours=1))
        local = datetime(2026, 11, 29, 3, 30, tzinfo=paris)
        naive = datetime(2026, 11, 29, 2, 30)  # taken as UTC
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"id": 1, "at": local}, {"id": 2, "at": naive}])
        with engine.connect() as conn:
            rows = dict(conn.execute(select(table.c.id, table.c.at)).all())
            later = conn.execute(
                select(table.c.id).where(table.c.at > datetime(2026, 11, 29, 3, 0, tzinfo=paris))
            ).scalars()
            assert sorted(later) == [1, 2]  # both are 02:30 UTC, after 02:00 UTC
        expected = datetime(2026, 11, 29, 2, 30, tzinfo=UTC)
        assert rows == {1: expected, 2: expected}
        assert all(moment.tzinfo is UTC for moment in rows.values())
        metadata.drop_all(engine)
    finally:
        engine.dispose()


def test_sqlite_reads_back_aware_utc(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path}/moments.db")


@pytest.mark.postgres
def test_postgres_reads_back_aware_utc(pg_url: str) -> None:
    _round_trip(pg_url)
