"""Alembic environment for llmlab: runs on the connection llmlab hands over.

``llmlab.store._migrate`` puts an open connection (inside a locked transaction) in
``config.attributes["connection"]``; the migrations then run inside that transaction.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine

from llmlab.store._metadata import Money, UtcDateTime
from llmlab.store._schema import metadata

config = context.config


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render llmlab's own column types (Money, UtcDateTime) with the import they need."""
    if kind == "type" and isinstance(obj, Money | UtcDateTime):
        name = type(obj).__name__
        autogen_context.imports.add(f"from llmlab.store._metadata import {name}")
        return f"{name}()"
    return False


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,
        render_item=_render_item,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
        try:
            with engine.begin() as conn:
                _run(conn)
        finally:
            engine.dispose()
