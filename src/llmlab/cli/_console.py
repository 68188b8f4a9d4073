"""The consoles every CLI module prints through, and streamed text on stdout."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["end_partial_line", "stdout_console", "stream_text"]

# Rich assumes 80 columns when stdout is no terminal (a pipe, a CI log), which folds wide
# tables into unreadable cells; there is no terminal to fit then, so print them wide.
_PIPE_WIDTH = 160

_lock = threading.Lock()
# True while text streamed to stdout has not ended its line yet.
_partial_line = False


def stdout_console() -> Console:
    """A console on stdout: the terminal's width, or wide when output goes elsewhere."""
    from rich.console import Console  # loaded by the commands that print with it

    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, width=_PIPE_WIDTH if wide else None)


def stream_text(text: str) -> None:
    """Write a piece of a streamed reply to stdout, now (no buffering)."""
    global _partial_line
    if not text:
        return
    with _lock:
        sys.stdout.write(text)
        sys.stdout.flush()
        _partial_line = not text.endswith("\n")


def end_partial_line() -> None:
    """Before a message on stderr: end the streamed line, so the message starts its own.

    The newline goes to stderr: where stdout is a terminal or shares stderr's file it
    moves the message to a line of its own, and text piped to a file stays as it was.
    """
    global _partial_line
    with _lock:
        if not _partial_line:
            return
        _partial_line = False
        sys.stdout.flush()
        sys.stderr.write("\n")
        sys.stderr.flush()
