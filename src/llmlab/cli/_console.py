"""The consoles every CLI module prints through."""

from __future__ import annotations

import os
import sys

from rich.console import Console

__all__ = ["stdout_console"]

# Rich assumes 80 columns when stdout is no terminal (a pipe, a CI log), which folds wide
# tables into unreadable cells; there is no terminal to fit then, so print them wide.
_PIPE_WIDTH = 160


def stdout_console() -> Console:
    """A console on stdout: the terminal's width, or wide when output goes elsewhere."""
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, width=_PIPE_WIDTH if wide else None)
