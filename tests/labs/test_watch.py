"""`llmlab labs watch`: re-checks when a learner file changes, and on Enter."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmlab.labs import find_lab
from llmlab.store import Store

from .conftest import run

SRC = Path(__file__).resolve().parents[2] / "src"


def _read_until(process: subprocess.Popen[str], marker: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return
    raise AssertionError(f"no {marker!r} in:\n{''.join(seen)}")


def test_watch_rechecks_on_save_and_on_enter(
    learner: Path, capsys: pytest.CaptureFixture[str], llmlab_store: Store
) -> None:
    run(capsys, "labs", "start", "2")
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "llmlab", "labs", "watch", "2", "--interval", "0.1"]
    seen: list[str] = []
    with subprocess.Popen(
        [*command, "--max-checks", "3"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as process:
        try:
            _read_until(process, "watching for changes", seen)
            assert "NOT YET" in "".join(seen)

            solution = (find_lab("2").solution / "scorer.py").read_text()
            Path("llmlab-labs/02-scorer-bugs/scorer.py").write_text(solution)
            _read_until(process, "watching for changes", seen)
            assert "PASSED" in "".join(seen)

            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("\n")  # the manual key: check again with no change
            process.stdin.flush()
            assert process.wait(timeout=120) == 0
            seen.append(process.stdout.read())
        finally:
            process.kill()
    output = "".join(seen)
    assert output.count("PASSED") == 2 and output.count("NOT YET") == 1
