"""Compiled token prices give the very Decimal genai-prices' calc_price gives."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import genai_prices
import pytest
from genai_prices import data_snapshot, types

from llmlab.pricing import price_tokens
from llmlab.pricing._compiled import compiled_price

# Providers llmlab maps, and some others a plugin could name (tiers, dated and time-of-day
# prices, tool units).
PROVIDERS = ["anthropic", "openai", "google", "deepseek", "x-ai", "mistral", "groq"]
# input (incl. cache), output, cache read, cache write
USAGES = [
    (0, 0, 0, 0),
    (1, 1, 0, 0),
    (1_000, 100, 0, 0),
    (10_000, 500, 6_000, 2_000),
    (2_048, 7, 2_048, 0),
    (3_000, 0, 0, 3_000),
    (123_457, 7_891, 100_003, 11),
    (200_000, 1_000, 150_000, 10_000),  # at a 200k tier boundary
    (200_001, 1_000, 150_000, 10_000),  # just past it
    (1_000_001, 65_537, 999_999, 1),
    (100, 10, 90, 20),  # more cache than input: genai-prices refuses, so must we
]
MOMENTS = [
    datetime(2024, 6, 1, 3, 0, tzinfo=UTC),
    datetime(2025, 9, 1, 17, 30, tzinfo=UTC),
    datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
]


def _models(provider_id: str) -> list[tuple[types.Provider, types.ModelInfo]]:
    snapshot = data_snapshot._bundled_snapshot()
    [provider] = [p for p in snapshot.providers if p.id == provider_id]
    return [(provider, model) for model in provider.models]


def _expected(
    provider: types.Provider, model: types.ModelInfo, usage: tuple[int, ...], at: datetime
) -> Decimal | None:
    inp, out, read, write = usage
    counts = genai_prices.Usage(
        input_tokens=inp, output_tokens=out, cache_read_tokens=read, cache_write_tokens=write
    )
    try:
        return model.calc_price(counts, provider, genai_request_timestamp=at).total_price
    except ValueError:
        return None


@pytest.mark.parametrize("provider_id", PROVIDERS)
def test_compiled_prices_equal_calc_price_exactly(provider_id: str) -> None:
    compiled_count = 0
    for (provider, model), at in itertools.product(_models(provider_id), MOMENTS):
        compiled = compiled_price(provider, model.get_prices(at))
        if compiled is None:
            continue
        compiled_count += 1
        for usage in USAGES:
            expected = _expected(provider, model, usage, at)
            got = compiled.cost(*usage)
            where = f"{provider_id}/{model.id} at {at:%Y-%m-%d %H:%M} for {usage}"
            if expected is None:
                assert got is None, where
                continue
            assert got is not None, where
            # Identical, not merely equal: same digits and exponent.
            assert got.as_tuple() == expected.as_tuple(), f"{where}: {got} != {expected}"
    if provider_id in ("anthropic", "openai"):
        assert compiled_count > 50  # nearly all of them: the fast path is the common one


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o-mini"),  # flat, with web-search units
        ("anthropic", "claude-haiku-4-5"),  # cache writes, 1-hour cache writes
        ("anthropic", "claude-sonnet-4-5"),  # tiered above 200k input tokens
        ("openai", "gpt-4.1-nano"),
    ],
)
def test_the_models_people_use_take_the_compiled_path(provider: str, model: str) -> None:
    snapshot = data_snapshot._bundled_snapshot()
    genai_provider, info = snapshot.find_provider_model(model, None, provider, None)
    assert compiled_price(genai_provider, info.get_prices(MOMENTS[-1])) is not None
    for usage in USAGES[1:-1]:
        inp, out, read, write = usage
        quote = price_tokens(
            provider,
            model,
            input_tokens=inp,
            output_tokens=out,
            cache_read_tokens=read,
            cache_write_tokens=write,
            at=MOMENTS[-1],
        )
        expected = _expected(genai_provider, info, usage, MOMENTS[-1])
        assert quote.cost is not None and expected is not None
        assert quote.cost.as_tuple() == expected.as_tuple()


def test_tier_boundary_changes_the_price() -> None:
    # Crossing the tier prices every token at the higher rate: the grid above covers it.
    below = price_tokens("anthropic", "claude-sonnet-4-5", input_tokens=200_000, output_tokens=0)
    above = price_tokens("anthropic", "claude-sonnet-4-5", input_tokens=200_001, output_tokens=0)
    assert below.cost is not None and above.cost is not None
    assert above.cost / 200_001 > below.cost / 200_000
