"""The root ``llmlab`` command: a lazy group over the noun groups of ``_groups.GROUPS``.

Each group module registers itself on :data:`app` when imported; the root group imports
a module only when its command runs, so start-up stays light.
"""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab import __version__
from llmlab.cli._groups import LazyGroup

__all__ = ["app"]

app = typer.Typer(
    name="llmlab",
    help="Workbench for evaluation-driven LLM development.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help at the root: rich's help renderer alone costs more than the whole start-up.
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"llmlab {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Workbench for evaluation-driven LLM development."""
