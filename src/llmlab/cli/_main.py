"""Entry point: runs the Typer app and turns every error into one line and an exit code.

Every error the user sees is one line on stderr starting with ``error:``: llmlab's own
errors, usage errors (a missing argument, an unknown option) and arguments that are not
valid text; an unforeseen fault too (its traceback with ``LLMLAB_DEBUG=1``). Exit codes: 0
ok, 1 a threshold or gate failed (or an unforeseen fault), 2 usage or input error.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import TYPE_CHECKING, NoReturn, TextIO

from llmlab import __version__
from llmlab._errors import InputError, LlmlabError

if TYPE_CHECKING:
    import typer
    from typer._click import exceptions as click_exceptions

__all__ = ["main"]

# What typer/click can raise out of a command run with standalone_mode=False.
_USAGE_EXIT = 2


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
    # not Python's file-and-source-line format. It starts a line of its own: a streamed
    # reply may have left the cursor mid-line on the terminal.
    _start_fresh_line()
    _stderr_line("warning:", "yellow", _escape(_one_line(str(message))))


class _LineHandler(logging.Handler):
    """llmlab's log records (alerts, a failed cache write ...) as one line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            label, style = (
                ("error:", "bold red")
                if record.levelno >= logging.ERROR
                else (
                    "warning:",
                    "yellow",
                )
            )
            _start_fresh_line()
            _stderr_line(label, style, _escape(_one_line(record.getMessage())))
        except Exception:  # a log line must never break the command
            self.handleError(record)


def _start_fresh_line() -> None:
    from llmlab.cli._console import end_partial_line

    end_partial_line()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _one_line(text: str) -> str:
    """``text`` on one line: a message with newlines (a pydantic dump) is joined with '; '."""
    parts = [part.strip() for part in text.strip().splitlines() if part.strip()]
    return "; ".join(parts) if parts else text.strip()


def _fail(message: str, code: int = _USAGE_EXIT) -> NoReturn:
    _start_fresh_line()
    _stderr_line("error:", "bold red", _escape(_one_line(message)))
    sys.exit(code)


def _check_text(args: list[str]) -> None:
    """Refuse arguments holding bytes that are not UTF-8.

    Python decodes such bytes from the command line as lone surrogates, which fail much
    later, when the text is encoded for a request or the database.
    """
    for position, arg in enumerate(args, start=1):
        bad = next((ch for ch in arg if "\udc80" <= ch <= "\udcff"), None)
        if bad is not None:
            byte = ord(bad) - 0xDC00
            raise InputError(
                f"argument {position} holds the byte 0x{byte:02x}, which is not UTF-8 text; "
                "pass text encoded as UTF-8"
            )


def _fail_for(exc: BaseException) -> NoReturn:
    """End the command for an error raised while it ran (not a usage error)."""
    if isinstance(exc, LlmlabError):
        _fail(str(exc))
    if isinstance(exc, KeyboardInterrupt):
        _start_fresh_line()
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    if isinstance(exc, MemoryError):
        _fail("out of memory; the input is too large for this machine (a huge number or file?)")
    if isinstance(exc, BrokenPipeError):
        # `llmlab ... | head`: the reader left; nothing more to say, and the flush of
        # stdout at exit must not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    # A fault llmlab did not foresee: one line to the user, the traceback on request.
    if os.environ.get("LLMLAB_DEBUG"):
        raise exc
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    _fail(
        f"unexpected {type(exc).__name__}{': ' + text if text else ''} (a bug in llmlab: "
        "run again with LLMLAB_DEBUG=1 for the traceback, and please report it)",
        1,
    )


def _usage_message(exc: click_exceptions.ClickException) -> str:
    """A click usage error as one line: the message, then where to find help."""
    from typer._click import exceptions as click_exceptions

    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click_exceptions.UsageError) and ctx is not None:
        message = f"{message.rstrip('.')} (see '{ctx.command_path} --help')"
    return message


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
    try:
        _check_text(args)
    except InputError as exc:
        _fail(str(exc))
    # `llmlab run` with a plain command line runs without typer (see cli/_run_call.py).
    fast_run = None
    if args[:1] == ["run"]:
        from llmlab.cli._run_call import parse_run_args

        fast_run = parse_run_args(args[1:])
    # Removed again when the command ends: main() also runs in-process (tests, notebooks).
    handler = _LineHandler(logging.WARNING)
    logging.getLogger("llmlab").addHandler(handler)
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        if fast_run is not None:
            from llmlab.cli._run_call import run_with_own_store

            try:
                run_with_own_store(fast_run)
            except (Exception, KeyboardInterrupt) as exc:
                _fail_for(exc)
            sys.exit(0)
        from llmlab.cli._app import app

        _run(app, args)
    finally:
        warnings.showwarning = shown
        logging.getLogger("llmlab").removeHandler(handler)


def _run(app: typer.Typer, args: list[str]) -> NoReturn:
    from typer import exceptions as typer_exceptions
    from typer._click import exceptions as click_exceptions

    try:
        # standalone_mode=False: usage errors come back here, to be printed as one line.
        result = app(args=args, prog_name="llmlab", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:
        # A group run without a command: its help, as click prints it.
        sys.stderr.write(exc.format_message().rstrip("\n") + "\n")
        sys.exit(_USAGE_EXIT)
    except click_exceptions.ClickException as exc:
        _fail(_usage_message(exc), exc.exit_code)
    except typer_exceptions.Abort:
        _fail("aborted", 1)
    except (Exception, KeyboardInterrupt) as exc:
        _fail_for(exc)
    # Without standalone mode, typer returns the code of a `typer.Exit` (None otherwise).
    sys.exit(result if isinstance(result, int) else 0)
