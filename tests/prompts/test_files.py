"""Prompts as files: push (idempotent by hash), pull, round trip, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab import InputError
from llmlab.prompts import PromptRegistry, pull_prompts, push_prompts

YAML = """\
template: |
  Summarize {{ text }} in {{ words }} words.
variables: {text: null, words: 50}
config: {temperature: 0.2, max_tokens: 200}
labels: [staging]
message: first cut
"""

MARKDOWN = """\
---
variables: [question]
metadata: {owner: support}
---
You are a support agent.

Answer: {{ question }}
"""

CHAT = """\
messages:
  - {role: system, content: "You are {{ persona }}."}
  - {role: user, content: "{{ question }}"}
variables: {persona: terse}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "prompts"
    (root / "support").mkdir(parents=True)
    (root / "summarize.yaml").write_text(YAML)
    (root / "support" / "answer.md").write_text(MARKDOWN)
    (root / "chat.yml").write_text(CHAT)
    return root


def test_push_registers_and_is_idempotent(folder: Path, registry: PromptRegistry) -> None:
    first = push_prompts(folder, registry)
    assert sorted((r.name, r.version, r.created) for r in first) == [
        ("chat", 1, True),
        ("summarize", 1, True),
        ("support/answer", 1, True),
    ]
    assert [r.labels_moved for r in first if r.name == "summarize"] == [("staging",)]
    summarize = registry.get("summarize@staging")
    assert summarize.render(text="the report") == "Summarize the report in 50 words.\n"
    assert summarize.config.temperature == 0.2 and summarize.message == "first cut"
    assert registry.get("support/answer").metadata == {"owner": "support"}
    assert registry.get("chat").render_messages(question="q")[0].content == "You are terse."
    again = push_prompts(folder, registry)
    assert [r.created for r in again] == [False, False, False]
    assert all(not r.labels_moved for r in again)
    (folder / "summarize.yaml").write_text(YAML.replace("50", "30"))
    changed = {r.name: r for r in push_prompts(folder, registry)}
    assert changed["summarize"].created and changed["summarize"].version == 2
    assert registry.get("summarize@staging").version == 2


def test_pull_then_push_round_trips(folder: Path, registry: PromptRegistry, tmp_path: Path) -> None:
    push_prompts(folder, registry)
    out = tmp_path / "pulled"
    written = pull_prompts(out, registry)
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "chat.yaml",
        "summarize.yaml",
        "support/answer.yaml",
    ]
    assert "Summarize {{ text }}" in (out / "summarize.yaml").read_text()
    assert [r.created for r in push_prompts(out, registry)] == [False, False, False]
    # an existing Markdown file is rewritten as Markdown
    pull_prompts(folder, registry, ["support/answer"])
    text = (folder / "support" / "answer.md").read_text()
    assert text.startswith("---\n") and text.endswith("Answer: {{ question }}\n")
    assert [r.created for r in push_prompts(folder, registry)] == [False, False, False]


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("template: x\nvariables: [a\n", "invalid YAML", 3),
        ("template: x\ntemplat: y\n", "unknown key", 2),
        ("variables: {}\n", "exactly one of 'template' or 'messages'", None),
        ("template: '{{ x '\n", "syntax error", 1),
        ("template: x\nvariables: 3\n", "'variables' must be a mapping", 2),
        ("template: x\nvariables: [1]\n", "variable name 1", 2),
        ("template: x\nmetadata: 3\n", "'metadata' must be a mapping", 2),
        ("name: a\ntemplate: x\nconfig: {temperature: 9}\n", "config.temperature: Input", 3),
        (
            "name: a\ntemplate: x\nconfig:\n  json_schema: {default: 2024-01-01}\n",
            "config.json_schema.default: input was not a valid JSON value",
            3,
        ),
        ("name: a b\ntemplate: x\n", "invalid prompt name", 1),
        ("messages:\n  - {role: bot, content: x}\n", "chat message 0", 1),
    ],
)
def test_bad_files_name_file_and_line(
    tmp_path: Path, registry: PromptRegistry, content: str, message: str, line: int | None
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        push_prompts(tmp_path, registry)
    assert "bad.yaml" in str(info.value)
    if line is not None:
        assert info.value.line == line
    assert registry.list_prompts() == []


def test_template_errors_point_at_the_file_line(tmp_path: Path, registry: PromptRegistry) -> None:
    (tmp_path / "a.yaml").write_text("message: m\ntemplate: |\n  fine\n  {{ broken \n")
    with pytest.raises(InputError, match="syntax error") as info:
        push_prompts(tmp_path / "a.yaml", registry)
    assert info.value.line == 4 and str(info.value).startswith(f"{tmp_path / 'a.yaml'}:4: ")
    (tmp_path / "a.yaml").unlink()
    (tmp_path / "b.md").write_text("---\nmetadata: {}\n---\nline one\n{{ ''.__class__ }}\n")
    with pytest.raises(InputError, match="refused") as info:
        push_prompts(tmp_path, registry)
    assert info.value.line == 5


def test_front_matter_errors_point_at_the_key_line(
    tmp_path: Path, registry: PromptRegistry
) -> None:
    (tmp_path / "c.md").write_text("---\nname: c\nvariabls: {x: 1}\n---\nhi {{ x }}\n")
    with pytest.raises(InputError, match="unknown key") as info:
        push_prompts(tmp_path, registry)
    assert info.value.line == 3 and str(info.value).startswith(f"{tmp_path / 'c.md'}:3: ")
