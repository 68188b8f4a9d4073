"""Repricing: recompute recorded costs from today's prices and overrides.

For example after adding a price for a model whose calls were recorded unpriced. Shows
the difference per model; unless it is a dry run, updates cost, cost status and price
source of each changed call, then rebuilds the rollups of the days touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from llmlab._json import JsonObject
from llmlab.monitor._rollups import rebuild_rollups
from llmlab.monitor._window import parse_window
from llmlab.pricing import forget_overrides, price_tokens
from llmlab.store import (
    CostUpdate,
    PricingInput,
    Store,
    as_money,
    iter_pricing_inputs,
    resolve_store,
    update_call_costs,
)

__all__ = ["ModelRepricing", "RepriceReport", "reprice_calls"]


@dataclass(slots=True)
class ModelRepricing:
    """Old and new cost of the changed calls of one model."""

    model: str
    calls: int = 0
    old_cost: Decimal = Decimal(0)
    new_cost: Decimal = Decimal(0)
    newly_priced: int = 0
    now_unpriced: int = 0

    def to_dict(self) -> JsonObject:
        """JSON-ready dict (money as strings)."""
        return {
            "model": self.model,
            "calls": self.calls,
            "old_cost": str(self.old_cost),
            "new_cost": str(self.new_cost),
            "difference": str(self.new_cost - self.old_cost),
            "newly_priced": self.newly_priced,
            "now_unpriced": self.now_unpriced,
        }


@dataclass(slots=True)
class RepriceReport:
    """What repricing found (and, unless ``dry_run``, wrote)."""

    examined: int = 0
    changed: int = 0
    dry_run: bool = True
    models: dict[str, ModelRepricing] = field(default_factory=dict)

    @property
    def old_cost(self) -> Decimal:
        """Total old cost of the changed calls."""
        return sum((m.old_cost for m in self.models.values()), Decimal(0))

    @property
    def new_cost(self) -> Decimal:
        """Total new cost of the changed calls."""
        return sum((m.new_cost for m in self.models.values()), Decimal(0))

    def to_dict(self) -> JsonObject:
        """JSON-ready dict (``version`` 1)."""
        return {
            "version": 1,
            "examined": self.examined,
            "changed": self.changed,
            "dry_run": self.dry_run,
            "old_cost": str(self.old_cost),
            "new_cost": str(self.new_cost),
            "difference": str(self.new_cost - self.old_cost),
            "models": [m.to_dict() for m in self.models.values()],
        }


def reprice_calls(
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    *,
    dry_run: bool = False,
    store: Store | None = None,
) -> RepriceReport:
    """Recompute the cost of the calls in [since, until) with the current prices.

    Each call is priced as of when it was made (``price_tokens(..., at=started_at)``).

    Raises:
        InputError: a malformed window.
        PricingError: a malformed price override file.
    """
    start, end = parse_window(since, until)
    handle = resolve_store(store)
    forget_overrides()  # the price file may have just been edited: read it afresh
    report = RepriceReport(dry_run=dry_run)
    first: datetime | None = None
    last: datetime | None = None
    for part in iter_pricing_inputs(handle, start, end):
        updates = []
        for row in part:
            report.examined += 1
            change = _reprice_one(row, report)
            if change is None:
                continue
            updates.append(change)
            moment = row.started_at
            first = moment if first is None or moment < first else first
            last = moment if last is None or moment > last else last
        report.changed += len(updates)
        if updates and not dry_run:
            update_call_costs(handle, updates)
    if first is not None and last is not None and not dry_run:
        rebuild_rollups(store=handle, since=first, until=last + timedelta(seconds=1))
    return report


def _reprice_one(row: PricingInput, report: RepriceReport) -> CostUpdate | None:
    # Only answered, billed calls have a price: a failed or refused call was not billed,
    # a cache hit cost nothing, and a call without usage has no tokens to price.
    if row.status != "ok" or row.cache_hit or not row.usage_reported:
        return None
    model = row.resolved_model or row.requested_model
    quote = price_tokens(
        row.provider,
        model,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cache_read_tokens=row.cache_read_tokens,
        cache_write_tokens=row.cache_write_tokens,
        at=row.started_at,
    )
    old = row.cost
    # Compared as stored: the one money rounding (``llmlab.store._money``).
    new = as_money(quote.cost) if quote.cost is not None else None
    if new == old and quote.status == row.cost_status and quote.source == row.price_source:
        return None
    key = f"{row.provider}/{model}"
    entry = report.models.setdefault(key, ModelRepricing(key))
    entry.calls += 1
    entry.old_cost += old or 0
    entry.new_cost += quote.cost or 0
    entry.newly_priced += old is None and quote.cost is not None
    entry.now_unpriced += old is not None and quote.cost is None
    return CostUpdate(row.id, new, quote.status, quote.source)
