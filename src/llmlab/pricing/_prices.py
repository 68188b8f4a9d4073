"""Cost of a call from its token counts: user overrides first, then genai-prices.

genai-prices ships its price data inside the package; llmlab only ever reads that bundled
snapshot and never starts its background updater, so pricing works offline.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from llmlab.pricing._overrides import OverridePrice, find_override

if TYPE_CHECKING:
    from genai_prices import types

# genai-prices (its types and its bundled data: about 0.05 s of CPU) is imported when a
# hosted model's price is first looked up, not by the modules that import this one: a
# local or scripted model's call, or a price from an override file, never needs it.

__all__ = ["LOCAL_PROVIDERS", "PriceQuote", "PriceStatus", "max_cost", "price_tokens"]

logger = logging.getLogger("llmlab.pricing")

PriceStatus = Literal["priced", "unpriced", "local"]

LOCAL_PROVIDERS = frozenset({"local", "scripted"})
"""Providers that run on this machine: their calls cost nothing (status "local")."""

# llmlab provider name -> genai-prices provider id. None: no public price list (a
# self-hosted OpenAI-compatible server costs what the user says in a price file).
_GENAI_PROVIDER_IDS: dict[str, str | None] = {
    "anthropic": "anthropic",
    "openai": "openai",
    "openai-compatible": None,
}
_MILLION = Decimal(1_000_000)

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """What a usage costs and where the price came from.

    ``cost`` is None exactly when ``status`` is "unpriced": an unknown price is never $0.
    """

    cost: Decimal | None
    currency: str
    status: PriceStatus
    source: str | None
    """Provenance: ``genai-prices <version>: <provider>/<model>``, ``override: <file>``,
    ``local: <provider>``; None when unpriced."""


def price_tokens(
    provider: str,
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    at: datetime | None = None,
) -> PriceQuote:
    """Price one call. ``input_tokens`` includes the cache read and write tokens.

    ``at`` is when the call was made (prices change over time); default now.
    An unknown model gives an "unpriced" quote and one logged warning per model.

    Raises:
        PricingError: the price override file is malformed.
    """
    # An override wins even for a local model: it prices a self-hosted or scripted model
    # as if it were hosted (what a frontier of options costs, in tests and planning).
    override = find_override(provider, model)
    if override is not None:
        return _price_override(
            override, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
        )
    if provider in LOCAL_PROVIDERS:
        return PriceQuote(Decimal(0), "USD", "local", f"local: {provider}")
    found = _genai_model(provider, model)
    if found is None:
        _warn_unpriced(provider, model, "no price known")
        return PriceQuote(None, "USD", "unpriced", None)
    genai_provider, info, source = found
    import genai_prices
    from genai_prices import types

    from llmlab.pricing._compiled import compiled_price

    moment = at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)
    # Token prices, compiled once, without calc_price's per-call overhead (same Decimal).
    prices = info.prices
    if not isinstance(prices, types.ModelPrice):
        prices = info.get_prices(moment or datetime.now(UTC))
    compiled = compiled_price(genai_provider, prices)
    if compiled is not None:
        cost = compiled.cost(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        if cost is not None:
            return PriceQuote(cost, "USD", "priced", source)
    usage = genai_prices.Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
    )
    try:
        calc = info.calc_price(usage, genai_provider, genai_request_timestamp=moment)
    except (ValueError, ArithmeticError) as exc:
        _warn_unpriced(provider, model, f"genai-prices could not price this usage ({exc})")
        return PriceQuote(None, "USD", "unpriced", None)
    return PriceQuote(calc.total_price, "USD", "priced", source)


def max_cost(
    provider: str, model: str, input_tokens: int, max_output_tokens: int
) -> Decimal | None:
    """The most a call can cost: every output token used, input at its dearest rate.

    None when the model is unpriced (budgets then cannot bound it).
    """
    plain = price_tokens(
        provider, model, input_tokens=input_tokens, output_tokens=max_output_tokens
    )
    if plain.cost is None:
        return None
    # Cache writes can cost more than plain input (Anthropic: 1.25x).
    written = price_tokens(
        provider,
        model,
        input_tokens=input_tokens,
        output_tokens=max_output_tokens,
        cache_write_tokens=input_tokens,
    )
    return max(plain.cost, written.cost if written.cost is not None else plain.cost)


def _price_override(
    price: OverridePrice, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
) -> PriceQuote:
    uncached = max(input_tokens - cache_read - cache_write, 0)
    total = (
        uncached * price.input
        + cache_read * price.cache_read
        + cache_write * price.cache_write
        + output_tokens * price.output
    ) / _MILLION
    return PriceQuote(total, price.currency, "priced", price.source)


@lru_cache(maxsize=1024)
def _genai_model(provider: str, model: str) -> tuple[types.Provider, types.ModelInfo, str] | None:
    """genai-prices' provider and model for ``provider/model``, and the provenance text."""
    provider_id = _GENAI_PROVIDER_IDS.get(provider, provider)
    if provider_id is None:
        return None
    import genai_prices
    from genai_prices import data_snapshot

    try:
        # Only the bundled snapshot: an updater started elsewhere must not change our prices.
        found = data_snapshot._bundled_snapshot().find_provider_model(
            model, None, provider_id, None
        )
    except LookupError:
        return None
    genai_provider, info = found
    source = f"genai-prices {genai_prices.__version__}: {genai_provider.id}/{info.id}"
    return genai_provider, info, source


def _warn_unpriced(provider: str, model: str, why: str) -> None:
    key = (provider, model)
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning(
        "%s for %s/%s: its calls are recorded as unpriced (cost unknown, not $0); "
        "to price it, add it to a price file (LLMLAB_PRICES or .llmlab/prices.yaml)",
        why,
        provider,
        model,
    )
