"""PromptVersion: identity, rendering, the sandbox, bad templates."""

from __future__ import annotations

import hashlib
import json

import pytest

from llmlab import InputError, TemplateError
from llmlab.prompts import ModelConfig, PromptVariableWarning, PromptVersion


def seed_hash(template: str, variables: dict[str, object]) -> str:
    content = f"{template}|{json.dumps(variables, sort_keys=True)}"
    return hashlib.sha256(content.encode()).hexdigest()[:12]


def test_seed_shape_hash_and_render() -> None:
    v1 = PromptVersion(
        template="Extract key information from: {text}",
        variables={},
        metadata={"author": "engineer_1", "avg_tokens": 150, "quality_score": 0.72},
    )
    assert v1.version_hash == seed_hash("Extract key information from: {text}", {})
    assert v1.render(text="Sample article text...") == (
        "Extract key information from: Sample article text..."
    )
    assert v1.metadata["quality_score"] == 0.72
    assert v1.created_at.tzinfo is not None


def test_defaults_apply_and_values_override() -> None:
    v = PromptVersion("Hi {{ name }}, in {{ lang }}", {"name": None, "lang": "English"})
    assert v.render(name="Ada") == "Hi Ada, in English"
    assert v.render(name="Ada", lang="French") == "Hi Ada, in French"
    assert v.version_hash == seed_hash(
        "Hi {{ name }}, in {{ lang }}", {"name": None, "lang": "English"}
    )


def test_config_changes_identity_metadata_does_not() -> None:
    base = PromptVersion("Summarize {{ text }}")
    hotter = PromptVersion("Summarize {{ text }}", config={"temperature": 0.9})
    noted = PromptVersion("Summarize {{ text }}", metadata={"note": "x"}, message="m")
    assert hotter.version_hash != base.version_hash
    assert noted.version_hash == base.version_hash
    assert hotter.config == ModelConfig(temperature=0.9)


def test_chat_template_hash_is_canonical_and_renders_messages() -> None:
    messages = [
        {"role": "system", "content": "You are {{ persona }}."},
        {"role": "user", "content": "{{ question }}"},
    ]
    a = PromptVersion(messages, {"persona": "terse"})
    b = PromptVersion([dict(reversed(list(m.items()))) for m in messages], {"persona": "terse"})
    assert a.version_hash == b.version_hash
    assert a.is_chat
    rendered = a.render_messages(question="Why?")
    assert [(m.role, m.content) for m in rendered] == [
        ("system", "You are terse."),
        ("user", "Why?"),
    ]
    request = PromptVersion(messages, config={"max_tokens": 20}).to_request(
        persona="p", question="q"
    )
    assert request.max_tokens == 20 and len(request.messages) == 2


def test_missing_variable_names_it_and_the_prompt() -> None:
    v = PromptVersion("Dear {{ name }}, {{ body }}").with_identity(name="letter", version=2)
    with pytest.raises(TemplateError, match=r"letter:2.*'body' is missing"):
        v.render(name="Ada")


def test_missing_variable_format_style() -> None:
    v = PromptVersion("Dear {name}")
    with pytest.raises(TemplateError, match="'name' is missing"):
        v.render()


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError) as info:
        PromptVersion("line one\nline two {{ x \nline three")
    assert info.value.line == 3 or info.value.line == 2
    assert f":{info.value.line}:" in str(info.value)


def test_extra_variable_warns() -> None:
    v = PromptVersion("Hello {{ name }}")
    with pytest.warns(PromptVariableWarning, match="colour"):
        assert v.render(name="x", colour="red") == "Hello x"


def test_declared_but_unused_variable_does_not_warn() -> None:
    v = PromptVersion("Hello {{ name }}", ["name", "spare"])
    assert v.render(name="x", spare="y") == "Hello x"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''['__class__'] }}",
        "{{ x.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ x|attr('__class__') }}",
        "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_sandbox_escapes_are_refused(template: str) -> None:
    with pytest.raises(TemplateError, match="refused"):
        PromptVersion(template, syntax="jinja").render(x="a")


def test_sandbox_refuses_at_render_too() -> None:
    # a name built at render time escapes the static check; the sandbox stops it
    v = PromptVersion("{{ x[y] }}", syntax="jinja")
    with pytest.raises(TemplateError, match="sandbox"):
        v.render(x="a", y="__class__")


def test_format_style_refuses_attribute_and_index_fields() -> None:
    with pytest.raises(TemplateError, match="plain variable names"):
        PromptVersion("{x.__class__}", syntax="format")
    with pytest.raises(TemplateError, match="plain variable names"):
        PromptVersion("{x[0]}", syntax="format")


def test_format_style_refuses_lookups_nested_in_a_format_spec() -> None:
    # str.format evaluates fields inside a spec; a datetime's spec is echoed by strftime
    with pytest.raises(TemplateError, match=r"\{y\.__class__\}"):
        PromptVersion("{x:%Y {y.__class__}}", syntax="format")
    auto = PromptVersion("{x:{y.__class__}}")
    assert auto.syntax == "jinja"
    assert auto.render() == "{x:{y.__class__}}"
    width = PromptVersion("{x:>{w}}")
    assert width.referenced_variables == {"x", "w"}
    assert width.render(x="a", w=3) == "  a"


def test_json_without_jinja_markers_renders_literally() -> None:
    v = PromptVersion('Answer as {"answer": "..."}')
    assert v.syntax == "jinja"
    assert v.render() == 'Answer as {"answer": "..."}'


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="identifier"):
        PromptVersion("x", {"not valid": 1})
    with pytest.raises(InputError, match="chat message 0"):
        PromptVersion([{"role": "robot", "content": "x"}])


def test_versions_are_hashable_and_immutable() -> None:
    a, b = PromptVersion("x {{ y }}"), PromptVersion("x {{ y }}")
    assert len({a, a.with_identity(name="n", version=1)}) == 2
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.template = "z"  # type: ignore[misc]


def test_seed_style_template_with_escaped_braces_gets_a_hint() -> None:
    # `{{` makes auto pick Jinja; a {var} template with escaped braces is told what to do
    text = 'Classify: {text}\nRespond in JSON: {{"sentiment": "..."}}'
    with pytest.raises(TemplateError, match="set its syntax to 'format'") as info:
        PromptVersion(text)
    assert info.value.line == 2
    rendered = PromptVersion(text, syntax="format").render(text="good")
    assert rendered == 'Classify: good\nRespond in JSON: {"sentiment": "..."}'
    with pytest.raises(TemplateError) as plain:
        PromptVersion("{{ x ")
    assert "format" not in str(plain.value)
