"""``llmlab db``: where the database is and its migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.store import (
    current_revision,
    database_url,
    get_engine,
    head_revision,
    safe_url,
    unmigrated_engine,
    upgrade,
)

__all__ = ["db"]

db = typer.Typer(help="The llmlab database: location and migrations.", no_args_is_help=True)
app.add_typer(db, name="db")

_console = stdout_console()

UrlOption = Annotated[
    str | None,
    typer.Option("--db", help="Database path or SQLAlchemy URL (default: LLMLAB_DB)."),
]


@db.command("upgrade")
def upgrade_command(url: UrlOption = None) -> None:
    """Migrate the database to the newest schema (new stores do this on first use)."""
    engine = get_engine(url)
    upgrade(engine)
    _console.print(
        f"{safe_url(database_url(url))}: at revision {current_revision(engine)}", soft_wrap=True
    )


@db.command("current")
def current_command(url: UrlOption = None) -> None:
    """Show the database's migration revision and the newest one."""
    engine = unmigrated_engine(url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if current == head else "needs `llmlab db upgrade`"
    _console.print(
        f"{safe_url(database_url(url))}: revision {current or '(empty)'}, newest {head} ({state})",
        soft_wrap=True,
    )


@db.command("url")
def url_command(url: UrlOption = None) -> None:
    """Print the database URL in use (password hidden)."""
    _console.print(safe_url(database_url(url)), soft_wrap=True)
