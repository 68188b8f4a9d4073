"""Fast, exact pricing of token prices, compiled once per genai-prices model price.

genai-prices' ``calc_price`` re-resolves the model's price keys, validates them, builds a
usage object and decomposes it on every call (100-200 µs). A model price made of
per-million-token prices (flat, or tiered by input tokens) of the four counts llmlab
reports is a handful of Decimal operations. ``compiled_price`` turns such a price, once,
into the very operations ``calc_price`` performs, in the same order, so the cost is the
identical ``Decimal``; any other price (per-request units, a count that would have to be
inferred, provider special cases) gets None and is left to ``calc_price``.

The rules mirrored here are genai-prices' (unit registry, leaf netting: a count is charged
net of its priced sub-counts, cliff tiers on total input tokens).
``tests/pricing/test_compiled.py`` checks the result against ``calc_price`` over a grid of
usages for every model of the providers llmlab maps, so an upgrade that changes the rules
is caught.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

from genai_prices import types
from genai_prices.units import UnitDef, _get_registry

__all__ = ["CompiledPrice", "compiled_price"]

# The counts llmlab reports, by genai-prices usage key: their index in a counts tuple.
_COUNT_INDEX = {
    "input_tokens": 0,
    "output_tokens": 1,
    "cache_read_tokens": 2,
    "cache_write_tokens": 3,
}
_ZERO = 4
"""Index of a count that is always zero: a unit llmlab never reports (web searches, 1-hour
cache writes ...). genai-prices takes an unreported count as zero unless a reported count
is part of it, so such a unit is safe when it is no ancestor of one of ours (and is not
"requests", counted as one per call)."""
# Providers whose prices genai-prices adjusts in code, not data.
_SPECIAL_PROVIDERS = frozenset({"groq"})

Tiers = tuple[tuple[int, Decimal], ...]


@dataclass(frozen=True, slots=True)
class CompiledPrice:
    """A compiled model price: how to net the counts, then what each net count costs."""

    leaves: tuple[tuple[int, tuple[int, ...]], ...]
    """(count index, indices of its priced sub-counts), most specific unit first."""
    terms: tuple[tuple[int, Decimal, Tiers, int], ...]
    """(count index, base price, tiers as (start, price) highest first, per), in the order
    of the model price's keys."""

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
    ) -> Decimal | None:
        """The cost of these counts; None when they are inconsistent (more cache than
        input: genai-prices raises then, let it say why)."""
        counts = (input_tokens, output_tokens, cache_read, cache_write)
        net = [0, 0, 0, 0, 0]
        for index, parts in self.leaves:
            value = counts[index] - sum(net[part] for part in parts)
            if value < 0:
                return None
            net[index] = value
        total = Decimal(0)
        for index, price, tiers, per in self.terms:
            for start, tier_price in tiers:
                if input_tokens > start:
                    price = tier_price
                    break
            total += price * Decimal(net[index]) / per
        return total


_compiled: dict[int, tuple[types.ModelPrice, CompiledPrice | None]] = {}
_compiled_lock = threading.Lock()


def compiled_price(provider: types.Provider, model_price: types.ModelPrice) -> CompiledPrice | None:
    """The compiled form of ``model_price``, or None when ``calc_price`` must price it."""
    if provider.id in _SPECIAL_PROVIDERS:
        return None
    entry = _compiled.get(id(model_price))
    if entry is not None and entry[0] is model_price:
        return entry[1]
    compiled = _compile(model_price)
    with _compiled_lock:
        # Holding the price object keeps its id from being reused by another one.
        _compiled[id(model_price)] = (model_price, compiled)
    return compiled


def _compile(model_price: types.ModelPrice) -> CompiledPrice | None:
    if type(model_price) is not types.ModelPrice:
        return None
    registry = _get_registry()
    ours = [registry.units[key] for key in _COUNT_INDEX]
    priced: list[tuple[UnitDef, Decimal, Tiers]] = []
    for key, value in vars(model_price).items():
        if key.startswith("_") or value is None:
            continue
        try:
            unit = registry.unit_for_price_key(key)
        except KeyError:
            return None
        price = _price(value)
        if price is None:
            return None
        if unit.usage_key not in _COUNT_INDEX and (
            unit.usage_key == "requests"
            or any(unit.dimensions.items() <= our.dimensions.items() for our in ours)
        ):
            return None
        priced.append((unit, *price))
    # Zero counts net nothing: only the four reported counts need netting.
    units = sorted(
        (unit for unit, _, _ in priced if unit.usage_key in _COUNT_INDEX),
        key=lambda u: (-len(u.dimensions), u.usage_key),
    )
    leaves = tuple(
        (
            _COUNT_INDEX[unit.usage_key],
            tuple(
                _COUNT_INDEX[other.usage_key]
                for other in units
                if other is not unit and unit.dimensions.items() <= other.dimensions.items()
            ),
        )
        for unit in units
    )
    # A zero count is still a term: its zero can set the exponent of the Decimal total.
    terms = tuple(
        (_COUNT_INDEX.get(unit.usage_key, _ZERO), base, tiers, unit.per)
        for unit, base, tiers in priced
    )
    return CompiledPrice(leaves, terms)


def _price(value: object) -> tuple[Decimal, Tiers] | None:
    """(base, tiers highest first) of a valid price; None for anything else."""
    if _plain(value):
        assert isinstance(value, Decimal)
        return value, ()
    if not isinstance(value, types.TieredPrices) or not _plain(value.base):
        return None
    previous = -1
    for tier in value.tiers:
        if type(tier.start) is not int or tier.start < max(previous, 0) or not _plain(tier.price):
            return None
        previous = tier.start
    return value.base, tuple((tier.start, tier.price) for tier in reversed(value.tiers))


def _plain(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value >= 0
