"""The root command's table of noun groups, and the group that loads them on demand.

Each noun group (``eval``, ``prompts``, ``monitor`` ...) lives in its own module, which
imports the packages it drives (SQLAlchemy, the SDKs, rich ...). Importing them all costs
about two seconds of CPU, so the root command knows every group's name and one-line help
from :data:`GROUPS` and imports a group's module only when that group is invoked (or its
own help is asked for). ``llmlab --help`` and ``llmlab --version`` import none of them.

A group module registers itself on ``llmlab.cli._app.app`` when imported, as before
(``app.add_typer(...)`` or ``@app.command(...)``); :class:`LazyGroup` then builds the
click command from that registration. This module imports no typer, so ``llmlab --help``
can print :func:`root_help` without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typer import _click

__all__ = ["BY_NAME", "GROUPS", "GroupEntry", "load_all", "load_command", "root_help"]


class GroupEntry(NamedTuple):
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
    GroupEntry(
        "labs",
        "llmlab.cli._labs",
        "Hands-on labs: edit real files, `llmlab labs check`, get measured feedback.",
    ),
    GroupEntry("models", "llmlab.cli._models", "Model providers and models."),
    GroupEntry("db", "llmlab.cli._db", "The llmlab database: location and migrations."),
    GroupEntry(
        "serve",
        "llmlab.cli._serve",
        "The dashboard: runs, prompts, experiments, spend and latency, in the browser.",
    ),
)

BY_NAME = {entry.name: entry for entry in GROUPS}


_ROOT_HELP = "Workbench for evaluation-driven LLM development."
_ROOT_OPTIONS = (
    ("--version", "Print the version and exit."),
    ("--help", "Show this message and exit."),
)


def root_help() -> str:
    """The text of ``llmlab --help``, made from :data:`GROUPS` without importing typer.

    ``llmlab --help`` prints it straight from ``main()``; the root group prints the same
    text, so the fast path and the in-process runner cannot drift apart.
    """
    width = max(len(name) for name in [*(e.name for e in GROUPS), *(o for o, _ in _ROOT_OPTIONS)])
    lines = ["Usage: llmlab [OPTIONS] COMMAND [ARGS]...", "", f"  {_ROOT_HELP}", "", "Options:"]
    lines += [f"  {option:<{width}}  {text}" for option, text in _ROOT_OPTIONS]
    lines += ["", "Commands:"]
    lines += [f"  {entry.name:<{width}}  {entry.help}" for entry in GROUPS]
    return "\n".join(lines) + "\n"


def load_command(entry: GroupEntry) -> _click.Command:
    """Import ``entry``'s module and build the click command it registered on the app."""
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
