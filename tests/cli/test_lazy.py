"""The root command: groups load on demand, ``--version``, the static table stays true."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import llmlab
from llmlab.cli import main
from llmlab.cli._app import app
from llmlab.cli._groups import GROUPS

_PROBE = """
import json, sys
from llmlab.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _probe(*args: str) -> tuple[int, str, set[str]]:
    """Run the CLI in a fresh interpreter; its exit code, output and imported modules."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return int(report["code"] or 0), result.stdout, set(report["modules"])


def _group_modules(modules: set[str]) -> set[str]:
    return {entry.module for entry in GROUPS} & modules


def test_root_help_lists_every_group_and_imports_none() -> None:
    code, out, modules = _probe("--help")
    assert code == 0
    for entry in GROUPS:
        assert entry.name in out
    assert _group_modules(modules) == set()
    assert not {"sqlalchemy", "rich", "openai", "yaml", "typer"} & modules


def test_version_prints_the_version_and_imports_nothing_heavy() -> None:
    code, out, modules = _probe("--version")
    assert code == 0
    assert out.strip() == f"llmlab {llmlab.__version__}"
    assert _group_modules(modules) == set()
    assert "sqlalchemy" not in modules


def test_a_group_loads_only_itself() -> None:
    code, out, modules = _probe("db", "--help")
    assert code == 0
    assert "upgrade" in out and "current" in out
    assert _group_modules(modules) == {"llmlab.cli._db"}
    assert "sqlalchemy" not in modules  # its commands import the store when they run


def test_unknown_command_is_a_usage_error() -> None:
    code, _, modules = _probe("nosuchgroup")
    assert code == 2
    assert _group_modules(modules) == set()


@pytest.mark.parametrize("entry", GROUPS, ids=lambda entry: entry.name)
def test_static_help_matches_the_module(entry: object) -> None:
    from llmlab.cli._groups import GroupEntry

    assert isinstance(entry, GroupEntry)
    importlib.import_module(entry.module)
    for info in app.registered_groups:
        if info.name == entry.name:
            assert info.typer_instance is not None
            assert info.typer_instance.info.help == entry.help
            return
    for command in app.registered_commands:
        if command.name == entry.name:
            assert command.callback is not None and command.callback.__doc__ is not None
            assert command.callback.__doc__.splitlines()[0] == entry.help
            return
    pytest.fail(f"{entry.module} registers no command {entry.name!r}")


def test_in_process_runner_sees_the_same_tree() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"llmlab {llmlab.__version__}"
    result = runner.invoke(app, ["db", "url", "--db", "postgresql+psycopg://u:pw@h/d"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "postgresql+psycopg://u:***@h/d"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert all(entry.name in result.output for entry in GROUPS)


def test_fast_help_is_the_groups_help(capsys: pytest.CaptureFixture[str]) -> None:
    # main() answers --help without typer; the root group must print the very same text.
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    fast = capsys.readouterr().out
    assert fast == CliRunner().invoke(app, ["--help"]).output
    assert "--version" in fast and "Commands:" in fast
