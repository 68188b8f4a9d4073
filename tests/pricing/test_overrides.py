"""User price files: they win over genai-prices; a malformed one names file and key."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from llmlab._errors import PricingError
from llmlab.pricing import price_tokens

GOOD = """\
version: 1
prices:
  openai-compatible/llama-3.1-8b:
    input: 0.10
    output: 0.20
    cache_read: 0.01
    cache_write: "0.125"
  openai/gpt-4o-mini:
    input: 1
    output: 2
  openai-compatible/*:
    input: 3
    output: 4
"""


def write_default(text: str) -> Path:
    path = Path(".llmlab") / "prices.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_default_file_prices_a_self_hosted_model() -> None:
    path = write_default(GOOD)
    quote = price_tokens(
        "openai-compatible",
        "llama-3.1-8b",
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_read_tokens=300_000,
        cache_write_tokens=200_000,
    )
    # 500k uncached x 0.10 + 300k x 0.01 + 200k x 0.125 + 1M x 0.20, exactly
    assert quote.cost == Decimal("0.05") + Decimal("0.003") + Decimal("0.025") + Decimal("0.20")
    assert quote.status == "priced"
    assert quote.source == f"override: {path.resolve()}"


def test_override_wins_over_genai_prices_and_wildcards_match() -> None:
    write_default(GOOD)
    assert price_tokens("openai", "gpt-4o-mini", input_tokens=10**6, output_tokens=0).cost == 1
    other = price_tokens("openai-compatible", "qwen", input_tokens=0, output_tokens=10**6)
    assert other.cost == 4


def test_llmlab_prices_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"anthropic/my-finetune": {"input": "2", "output": "8"}}))
    monkeypatch.setenv("LLMLAB_PRICES", str(path))
    quote = price_tokens("anthropic", "my-finetune", input_tokens=500_000, output_tokens=0)
    assert quote.cost == 1


def test_an_edited_file_is_read_again() -> None:
    path = write_default("openai-compatible/m: {input: 1, output: 1}\n")
    assert price_tokens("openai-compatible", "m", input_tokens=10**6, output_tokens=0).cost == 1
    path.write_text("openai-compatible/m: {input: 2.5, output: 1}\n")
    assert price_tokens("openai-compatible", "m", input_tokens=10**6, output_tokens=0).cost == (
        Decimal("2.5")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("openai-compatible/m: {input: cheap, output: 1}\n", r"'openai-compatible/m'\.input"),
        ("openai-compatible/m: {input: 1}\n", r"'openai-compatible/m': missing 'output'"),
        ("openai-compatible/m: {input: -1, output: 1}\n", r"'openai-compatible/m'\.input"),
        ("openai-compatible/m: {input: 1, output: 1, inptu: 2}\n", r"unknown field 'inptu'"),
        ("llama: {input: 1, output: 1}\n", r"key 'llama': expected 'provider/model'"),
        ("openai-compatible/m: [1, 2]\n", r"key 'openai-compatible/m'"),
        ("version: 2\nprices: {}\n", r"key 'version'"),
        ("a: 1\nb: [unclosed\n", r"prices.yaml:3: not valid YAML: expected"),
    ],
)
def test_malformed_file_names_file_and_key(text: str, message: str) -> None:
    path = write_default(text)
    with pytest.raises(PricingError, match=message) as info:
        price_tokens("openai-compatible", "m", input_tokens=1, output_tokens=1)
    assert str(path.resolve()) in str(info.value)
    assert "\n" not in str(info.value)  # the CLI shows it as one line


def test_malformed_json_names_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{\n  "openai-compatible/m": {"input": 1,}\n}\n')
    monkeypatch.setenv("LLMLAB_PRICES", str(path))
    with pytest.raises(PricingError, match=r"prices.json:2: not valid JSON") as info:
        price_tokens("openai-compatible", "m", input_tokens=1, output_tokens=1)
    assert "\n" not in str(info.value)


def test_missing_llmlab_prices_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_PRICES", "nowhere.yaml")
    with pytest.raises(PricingError, match="nowhere.yaml"):
        price_tokens("openai", "gpt-4o-mini", input_tokens=1, output_tokens=1)
