"""Entry point: runs the Typer app and turns llmlab errors into one line and exit 2."""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

from rich.console import Console

from llmlab._errors import LlmlabError
from llmlab.cli import _groups  # noqa: F401  (registers every noun group on the app)
from llmlab.cli._app import app

__all__ = ["main"]

_stderr = Console(stderr=True, highlight=False)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    # A warning meant for the user (an archived prompt, an unpriced model ...) is one line,
    # not Python's file-and-source-line format.
    _stderr.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. Exit codes: 0 ok, 1 a threshold or gate failed, 2 usage or input error."""
    warnings.showwarning = _show_warning
    try:
        app(args=argv, prog_name="llmlab", standalone_mode=True)
    except LlmlabError as exc:
        _stderr.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _stderr.print("interrupted")
        sys.exit(130)
