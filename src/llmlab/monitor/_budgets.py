"""Budgets: reserve a call's worst-case cost before it runs, settle the real cost after.

A budget has a scope (``all``, ``model``, ``provider``, ``prompt``, or ``tag`` KEY=VALUE),
a period (``hour``, ``day``, ``month``, ``run`` — each eval run apart, calls outside a run
not counted — or ``total``, the budget's whole life) and a limit in dollars. A *hard*
budget refuses a call that could take spent + outstanding reservations past the limit
(:class:`~llmlab.BudgetExceeded`); a *soft* one only alerts. The check is atomic across
threads and processes (see ``llmlab.store``).

With no budgets defined, reserving (``llmlab.monitor._reserve``) touches no database: the
budget list is cached in-process for ``CACHE_TTL_S`` seconds (a budget set by another
process applies within that time) and refreshed at once when budgets change in this one;
the cache is a component of the store handle. The ledger counts exact money
(``llmlab.store._money``).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from llmlab._errors import InputError, NotFoundError
from llmlab.store import (
    Store,
    as_money,
    delete_budget,
    latest_eval_run_id,
    list_budgets,
    read_usage,
    resolve_store,
    upsert_budget,
)

if TYPE_CHECKING:
    from llmlab.store import BudgetRow  # row types: they load SQLAlchemy

__all__ = [
    "Budget",
    "BudgetStatus",
    "Period",
    "Scope",
    "budget_status",
    "list_budget_definitions",
    "period_key",
    "remove_budget",
    "set_budget",
]

Scope = Literal["all", "model", "provider", "prompt", "tag"]
Period = Literal["hour", "day", "month", "run", "total"]
SCOPES: tuple[str, ...] = ("all", "model", "provider", "prompt", "tag")
PERIODS: tuple[str, ...] = ("hour", "day", "month", "run", "total")
CACHE_TTL_S = 2.0


@dataclass(frozen=True, slots=True)
class Budget:
    """A budget as the API and CLI show it."""

    name: str
    scope: str
    scope_key: str | None
    scope_value: str | None
    period: str
    limit: Decimal
    hard: bool
    thresholds: tuple[float, ...]
    allow_unpriced: bool = False

    def matches(
        self, provider: str, model: str, tags: Mapping[str, str], prompt_name: str | None
    ) -> bool:
        """Whether a call with these attributes counts against this budget."""
        if self.scope == "all":
            return True
        if self.scope == "model":
            return self.scope_value in (model, f"{provider}/{model}")
        if self.scope == "provider":
            return self.scope_value == provider
        if self.scope == "prompt":
            return prompt_name is not None and self.scope_value == prompt_name
        return self.scope_key is not None and tags.get(self.scope_key) == self.scope_value

    @property
    def scope_label(self) -> str:
        """``all``, ``model=openai/gpt-4o``, ``tag:user=alice`` ..."""
        if self.scope == "all":
            return "all"
        if self.scope == "tag":
            return f"tag:{self.scope_key}={self.scope_value}"
        return f"{self.scope}={self.scope_value}"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget with its spend in the current period."""

    budget: Budget
    period_key: str
    spent: Decimal
    reserved: Decimal

    @property
    def used_fraction(self) -> float:
        """(spent + reserved) / limit."""
        return float((self.spent + self.reserved) / self.budget.limit)


def period_key(
    period: str, at: datetime | None = None, *, eval_run: str | None = None
) -> str | None:
    """The key of the period containing ``at`` (UTC now by default).

    A ``run`` budget counts each eval run apart: its key is the run, and a call made
    outside any eval run has none (the budget does not apply to it).
    """
    if period == "run":
        return f"run:{eval_run}" if eval_run else None
    now = (at or datetime.now(UTC)).astimezone(UTC)
    if period == "hour":
        return now.strftime("%Y-%m-%dT%H")
    if period == "day":
        return now.strftime("%Y-%m-%d")
    if period == "month":
        return now.strftime("%Y-%m")
    return "total"


