"""Bad model settings: options, base URLs with credentials, short keys, price files."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmlab.monitor import flush
from llmlab.pricing import forget_overrides
from llmlab.store import Store, recent_calls
from llmlab.testing import WireServer

from ._cli import fails_cleanly

_SUITE = """\
version: 1
name: s
prompt: "Say {{ input }}"
dataset: cases.jsonl
scorers:
  - includes: {value: "{{ input }}"}
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "cases.jsonl").write_text('{"id": "a", "input": "hi"}\n', encoding="utf-8")
    path = tmp_path / "suite.yaml"
    path.write_text(_SUITE, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("timeout=abc", "openai/gpt-4o-mini: unknown option 'timeout'"),
        ("base_url=5", "option 'base_url': Input should be a valid string (got 5)"),
        ("max_retries=-1", "option 'max_retries': Input should be greater than or equal to 0"),
    ],
)
def test_bad_model_option_names_the_option(
    suite: Path,
    llmlab_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
    expected: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    line = fails_cleanly(
        capsys, "eval", "run", str(suite), "-m", "openai/gpt-4o-mini", "--model-option", option
    )
    assert expected in line
    assert "pydantic" not in line and "validation error" not in line


@pytest.mark.parametrize("provider", ["openai", "anthropic", "openai-compatible"])
def test_base_url_with_password_is_refused_up_front(
    wire_server: WireServer,
    llmlab_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    provider: str,
) -> None:
    url = wire_server.openai_base_url.replace("http://", "http://alice:hunter2pw@")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    line = _run_with_base_url(capsys, monkeypatch, provider, url)
    assert "user name and password" in line and "hunter2pw" not in line
    assert wire_server.count() == 0  # refused before any request
    flush(llmlab_store)
    assert recent_calls(llmlab_store) == []


def _run_with_base_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, provider: str, url: str
) -> str:
    variable = {
        "openai": "OPENAI_BASE_URL",
        "anthropic": "ANTHROPIC_BASE_URL",
        "openai-compatible": "LLMLAB_OPENAI_COMPATIBLE_BASE_URL",
    }[provider]
    monkeypatch.setenv(variable, url)
    return fails_cleanly(capsys, "run", "hi", "-m", f"{provider}/tiny")


def test_short_key_is_redacted(
    wire_server: WireServer,
    llmlab_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wire_server.config.api_key = "the-right-key-0123456789"
    monkeypatch.setenv("LLMLAB_OPENAI_COMPATIBLE_BASE_URL", wire_server.openai_base_url)
    monkeypatch.setenv("LLMLAB_OPENAI_COMPATIBLE_API_KEY", "abc1234")  # 7 characters
    line = fails_cleanly(capsys, "run", "hi", "-m", "openai-compatible/tiny")
    assert "Incorrect API key provided: ***" in line
    assert "abc1234" not in line
    flush(llmlab_store)
    (call,) = recent_calls(llmlab_store)
    assert call.error_message is not None and "abc1234" not in call.error_message


def test_price_file_that_is_not_utf8(
    tmp_path: Path,
    wire_server: WireServer,
    llmlab_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_bytes(b"openai/gpt-4o-mini:\n  input: 1\n  note: caf\xe9\n")
    monkeypatch.setenv("LLMLAB_PRICES", str(prices))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("OPENAI_BASE_URL", wire_server.openai_base_url)
    forget_overrides()
    try:
        line = fails_cleanly(capsys, "run", "hi", "-m", "openai/gpt-4o-mini")
    finally:
        forget_overrides()
    assert f"{prices}:3: not UTF-8 text (byte 0xe9)" in line
    assert wire_server.count() == 0  # refused before the call was paid for
