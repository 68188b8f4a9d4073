"""``llmlab run`` with a plain command line runs without typer, rich, SQLAlchemy or numpy,
and does exactly what the typer command does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llmlab.cli._app import app
from llmlab.cli._main import main
from llmlab.cli._run_call import RunArgs, parse_run_args
from llmlab.store import Store
from llmlab.testing import WireServer

from .test_cli import Calls


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["hi"], RunArgs("hi")),
        (
            ["-m", "openai/x", "hi there", "--json", "--max-tokens=5", "--temperature", "0"],
            RunArgs("hi there", "openai/x", None, 0.0, 5, True),
        ),
        (["--system", "-be brief", "--model=a/b", "q"], RunArgs("q", "a/b", "-be brief")),
    ],
)
def test_plain_command_lines_are_parsed(args: list[str], expected: RunArgs) -> None:
    assert parse_run_args(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["hi", "--help"],
        ["hi", "there"],  # two prompts
        ["hi", "-m"],  # no value
        ["hi", "-m", "a/b", "-m", "c/d"],  # twice
        ["hi", "--temperature", "-1"],
        ["hi", "--temperature", "nan"],
        ["hi", "--temperature", "warm"],
        ["hi", "--max-tokens", "0"],
        ["hi", "--max-tokens", "1.5"],
        ["hi", "--json=yes"],
        ["hi", "-mfoo/bar"],
        ["hi", "--unknown", "x"],
        ["-", "hi"],
    ],
)
def test_anything_else_goes_to_typer(args: list[str]) -> None:
    assert parse_run_args(args) is None


def _compatible(server: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_OPENAI_COMPATIBLE_BASE_URL", server.openai_base_url)


ARGS = ["run", "hello world", "-m", "openai-compatible/tiny", "--system", "be brief"]
ARGS += ["--temperature", "0.3", "--max-tokens", "20"]


def _without_call_id(text: str) -> list[str]:
    """The summary's model, tokens and cost (not its timings and call id)."""
    return text.split(" · ")[:3]


def test_fast_path_does_what_the_typer_command_does(
    server: WireServer,
    monkeypatch: pytest.MonkeyPatch,
    calls: Calls,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _compatible(server, monkeypatch)
    typer_run = CliRunner().invoke(app, ARGS)
    assert typer_run.exit_code == 0, typer_run.output
    with pytest.raises(SystemExit) as exited:
        main(ARGS)
    assert exited.value.code == 0
    fast = capsys.readouterr()
    assert fast.out == typer_run.stdout == "echo: hello world\n"
    # The summary line: the same text but for the call's own id and timings.
    assert _without_call_id(fast.err) == _without_call_id(typer_run.stderr)
    assert fast.err.startswith("openai-compatible/tiny · 4 in / 3 out · unpriced · ")
    first, second = server.requests[-2].body, server.requests[-1].body
    assert first == second and second["temperature"] == 0.3 and second["max_tokens"] == 20
    rows = calls()
    assert len(rows) == 2
    keep = ("provider", "requested_model", "status", "streamed", "input_tokens", "request")
    assert [{k: r[k] for k in keep} for r in rows][0] == [{k: r[k] for k in keep} for r in rows][1]
    with pytest.raises(SystemExit) as exited:
        main(["run", "hi", "-m", "openai-compatible/tiny", "--json"])
    assert exited.value.code == 0
    assert '"text": "echo: hi"' in capsys.readouterr().out


def test_fast_path_errors_are_the_same_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "hi", "-m", "nope/x"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown model 'nope/x'") and err.count("\n") == 1


def test_one_call_loads_none_of_typer_rich_sqlalchemy_numpy(
    server: WireServer, tmp_path: Path
) -> None:
    db = tmp_path / "cli.db"
    Store(str(db)).close()  # a migrated file, as a user's second command finds it
    code = (
        "import atexit, sys\n"
        "names = ('typer', 'rich', 'sqlalchemy', 'numpy')\n"
        "atexit.register(lambda: print([n for n in names if n in sys.modules], file=sys.stderr))\n"
        "from llmlab.cli._main import main\n"
        "main(['run', 'hi', '-m', 'openai/gpt-4o-mini'])\n"
    )
    env: dict[str, Any] = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "LLMLAB_DB": str(db),
        "OPENAI_BASE_URL": server.openai_base_url,  # a priced model: no warning printed
        "OPENAI_API_KEY": "sk-test",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == "echo: hi\n"
    assert result.stderr.strip().endswith("[]"), result.stderr
    with Store(str(db)) as store, store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM calls").scalar() == 1
