"""Usage errors and arguments that are not text: one ``error:`` line, exit 2."""

from __future__ import annotations

import os

import pytest

from ._cli import fails_cleanly, run_cli


def _argv_bytes(raw: bytes) -> str:
    # What Python makes of a non-UTF-8 byte on the command line.
    return os.fsdecode(raw)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run"], "Missing argument 'prompt' (see 'llmlab run --help')"),
        (["prompts", "add"], "Missing argument 'name' (see 'llmlab prompts add --help')"),
        (["nope"], "No such command 'nope'"),
        (["prompts", "nope"], "No such command 'nope'"),
        (["run", "hi", "--max-tokens", "abc"], "Invalid value for '--max-tokens'"),
        (["run", "hi", "--max-tokens", "0"], "Invalid value for '--max-tokens'"),
        (["run", "hi", "--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_error_is_one_line(
    llmlab_db: str, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    line = fails_cleanly(capsys, *args)
    assert expected in line


@pytest.mark.parametrize(
    "args",
    [
        ["run", "a\xff", "-m", "scripted/x"],
        ["prompts", "add", "p\xfe", "-t", "hi"],
        ["prompts", "add", "p", "-t", "caf\xe9 {x}"],
    ],
)
def test_argument_that_is_not_utf8(
    llmlab_db: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    # The raw bytes as the shell passes them: latin-1 text, not UTF-8.
    argv = [_argv_bytes(a.encode("latin-1")) if not a.isascii() else a for a in args]
    line = fails_cleanly(capsys, *argv)
    assert "is not UTF-8 text" in line
    code, out, _ = run_cli(capsys, "prompts", "list", "--json")
    assert code == 0 and out.strip() in ("[]", "")  # nothing was written


def test_group_without_command_prints_its_help(
    llmlab_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "prompts")
    assert code == 2
    assert "Usage: llmlab prompts" in err and "add" in err


def _boom() -> None:
    raise RuntimeError("something llmlab did not foresee\nsecond line")


def test_unforeseen_fault_is_one_line(
    llmlab_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import llmlab.cli._models as models_cli

    monkeypatch.setattr(models_cli, "provider_infos", _boom)
    code, _, err = run_cli(capsys, "models", "list")
    assert code == 1
    assert err.strip().splitlines() == [
        "error: unexpected RuntimeError: something llmlab did not foresee (a bug in llmlab: "
        "run again with LLMLAB_DEBUG=1 for the traceback, and please report it)"
    ]
    monkeypatch.setenv("LLMLAB_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run_cli(capsys, "models", "list")
