"""Alembic migrations shipped in the package, run programmatically.

No ``alembic.ini`` is needed: the configuration is built here and ``migrations/env.py``
runs on the connection handed to it. Upgrades hold a lock (SQLite: the write lock through
``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock) so that several
processes starting at once migrate the store exactly once, and the whole upgrade is one
transaction.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from llmlab._errors import StoreError
from llmlab.store._sqlite import begin_write

if TYPE_CHECKING:
    from alembic.config import Config

    from llmlab.store._handle import Store

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "ensure_migrated",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration, known without loading Alembic (a tenth of a second of CPU, paid
# only when a database needs upgrading). tests/store/test_migrations.py checks it against
# Alembic's own view of the migrations folder.
HEAD_REVISION = "0001_initial"
# pg_advisory_xact_lock key: the bytes of "llmlab" as an integer.
_PG_LOCK_KEY = int.from_bytes(b"llmlab", "big")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the shipped migrations, running on ``connection`` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this llmlab (asks Alembic; see HEAD_REVISION)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(store: Store) -> str | None:
    """The migration the database is at; None for an empty database."""
    return _current_revision(store.engine)


def upgrade(store: Store, revision: str = "head") -> None:
    """Migrate the database to ``revision`` in one locked transaction."""
    _upgrade(store.engine, revision)


def _current_revision(engine: Engine) -> str | None:
    # What Alembic's MigrationContext.get_current_revision() reads, without importing it.
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    if len(versions) > 1:
        raise StoreError(
            f"the database {engine.url.render_as_string(hide_password=True)} has several "
            f"migration heads ({', '.join(versions)}); it was not migrated by llmlab"
        )
    return versions[0] if versions else None


def _upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            command.upgrade(alembic_config(conn), revision)
    except CommandError as exc:
        raise StoreError(
            f"cannot migrate database {engine.url.render_as_string(hide_password=True)}: "
            f"{exc}; was it written by a newer llmlab? Upgrade llmlab, or point LLMLAB_DB at "
            "another database"
        ) from exc


def ensure_migrated(engine: Engine) -> None:
    """Upgrade to head unless the database is already there (the common, lock-free case)."""
    if _current_revision(engine) != HEAD_REVISION:
        _upgrade(engine)
