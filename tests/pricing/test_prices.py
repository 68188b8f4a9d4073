"""Costs from genai-prices' bundled data: equal to its own calc_price, as Decimal."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from decimal import Decimal

import genai_prices
import pytest

from llmlab.pricing import max_cost, price_tokens

USAGES = [
    # provider, model, input (incl. cache), output, cache read, cache write
    ("anthropic", "claude-haiku-4-5", 1_000, 100, 0, 0),
    ("anthropic", "claude-haiku-4-5", 10_000, 500, 6_000, 2_000),
    ("anthropic", "claude-sonnet-4-5", 50_000, 2_000, 40_000, 5_000),
    ("openai", "gpt-4o-mini", 2_000, 300, 1_024, 0),
    ("openai", "gpt-4o", 123_456, 7_890, 100_000, 0),
    ("openai", "gpt-4.1-nano", 1, 1, 0, 0),
]


@pytest.mark.parametrize(("provider", "model", "inp", "out", "read", "write"), USAGES)
def test_cost_equals_genai_prices(
    provider: str, model: str, inp: int, out: int, read: int, write: int
) -> None:
    quote = price_tokens(
        provider,
        model,
        input_tokens=inp,
        output_tokens=out,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )
    expected = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=inp, output_tokens=out, cache_read_tokens=read, cache_write_tokens=write
        ),
        model,
        provider_id=provider,
    ).total_price
    assert isinstance(quote.cost, Decimal)
    assert quote.cost == expected
    assert quote.cost > 0
    assert quote.status == "priced"
    assert quote.currency == "USD"
    assert quote.source == f"genai-prices {genai_prices.__version__}: {provider}/{model}"


def test_cache_tokens_are_part_of_input() -> None:
    # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output per MTok.
    quote = price_tokens(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=1_000,
        output_tokens=100,
        cache_read_tokens=200,
        cache_write_tokens=100,
    )
    assert quote.cost == Decimal("0.000700") + Decimal("0.000020") + Decimal("0.000125") + Decimal(
        "0.0005"
    )


def test_dated_model_names_resolve() -> None:
    quote = price_tokens(
        "anthropic", "claude-haiku-4-5-20251001", input_tokens=1_000_000, output_tokens=0
    )
    assert quote.cost == Decimal("1")
    assert quote.source is not None and quote.source.endswith("anthropic/claude-haiku-4-5")


def test_unknown_model_is_unpriced_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="llmlab.pricing")
    for _ in range(3):
        quote = price_tokens("openai", "gpt-nonexistent-9", input_tokens=10, output_tokens=10)
        assert quote.cost is None
        assert quote.status == "unpriced"
        assert quote.source is None
    warnings = [r for r in caplog.records if "gpt-nonexistent-9" in r.getMessage()]
    assert len(warnings) == 1
    assert "openai/gpt-nonexistent-9" in warnings[0].getMessage()
    assert "unpriced" in warnings[0].getMessage()


def test_openai_compatible_is_unpriced_without_override(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="llmlab.pricing")
    # Even a model name genai-prices knows: a self-hosted server has no public price.
    quote = price_tokens("openai-compatible", "gpt-4o-mini", input_tokens=10, output_tokens=10)
    assert quote.cost is None
    assert quote.status == "unpriced"
    assert "openai-compatible/gpt-4o-mini" in caplog.text


@pytest.mark.parametrize("provider", ["local", "scripted"])
def test_local_models_cost_zero_marked_local(provider: str) -> None:
    quote = price_tokens(provider, "smollm2", input_tokens=10_000, output_tokens=10_000)
    assert quote.cost == Decimal(0)
    assert quote.status == "local"


def test_prices_depend_on_the_call_time() -> None:
    # Same price data before and after; the argument is accepted as aware or naive UTC.
    aware = price_tokens(
        "openai",
        "gpt-4o-mini",
        input_tokens=1000,
        output_tokens=1000,
        at=datetime(2025, 6, 1, tzinfo=UTC),
    )
    naive = price_tokens(
        "openai", "gpt-4o-mini", input_tokens=1000, output_tokens=1000, at=datetime(2025, 6, 1)
    )
    assert aware == naive
    assert aware.cost is not None


def test_pricing_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pricing tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    quote = price_tokens("openai", "gpt-4o-2024-08-06", input_tokens=5, output_tokens=5)
    assert quote.status == "priced"


def test_max_cost_is_the_worst_case() -> None:
    worst = max_cost("anthropic", "claude-haiku-4-5", 1_000, 500)
    plain = price_tokens("anthropic", "claude-haiku-4-5", input_tokens=1_000, output_tokens=500)
    assert worst is not None and plain.cost is not None
    # cache writes (1.25x input) are the dearest way to spend input tokens
    assert worst == Decimal("0.00125") + Decimal("0.0025")
    assert worst > plain.cost
    assert max_cost("openai", "gpt-nonexistent-9", 10, 10) is None
    assert max_cost("local", "smollm2", 10, 10) == Decimal(0)
