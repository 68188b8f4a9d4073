"""What a lab's model calls cost, read back from the calls the store recorded.

A lab prices the embedded model as a hosted one through llmlab's own price override
(``LLMLAB_PRICES``, the file a team uses for custom prices), so each recorded call
carries a real cost in dollars; criteria read those recorded costs, never a rate of
their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from llmlab._errors import ConfigError
from llmlab.monitor import flush
from llmlab.pricing import forget_overrides
from llmlab.store import CallFilter, Store, recent_calls

__all__ = ["RecordedCosts", "price_override", "recorded_costs"]


@contextmanager
def price_override(path: Path | None) -> Iterator[None]:
    """Price calls with the override file ``path`` while the block runs (None: as is)."""
    if path is None:
        yield
        return
    if not path.is_file():
        raise ConfigError(f"lab is broken: no price file {path}")
    before = os.environ.get("LLMLAB_PRICES")
    os.environ["LLMLAB_PRICES"] = str(path)
    forget_overrides()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LLMLAB_PRICES", None)
        else:
            os.environ["LLMLAB_PRICES"] = before
        forget_overrides()


@dataclass(frozen=True, slots=True)
class RecordedCosts:
    """The recorded calls of one evaluation: how many, their tokens and their cost."""

    calls: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    priced: int
    """Calls priced from a price override (the others have no cost)."""
    source: str

    @property
    def per_call(self) -> Decimal:
        return self.cost / self.calls if self.calls else Decimal(0)

    @property
    def input_per_call(self) -> float:
        return self.input_tokens / self.calls if self.calls else 0.0


def recorded_costs(store: Store, tag: str, expected: int) -> RecordedCosts:
    """The calls tagged ``lab_run=tag``, as the store recorded them.

    Raises:
        ConfigError: fewer calls were recorded than were made (content capture or the
            recorder is off).
    """
    flush(store)
    rows = recent_calls(store, CallFilter(tags={"lab_run": tag}), limit=expected + 10)
    if len(rows) < expected:
        raise ConfigError(
            f"{expected} calls were made but only {len(rows)} were recorded in {store.safe_url}"
        )
    priced = [r for r in rows if r.cost is not None and r.cost_status == "priced"]
    return RecordedCosts(
        calls=len(rows),
        input_tokens=sum(r.input_tokens for r in rows),
        output_tokens=sum(r.output_tokens for r in rows),
        cost=sum((r.cost for r in priced if r.cost is not None), Decimal(0)),
        priced=len(priced),
        source=next((r.price_source or "" for r in priced), ""),
    )
