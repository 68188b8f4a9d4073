"""The root ``llmlab`` command: noun groups are registered here, one module each."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="llmlab",
    help="Workbench for evaluation-driven LLM development.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
