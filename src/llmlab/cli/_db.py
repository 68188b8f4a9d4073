"""``llmlab db``: where the database is and its migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab.cli._app import app
from llmlab.cli._console import stdout_console

__all__ = ["db"]

db = typer.Typer(help="The llmlab database: location and migrations.", no_args_is_help=True)
app.add_typer(db, name="db")

UrlOption = Annotated[
    str | None,
    typer.Option("--db", help="Database path or SQLAlchemy URL (default: LLMLAB_DB)."),
]


@db.command("upgrade")
def upgrade_command(url: UrlOption = None) -> None:
    """Migrate the database to the newest schema (new stores do this on first use)."""
    from llmlab.store import Store, current_revision

    with Store(url) as store:  # opening a store migrates it
        revision = current_revision(store)
        stdout_console().print(f"{store.safe_url}: at revision {revision}", soft_wrap=True)


@db.command("current")
def current_command(url: UrlOption = None) -> None:
    """Show the database's migration revision and the newest one."""
    from llmlab.store import Store, current_revision, head_revision

    with Store(url, migrate=False) as store:
        current = current_revision(store)
        where = store.safe_url
    head = head_revision()
    state = "up to date" if current == head else "needs `llmlab db upgrade`"
    stdout_console().print(
        f"{where}: revision {current or '(empty)'}, newest {head} ({state})", soft_wrap=True
    )


@db.command("url")
def url_command(url: UrlOption = None) -> None:
    """Print the database URL in use (password hidden)."""
    from llmlab.store import database_url, safe_url

    stdout_console().print(safe_url(database_url(url)), soft_wrap=True)
