"""Pricing: the cost of a call, from genai-prices' bundled data or a user price file.

An unknown model is "unpriced" (no cost, a logged warning), never $0; local models cost
nothing and say so ("local").
"""

from llmlab.pricing._money import dollars, plain_decimal, plain_number
from llmlab.pricing._overrides import (
    DEFAULT_PRICES_PATH,
    OverridePrice,
    forget_overrides,
    prices_path,
)
from llmlab.pricing._prices import LOCAL_PROVIDERS, PriceQuote, PriceStatus, max_cost, price_tokens

__all__ = [
    "dollars",
    "plain_decimal",
    "plain_number",
    "DEFAULT_PRICES_PATH",
    "LOCAL_PROVIDERS",
    "OverridePrice",
    "PriceQuote",
    "PriceStatus",
    "forget_overrides",
    "max_cost",
    "price_tokens",
    "prices_path",
]
