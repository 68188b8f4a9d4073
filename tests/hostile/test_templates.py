"""Templates that would build huge values or run for minutes, in both renderers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from llmlab._sandbox import MAX_RENDER_SECONDS
from llmlab.store import Store, recent_calls

from ._cli import fails_cleanly, run_cli

_BOMBS = [
    ("{{ 'x' * 10**10 }}", "more than the 1,000,000 allowed"),
    ("{{ range(10**9)|list|length }}", "Range too big"),
    ("{{ input|format(input.__class__) }}", "TypeError"),
    ("{{ '%999999999s'|format(input) }}", "a %-format width 999,999,999"),
    ("{{ input|center(999999999) }}", "the center filter's argument"),
    ("{{ input.center(999999999) }}", "str.center's width"),
    ("{{ (['x' * 999999] * 999)|join }}", "more than the 1,000,000 allowed"),
    ("{% for i in range(99999) %}{{ 'x' * 999 }}{% endfor %}", "more than the 1,000,000"),
    (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "ran longer than",
    ),
    ("{{ 7 ** 99999999 }}", "too large to compute"),
]


def _suite(folder: Path, prompt: str) -> Path:
    (folder / "cases.jsonl").write_text('{"id": "a", "input": "hi"}\n', encoding="utf-8")
    path = folder / "suite.yaml"
    path.write_text(
        "version: 1\nname: s\n"
        f"prompt: {json.dumps(prompt)}\n"
        "dataset: cases.jsonl\nscorers:\n  - includes: {value: hi}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("prompt", "expected"), _BOMBS)
def test_suite_prompt_bombs(
    tmp_path: Path,
    llmlab_store: Store,
    capsys: pytest.CaptureFixture[str],
    prompt: str,
    expected: str,
) -> None:
    started = time.monotonic()
    line = fails_cleanly(capsys, "eval", "run", str(_suite(tmp_path, prompt)), "-m", "scripted/x")
    assert expected in line and "case 'a'" in line
    assert time.monotonic() - started < MAX_RENDER_SECONDS + 8
    assert recent_calls(llmlab_store) == []  # refused before any call


@pytest.mark.parametrize(("prompt", "expected"), _BOMBS)
def test_prompt_bombs(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str], prompt: str, expected: str
) -> None:
    prompt = prompt.replace("input", "text")
    code, _, err = run_cli(capsys, "prompts", "add", "p", "-t", prompt, "--syntax", "jinja")
    if code == 0:  # refused when rendered, not when added
        variables = ["--var", "text=hi"] if "text" in prompt else []
        line = fails_cleanly(capsys, "prompts", "render", "p", *variables)
    else:
        line = fails_cleanly(capsys, "prompts", "add", "p", "-t", prompt, "--syntax", "jinja")
    assert "prompt p" in line


@pytest.mark.parametrize("width", ["9999999999999", "100000000"])
def test_format_style_widths(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str], width: str
) -> None:
    line = fails_cleanly(capsys, "prompts", "add", "w", "-t", f"{{text:>{width}}}")
    assert "the field width" in line
    code, out, _ = run_cli(capsys, "prompts", "list", "--json")
    assert code == 0 and '"w"' not in out  # nothing written


def test_format_style_width_from_a_value(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "prompts", "add", "w", "-t", "{text:{n}}", "--syntax", "format")
    assert code == 0, err
    for n in ("9999999999999", "100000000"):
        line = fails_cleanly(capsys, "prompts", "render", "w", "--var", "text=a", "--var", f"n={n}")
        assert "prompt w" in line


def test_ordinary_templates_still_render(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    template = "{% for i in range(3) %}{{ text * 2 }}{{ '%5s'|format(i) }}{% endfor %}"
    run_cli(capsys, "prompts", "add", "ok", "-t", template)
    code, out, err = run_cli(capsys, "prompts", "render", "ok", "--var", "text=ab")
    assert code == 0, err
    assert out.strip() == "abab    0abab    1abab    2"
