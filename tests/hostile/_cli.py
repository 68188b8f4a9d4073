"""Run the real CLI in-process and read its one error line."""

from __future__ import annotations

import pytest

from llmlab.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``llmlab ARGS``: (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one ``error:`` line of stderr: exactly one, besides warnings, and no traceback."""
    assert "Traceback" not in err, err
    # Warnings (an unpriced model ...) may come first, each one line of its own.
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def fails_cleanly(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``llmlab ARGS``, assert exit 2 and one error line; return the line."""
    code, _, err = run_cli(capsys, *args)
    line = error_line(err)
    assert code == 2, (code, err)
    return line
