"""The call path's two calls into the monitor: record a call, reserve against budgets.

TRANSITIONAL adapter: the monitor is moving from ``url=`` to ``store=`` keywords. Until
that lands the store's URL is passed; once ``record``/``reserve_budget`` take ``store=``
this module forwards the handle itself (checked once, at import) and can be inlined.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmlab.monitor import CallRecord, Reservation, record, reserve_budget

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = ["record_call", "reserve"]

_RECORD_TAKES_STORE = "store" in inspect.signature(record).parameters
_RESERVE_TAKES_STORE = "store" in inspect.signature(reserve_budget).parameters
_record: Any = record
_reserve: Any = reserve_budget


def record_call(rec: CallRecord, store: Store) -> None:
    """Queue ``rec`` for writing to ``store``."""
    if _RECORD_TAKES_STORE:
        _record(rec, store=store)
    else:
        _record(rec, store.url)


def reserve(
    provider: str,
    model: str,
    tags: Mapping[str, str] | None,
    prompt_name: str | None,
    max_cost: Decimal | None,
    *,
    eval_run: str | None,
    store: Store,
) -> Reservation:
    """Hold ``max_cost`` against every budget of ``store`` the call falls under."""
    where: dict[str, Any] = {"store": store} if _RESERVE_TAKES_STORE else {"url": store.url}
    reservation: Reservation = _reserve(
        provider, model, tags, prompt_name, max_cost, eval_run=eval_run, **where
    )
    return reservation
