"""The root command's table of noun groups, and the group that loads them on demand.

Each noun group (``eval``, ``prompts``, ``monitor`` ...) lives in its own module, which
imports the packages it drives (SQLAlchemy, the SDKs, rich ...). Importing them all costs
about two seconds of CPU, so the root command knows every group's name and one-line help
from :data:`GROUPS` and imports a group's module only when that group is invoked (or its
own help is asked for). ``llmlab --help`` and ``llmlab --version`` import none of them.

A group module registers itself on ``llmlab.cli._app.app`` when imported, as before
(``app.add_typer(...)`` or ``@app.command(...)``); :class:`LazyGroup` then builds the
click command from that registration.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer import _click

__all__ = ["GROUPS", "GroupEntry", "LazyGroup", "load_all"]


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One subcommand of ``llmlab``: its name, module and one-line help."""

    name: str
    module: str
    help: str


# Kept in sync with each module's own help text by tests/cli/test_lazy.py.
GROUPS: tuple[GroupEntry, ...] = (
    GroupEntry(
        "run",
        "llmlab.cli._run",
        "One call to a model: streams the reply to stdout and records the call.",
    ),
    GroupEntry("eval", "llmlab.cli._eval", "Eval suites: run, list, show, compare, rescore."),
    GroupEntry(
        "prompts", "llmlab.cli._prompts", "Prompt versions, labels, diffs and A/B comparisons."
    ),
    GroupEntry(
        "experiments",
        "llmlab.cli._experiments",
        "Online experiments: sticky, weighted traffic splits between prompt versions.",
    ),
    GroupEntry("monitor", "llmlab.cli._monitor", "Recorded calls: cost, latency, tokens."),
    GroupEntry(
        "budgets", "llmlab.cli._budgets", "Spending limits: hard (refuse calls) or soft (alert)."
    ),
    GroupEntry(
        "alerts", "llmlab.cli._alerts", "Alerts from budgets and latency / error-rate rules."
    ),
    GroupEntry("models", "llmlab.cli._models", "Model providers and models."),
    GroupEntry("db", "llmlab.cli._db", "The llmlab database: location and migrations."),
)

_BY_NAME = {entry.name: entry for entry in GROUPS}


class LazyGroup(TyperGroup):
    """The root group: lists every entry of :data:`GROUPS`, imports one when it runs."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        loaded = [name for name in self.commands if name not in _BY_NAME]
        return [entry.name for entry in GROUPS] + loaded

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in _BY_NAME:
            return command
        command = _load(_BY_NAME[cmd_name])
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        # The static help of each entry: listing the commands must not import them.
        rows = [(entry.name, entry.help) for entry in GROUPS]
        rows += [
            (name, command.get_short_help_str(formatter.width))
            for name, command in self.commands.items()
            if name not in _BY_NAME and not command.hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _load(entry: GroupEntry) -> _click.Command:
    # Imported here: typer.main is only needed once a group runs.
    from typer.main import get_command_from_info, get_group_from_info

    from llmlab.cli._app import app

    importlib.import_module(entry.module)
    for group_info in app.registered_groups:
        if group_info.name == entry.name:
            return get_group_from_info(
                group_info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode="rich",
                suggest_commands=app.suggest_commands,
            )
    for command_info in app.registered_commands:
        if command_info.name == entry.name:
            return get_command_from_info(
                command_info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode="rich",
            )
    raise RuntimeError(f"{entry.module} did not register the command {entry.name!r}")


def load_all() -> None:
    """Import every group module (for tools that walk the whole command tree)."""
    for entry in GROUPS:
        importlib.import_module(entry.module)
