"""Counts far past any real use (a typo's extra digits): one error line, exit 2, no call."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmlab._errors import InputError
from llmlab._limits import MAX_CONCURRENCY, MAX_EPOCHS, MAX_LISTED
from llmlab.evals import load_suite, run_eval
from llmlab.store import Store, recent_calls

from ._cli import fails_cleanly

HUGE = "99999999999999"


def _suite(folder: Path, extra: str = "") -> Path:
    (folder / "cases.jsonl").write_text('{"id": "a", "input": "hi"}\n', encoding="utf-8")
    path = folder / "suite.yaml"
    path.write_text(
        "version: 1\nname: s\nprompt: '{{ input }}'\ndataset: cases.jsonl\n"
        f"{extra}scorers:\n  - includes: {{value: hi}}\n",
        encoding="utf-8",
    )
    return path


def test_eval_run_with_huge_epochs_fails_at_once(tmp_path: Path) -> None:
    # In a child process with a timeout: before the bound this ran (nearly) forever.
    suite = _suite(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "llmlab", "eval", "run", str(suite), "-m", "scripted/x"]
        + ["--epochs", HUGE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "LLMLAB_DB": ""},
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "'--epochs'" in lines[0] and f"{MAX_EPOCHS}" in lines[0]
    assert not (tmp_path / ".llmlab").exists()  # refused before the store was opened


@pytest.mark.parametrize(
    ("args", "option", "most"),
    [
        (["eval", "run", "SUITE", "--concurrency", HUGE], "--concurrency", MAX_CONCURRENCY),
        (["eval", "list", "--limit", HUGE], "--limit", MAX_LISTED),
        (["eval", "agreement", "latest", "--epochs", HUGE], "--epochs", MAX_EPOCHS),
        (["eval", "agreement", "latest", "--epochs", "3", "--limit", HUGE], "--limit", MAX_LISTED),
        (
            ["prompts", "compare", "p", "1", "2", "-s", "SUITE", "--epochs", HUGE],
            "--epochs",
            MAX_EPOCHS,
        ),
        (
            ["prompts", "compare", "p", "1", "2", "-s", "SUITE", "--concurrency", HUGE],
            "--concurrency",
            MAX_CONCURRENCY,
        ),
        (["monitor", "calls", "--limit", HUGE], "--limit", MAX_LISTED),
        (["alerts", "list", "--limit", HUGE], "--limit", MAX_LISTED),
    ],
)
def test_count_options_are_bounded(
    tmp_path: Path,
    llmlab_store: Store,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    option: str,
    most: int,
) -> None:
    suite = str(_suite(tmp_path))
    line = fails_cleanly(capsys, *(suite if a == "SUITE" else a for a in args))
    assert f"'{option}'" in line and f"{most}" in line
    assert recent_calls(llmlab_store) == []


def test_a_suites_epochs_and_the_api_are_bounded(tmp_path: Path, llmlab_store: Store) -> None:
    with pytest.raises(InputError, match="epochs"):
        load_suite(_suite(tmp_path, f"epochs: {HUGE}\n"))
    suite = load_suite(_suite(tmp_path))
    for kwargs in ({"epochs": int(HUGE)}, {"concurrency": int(HUGE)}):
        with pytest.raises(InputError, match=f"from 1 to {'1,000'}"):
            asyncio.run(run_eval(suite, model="scripted/x", store=llmlab_store, **kwargs))
    assert recent_calls(llmlab_store) == []
