"""Entry point: runs the Typer app and turns llmlab errors into one line and exit 2."""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

from llmlab import __version__
from llmlab._errors import LlmlabError

__all__ = ["main"]


def _stderr_line(label: str, style: str, message: object) -> None:
    # rich only when something is printed: importing it costs more than the start-up.
    from rich.console import Console

    Console(stderr=True, highlight=False).print(
        f"[{style}]{label}[/] {message}", soft_wrap=True, markup=True
    )


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
    _stderr_line("warning:", "yellow", _escape(str(message)))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. Exit codes: 0 ok, 1 a threshold or gate failed, 2 usage or input error."""
    args = sys.argv[1:] if argv is None else argv
    # The two commands people run to see whether llmlab works answer without typer
    # (half of the start-up); the root group prints the same text for them.
    if args == ["--version"]:
        print(f"llmlab {__version__}")
        sys.exit(0)
    if args == ["--help"]:
        from llmlab.cli._groups import root_help

        sys.stdout.write(root_help())
        sys.exit(0)
    from llmlab.cli._app import app

    warnings.showwarning = _show_warning
    try:
        app(args=args, prog_name="llmlab", standalone_mode=True)
    except LlmlabError as exc:
        _stderr_line("error:", "bold red", _escape(str(exc)))
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
