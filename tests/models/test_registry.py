"""Model names, providers as entry-point plugins, and clear errors for what cannot resolve."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import llmlab.models._registry as registry
from llmlab import ConfigError, UnknownModelError
from llmlab.models import (
    DEFAULT_MODEL,
    Provider,
    Request,
    Response,
    default_model_name,
    generate_sync,
    get_model,
    provider_infos,
    provider_names,
    register_provider,
    split_model_name,
)


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> registry._Registry:
    fresh = registry._Registry()
    monkeypatch.setattr(registry, "_registry", fresh)
    return fresh


def test_split_keeps_slashes_in_the_model_part() -> None:
    assert split_model_name("openai-compatible/Qwen/Qwen2.5-7B") == (
        "openai-compatible",
        "Qwen/Qwen2.5-7B",
    )


def test_bare_name_lists_providers() -> None:
    with pytest.raises(UnknownModelError) as caught:
        get_model("gpt-4o-mini")
    message = str(caught.value)
    assert "openai/gpt-4o-mini" in message
    assert "provider/model" in message and "anthropic" in message


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(UnknownModelError, match="unknown provider 'nope'.*openai"):
        get_model("nope/some-model")


def test_builtin_providers_are_known() -> None:
    names = provider_names()
    for name in ("anthropic", "local", "openai", "openai-compatible", "scripted"):
        assert name in names
    infos = {info.name: info for info in provider_infos()}
    assert infos["openai"].key_env_vars == ("OPENAI_API_KEY",)
    assert infos["local"].extra == "local"


def test_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_model_name() == DEFAULT_MODEL == "local/smollm2"
    monkeypatch.setenv("LLMLAB_MODEL", "scripted/default")
    assert default_model_name() == "scripted/default"
    assert get_model().full_name == "scripted/default"


def test_missing_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        get_model("openai/gpt-4o-mini")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        get_model("anthropic/claude-haiku-4-5")
    with pytest.raises(ConfigError, match="LLMLAB_OPENAI_COMPATIBLE_BASE_URL"):
        get_model("openai-compatible/llama3")


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="no_such_option"):
        get_model("openai/gpt-4o-mini", no_such_option=1)
    with pytest.raises(ConfigError, match="max_retries"):
        get_model("scripted/x", max_retries=-1)


def test_missing_optional_dependency_names_the_extra(
    fresh_registry: registry._Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if llama-cpp-python were not installed: importing the factory fails.
    info = registry._BUILTIN["local"][1]
    monkeypatch.setitem(registry._BUILTIN, "local", ("llmlab_no_such_module_q9:create", info))
    with pytest.raises(ConfigError, match=r"pip install 'llmlab\[local\]'"):
        get_model("local/smollm2")


def test_builtin_provider_resolves_without_scanning_entry_points(
    fresh_registry: registry._Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`llmlab run` on a built-in provider does not read every installed package's
    metadata; an unknown prefix, and the list of providers, still do."""
    scans: list[str] = []
    real = registry.entry_points

    def counting(**kwargs: str) -> object:
        scans.append(kwargs["group"])
        return real(**kwargs)

    monkeypatch.setattr(registry, "entry_points", counting)
    for name in ("scripted/x", "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"):
        assert get_model(name).full_name == name
    assert scans == []
    with pytest.raises(UnknownModelError, match="unknown provider 'nope'"):
        get_model("nope/m")
    assert scans == ["llmlab.providers"]
    assert "openai" in provider_names()
    assert scans == ["llmlab.providers"]  # scanned once per process


class EchoModel(Provider):
    async def generate(self, request: Request) -> Response:
        return Response(text=f"{self.name}: {request.messages[-1].content}", model=self.name)


async def test_provider_registered_in_code(calls: Callable[[], list[dict[str, object]]]) -> None:
    def create(model_name: str, /, **options: object) -> Provider:
        return EchoModel("echo-test", model_name)

    register_provider("echo-test", create)
    try:
        assert "echo-test" in provider_names()
        model = get_model("echo-test/m1")
        assert model.full_name == "echo-test/m1"
        assert (await model.generate(Request.of("hi"))).text == "m1: hi"
    finally:
        registry._registry._factories.pop("echo-test", None)
    (row,) = calls()
    assert row["provider"] == "echo-test" and row["status"] == "ok"


def test_entry_point_plugin_from_an_installed_distribution(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_registry: registry._Registry,
    calls: Callable[[], list[dict[str, object]]],
) -> None:
    (tmp_path / "llmlab_fake_plugin_mod.py").write_text(
        textwrap.dedent(
            """
            from llmlab.models import Provider, Response

            class Shouting(Provider):
                async def generate(self, request):
                    return Response(text=request.messages[-1].content.upper(), model=self.name)

            def create(model_name, **options):
                return Shouting("shout", model_name)
            """
        )
    )
    dist = tmp_path / "llmlab_fake_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: llmlab-fake-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[llmlab.providers]\nshout = llmlab_fake_plugin_mod:create\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "shout" in provider_names()
    model = get_model("shout/loud")
    assert model.provider == "shout"
    response = generate_sync("quiet please", model)
    assert response.text == "QUIET PLEASE"
    assert response.cost_status == "unpriced"
    rows = calls()
    assert rows[0]["provider"] == "shout" and rows[0]["requested_model"] == "loud"


def test_entry_point_cannot_replace_a_builtin_provider(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_registry: registry._Registry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Built-in names resolve from the built-in table (no scan): an entry point of the
    same name is ignored, with a warning when the providers are listed."""
    dist = tmp_path / "llmlab_fake_override-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: llmlab-fake-override\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[llmlab.providers]\nscripted = llmlab_no_such_module_q9:create\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert get_model("scripted/x").full_name == "scripted/x"
    with caplog.at_level("WARNING", logger="llmlab.models"):
        assert "scripted" in provider_names()
    assert "llmlab_no_such_module_q9:create is ignored" in caplog.text
    assert get_model("scripted/y").full_name == "scripted/y"
