"""Pricing: the cost of a call, from genai-prices' bundled data or a user price file.

An unknown model is "unpriced" (no cost, a logged warning), never $0; local models cost
nothing and say so ("local").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmlab._lazy import lazy_exports

if TYPE_CHECKING:
    from llmlab.pricing._money import (
        dollars,
        plain_decimal,
        plain_number,
    )
    from llmlab.pricing._overrides import (
        DEFAULT_PRICES_PATH,
        OverridePrice,
        forget_overrides,
        prices_path,
    )
    from llmlab.pricing._prices import (
        LOCAL_PROVIDERS,
        PriceQuote,
        PriceStatus,
        max_cost,
        price_tokens,
    )

# Loaded on first use (PEP 562), so that a command imports only the modules it needs.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "_money": (
            "dollars",
            "plain_decimal",
            "plain_number",
        ),
        "_overrides": (
            "DEFAULT_PRICES_PATH",
            "forget_overrides",
            "OverridePrice",
            "prices_path",
        ),
        "_prices": (
            "LOCAL_PROVIDERS",
            "max_cost",
            "price_tokens",
            "PriceQuote",
            "PriceStatus",
        ),
    },
)


__all__ = [
    "DEFAULT_PRICES_PATH",
    "LOCAL_PROVIDERS",
    "OverridePrice",
    "PriceQuote",
    "PriceStatus",
    "dollars",
    "forget_overrides",
    "max_cost",
    "plain_decimal",
    "plain_number",
    "price_tokens",
    "prices_path",
]