class BudgetCache:
    """The budget list of one store, kept ``CACHE_TTL_S`` seconds (a store component)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._loaded_at = -CACHE_TTL_S
        self._budgets: tuple[Budget, ...] = ()

    def get(self) -> tuple[Budget, ...]:
        """The store's budgets, read again when older than ``CACHE_TTL_S``."""
        now = time.monotonic()
        if now - self._loaded_at < CACHE_TTL_S:
            return self._budgets
        # An empty table is one cheap query (no SQLAlchemy on an SQLite store's fast path).
        found = self.store.any_rows("budgets")
        loaded = tuple(_to_budget(r) for r in list_budgets(self.store)) if found else ()
        with self._lock:
            self._budgets, self._loaded_at = loaded, now
        return loaded

    def invalidate(self) -> None:
        """Read the budgets again on next use."""
        with self._lock:
            self._loaded_at = -CACHE_TTL_S

    def after_fork(self) -> None:
        """A forked child keeps the list but needs its own lock."""
        self._lock = threading.Lock()


def _budgets_for(store: Store) -> tuple[Budget, ...]:
    # The hot path: one dict lookup and one clock read, no filesystem call.
    return store.component(BudgetCache, BudgetCache).get()


def invalidate_budget_cache(store: Store | None = None) -> None:
    """Forget the cached budget list of ``store`` (default: the default handle, if one is
    open: none is opened just to forget nothing)."""
    handle = store if store is not None else _open_default()
    found = handle.peek(BudgetCache) if handle is not None else None
    if found is not None:
        found.invalidate()


def _open_default() -> Store | None:
    from llmlab.store import _handle

    default = _handle._default
    return default if default is not None and not default.closed else None


def _to_budget(row: BudgetRow) -> Budget:
    return Budget(
        name=row.name,
        scope=row.scope,
        scope_key=row.scope_key,
        scope_value=row.scope_value,
        period=row.period,
        limit=_plain(row.limit),
        hard=row.hard,
        thresholds=row.thresholds,
        allow_unpriced=row.allow_unpriced,
    )


def set_budget(
    name: str,
    limit: Decimal | str | int,
    *,
    scope: str = "all",
    value: str | None = None,
    period: str = "month",
    hard: bool = True,
    thresholds: Sequence[float] = (0.8, 1.0),
    allow_unpriced: bool = False,
    store: Store | None = None,
) -> Budget:
    """Create or replace a budget.

    Args:
        name: the budget's name.
        limit: dollars, > 0.
        scope: ``all``, ``model``, ``provider``, ``prompt`` or ``tag``.
        value: what the scope matches: a model (``openai/gpt-4o`` or ``gpt-4o``), provider,
            prompt name, or ``KEY=VALUE`` for a tag.
        period: ``hour``, ``day``, ``month``, ``run`` (each eval run apart; calls outside
            an eval run are not counted) or ``total`` (the budget's whole life).
        hard: refuse calls past the limit (else only alert).
        thresholds: fractions of the limit that raise an alert once per period.
        allow_unpriced: let a hard budget pass calls to models without a price (their
            cost is unknown and counts nothing); by default it refuses them.

    A new budget starts from what the recorded calls it covers already spent in its
    current period; replacing a budget with the same scope and period keeps its ledger.

    Raises:
        InputError: a bad limit, scope, value, period or threshold.
    """
    amount = _parse_limit(limit)
    if scope not in SCOPES:
        raise InputError(f"unknown budget scope {scope!r}; use one of: {', '.join(SCOPES)}")
    if period not in PERIODS:
        raise InputError(f"unknown budget period {period!r}; use one of: {', '.join(PERIODS)}")
    key: str | None = None
    if scope == "all":
        value = None
    elif not value:
        raise InputError(f"a {scope!r} budget needs a value (e.g. --value NAME)")
    elif scope == "tag":
        key, sep, value = value.partition("=")
        if not sep or not key or not value:
            raise InputError(f"a tag budget's value is KEY=VALUE, got {key + sep + value!r}")
    if any(not 0 < t <= 10 for t in thresholds):
        raise InputError("alert thresholds are fractions of the limit, e.g. 0.8 and 1.0")
    from llmlab.store import BudgetRow  # loads SQLAlchemy: only here

    row = BudgetRow(
        name=name,
        scope=scope,
        scope_key=key,
        scope_value=value,
        period=period,
        limit=amount,
        hard=hard,
        thresholds=tuple(sorted(set(thresholds))),
        created_at=datetime.now(UTC),
        allow_unpriced=allow_unpriced,
    )
    handle = resolve_store(store)
    upsert_budget(handle, row, _current_period(period, row.created_at))
    invalidate_budget_cache(handle)
    return _to_budget(row)


