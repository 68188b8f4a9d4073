#!/usr/bin/env python3
"""Benchmark: the cost of pricing one call, llmlab's ``price_tokens`` next to genai-prices.

Run from the repository root::

    .venv/bin/python bench/bench_pricing.py

``price_tokens`` runs on every call's path. It compiles each model's token prices once and
then needs a few Decimal operations; genai-prices' ``calc_price`` re-resolves and validates
the price on every call. Both give the identical Decimal (tests/pricing/test_compiled.py).
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import genai_prices  # noqa: E402

from llmlab.pricing import price_tokens  # noqa: E402

MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1-nano"),
    ("anthropic", "claude-haiku-4-5"),
    ("anthropic", "claude-sonnet-4-5"),  # tiered above 200k input tokens
]
USAGE = {"input_tokens": 1_200, "output_tokens": 300, "cache_read_tokens": 1_024}


def per_call_us(fn: object, number: int = 5_000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6  # type: ignore[arg-type]


def main() -> int:
    print(f"{'model':<32} {'price_tokens':>14} {'calc_price':>12}")
    usage = genai_prices.Usage(**USAGE)
    for provider, model in MODELS:
        ours = per_call_us(lambda p=provider, m=model: price_tokens(p, m, **USAGE))
        theirs = per_call_us(
            lambda p=provider, m=model: genai_prices.calc_price(usage, m, provider_id=p),
            number=500,
        )
        print(f"{provider + '/' + model:<32} {ours:>11.1f} us {theirs:>9.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
