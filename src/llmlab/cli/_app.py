"""The root ``llmlab`` command: a lazy group over the noun groups of ``_groups.GROUPS``.

Each group module registers itself on :data:`app` when imported; the root group imports
a module only when its command runs, so start-up stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from llmlab import __version__
from llmlab.cli._groups import BY_NAME, GROUPS, load_command, root_help

if TYPE_CHECKING:
    from typer import _click

__all__ = ["LazyGroup", "app"]


class LazyGroup(TyperGroup):
    """The root group: lists every entry of :data:`GROUPS`, imports one when it runs."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        loaded = [name for name in self.commands if name not in BY_NAME]
        return [entry.name for entry in GROUPS] + loaded

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in BY_NAME:
            return command
        command = load_command(BY_NAME[cmd_name])
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        # The static text: listing the commands must not import them.
        formatter.write(root_help())


app = typer.Typer(
    name="llmlab",
    help="Workbench for evaluation-driven LLM development.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain usage errors at the root: importing rich costs more than the whole start-up.
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