# The store keeps money as pico-dollars in a 64-bit integer on SQLite (at most about
# $9.2 million), and a period's spend plus reservations must fit next to the limit.
MAX_BUDGET_LIMIT = Decimal(1_000_000)


def _current_period(period: str, now: datetime) -> tuple[str, datetime | None] | None:
    """The current period's key and start (None for ``run``: each run starts at $0)."""
    key = period_key(period, now)
    if key is None:
        return None
    if period == "hour":
        return key, now.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        return key, now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return key, now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return key, None


def _parse_limit(limit: Decimal | str | int) -> Decimal:
    try:
        amount = Decimal(str(limit))
    except ArithmeticError:
        raise InputError(
            f"budget limit {limit!r} is not a number; give dollars, e.g. 25.00"
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise InputError(f"budget limit must be more than $0, got {limit}")
    if amount > MAX_BUDGET_LIMIT:
        raise InputError(
            f"budget limit {limit} is too large; a budget may be at most "
            f"${MAX_BUDGET_LIMIT:,} per period"
        )
    money = as_money(amount)
    if money == 0:
        raise InputError(f"budget limit {limit} is below one pico-dollar")
    return _plain(money)


def remove_budget(name: str, *, store: Store | None = None) -> None:
    """Delete a budget and its ledger.

    Raises:
        NotFoundError: no budget by that name.
    """
    handle = resolve_store(store)
    if not delete_budget(handle, name):
        names = [b.name for b in list_budgets(handle)]
        raise NotFoundError("budget", name, candidates=names)
    invalidate_budget_cache(handle)


def list_budget_definitions(*, store: Store | None = None) -> list[Budget]:
    """Every budget, by name."""
    return [_to_budget(r) for r in list_budgets(resolve_store(store))]


def budget_status(*, store: Store | None = None, at: datetime | None = None) -> list[BudgetStatus]:
    """Each budget with its spend and outstanding reservations in the current period
    (for ``run`` budgets: in the newest eval run)."""
    handle = resolve_store(store)
    found = [_to_budget(r) for r in list_budgets(handle)]
    runs = any(b.period == "run" for b in found)
    latest_run = latest_eval_run_id(handle) if runs else None
    keys = [(b.name, period_key(b.period, at, eval_run=latest_run) or "run:-") for b in found]
    usage = read_usage(handle, keys)
    return [
        BudgetStatus(b, k[1], _plain(usage[k][0]), _plain(usage[k][1]))
        for b, k in zip(found, keys, strict=True)
    ]


def _plain(amount: Decimal) -> Decimal:
    """An amount without trailing zeros (``25``, ``0.0012``), for messages and JSON."""
    if not amount:
        return Decimal(0)
    amount = amount.normalize()
    # normalize() writes whole numbers with an exponent (1E+1); keep them plain.
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount


# Reservation ids: a per-process prefix and a counter, no entropy syscall per call.
_ids = itertools.count(1)
_prefix = os.urandom(6).hex()


def _new_id() -> str:
    return f"{_prefix}{next(_ids):020x}"


def _new_prefix_in_child() -> None:
    global _prefix, _ids
    _prefix, _ids = os.urandom(6).hex(), itertools.count(1)


os.register_at_fork(after_in_child=_new_prefix_in_child)
