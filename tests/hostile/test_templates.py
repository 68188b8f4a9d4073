"""Templates that would build huge values or run for minutes, in both renderers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from llmlab._errors import TemplateError
from llmlab._sandbox import MAX_RENDER_SECONDS
from llmlab.evals._template import render_text
from llmlab.prompts import PromptVersion
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


_EMPTY_LOOPS = "{% for a in items %}{% for b in items %}{% endfor %}{% endfor %}done"


def test_empty_loops_over_a_large_data_list_stop_at_the_deadline() -> None:
    # No call, no operator, no output: only the loop itself can see the time pass
    # (4e8 empty steps would take about 20 s).
    items = list(range(20_000))
    for render in (
        lambda: PromptVersion(_EMPTY_LOOPS).render(items=items),
        lambda: render_text(_EMPTY_LOOPS, {"items": items}, case_id="a"),
    ):
        started = time.monotonic()
        with pytest.raises(TemplateError, match="ran longer than"):
            render()
        assert time.monotonic() - started < MAX_RENDER_SECONDS + 3


def test_loops_keep_their_features() -> None:
    template = (
        "{% for a in items if a %}{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}"
        "{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}"
        "{% for x in tree recursive %}[{{ x.n }}{{ loop(x.c) }}]{% endfor %}"
    )
    tree = [{"n": 1, "c": [{"n": 2, "c": []}]}]
    version = PromptVersion(template)
    assert version.render(items=[0, 1, 2], d={"a": 1}, tree=tree) == "1/2 2/2 a=1 [1[2]]"
    assert version.render(items=[], d={}, tree=[]) == "none"
