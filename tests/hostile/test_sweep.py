"""The hostile sweep: values found to end in a traceback, now one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab.store import Store

from ._cli import fails_cleanly, run_cli

_HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["prompts", "add", "p", "-t", "hi", "--temperature", "nan"], "option 'temperature'"),
        (["prompts", "add", "p", "-t", "hi", "--max-tokens", "-5"], "option 'max_tokens'"),
        (["eval", "list", "-n", _HUGE], "less than or equal to 100000"),  # refused at once
        (["monitor", "calls", "-n", _HUGE], "less than or equal to 100000"),
    ],
)
def test_hostile_values(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert expected in fails_cleanly(capsys, *args)
    code, out, _ = run_cli(capsys, "prompts", "list", "--json")
    assert code == 0 and '"p"' not in out  # nothing written


def test_prompt_version_past_the_integer_range(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, "prompts", "add", "p", "-t", "hi")
    assert "cannot hold a number this large" in fails_cleanly(
        capsys, "prompts", "render", f"p:{_HUGE}"
    )


def test_pull_into_a_file(
    tmp_path: Path, llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, "prompts", "add", "p", "-t", "hi")
    target = tmp_path / "taken"
    target.write_text("not a folder", encoding="utf-8")
    line = fails_cleanly(capsys, "prompts", "pull", str(target))
    assert "cannot write prompt files" in line and str(target) in line
