"""Holding a call's worst case against its budgets, and settling the real cost.

``reserve_budget`` / ``areserve_budget`` hold the call's worst case atomically; a call that
does not fit only because of other calls' outstanding reservations waits (bounded) for
them to settle; a model without a price is refused by a hard budget unless it allows
unpriced calls. Reservations carry their owner (see ``llmlab.monitor._holders``).

A budget created while calls are in flight cannot hold what they may cost (their
reservations were made before it existed, and what a reservation covers is not stored),
but it counts them: a call settles its real cost against every budget it falls under
when it ends, also those that did not exist (or that this process did not know of yet)
when it reserved. At creation a budget counts the calls already recorded; a call ending
at that very moment (recorded, its cost not yet settled) could count twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from llmlab._errors import BudgetExceeded, ConfigError, NotFoundError, StoreError
from llmlab.monitor._alerts import budget_refusal_alert, budget_threshold_alerts
from llmlab.monitor._budgets import Budget, _budgets_for, _new_id, _plain, period_key
from llmlab.monitor._holders import Holder, dead_reservations, owner, release_dead
from llmlab.store import (
    Store,
    as_money,
    list_budgets,
    list_reservations,
    read_usage,
    release_reservations,
    reserve_ledger,
    resolve_store,
    settle_ledger,
)

if TYPE_CHECKING:
    from llmlab.store import (  # row types: they load SQLAlchemy
        BudgetShortfall,
        LedgerEntry,
        SpentAfter,
    )

__all__ = [
    "Reservation",
    "UnpricedRefused",
    "areserve_budget",
    "charge_budget",
    "release_budget",
    "reserve_budget",
]

SETTLE_ATTEMPTS = 5
WAIT_ENV = "LLMLAB_BUDGET_WAIT_S"
DEFAULT_WAIT_S = 5.0
"""How long a call that does not fit only because of other calls' reservations waits
for them to settle before it is refused (``LLMLAB_BUDGET_WAIT_S``)."""


class UnpricedRefused(BudgetExceeded):
    """A hard budget refused a call to a model without a price: its cost cannot be held."""

    def __init__(self, budget: str, model: str) -> None:
        self.budget = budget
        self.spent = self.reserved = self.limit = self.requested = Decimal(0)
        Exception.__init__(
            self,
            f"budget {budget!r} refused the call: {model} has no price, so a hard budget "
            f"cannot hold its cost; add its price to a price file (LLMLAB_PRICES or "
            f".llmlab/prices.yaml), or allow unpriced calls: llmlab budgets set {budget} "
            "LIMIT --allow-unpriced",
        )


class CallScope(NamedTuple):
    """What decides which budgets a call falls under (a tuple: made on every call)."""

    provider: str
    model: str
    tags: Mapping[str, str]
    prompt_name: str | None
    eval_run: str | None


@dataclass(slots=True)
class Reservation:
    """Money held for one call; :meth:`settle` it with the real cost, or :meth:`release`."""

    id: str
    store: Store | None = None
    entries: tuple[LedgerEntry, ...] = ()
    call: CallScope | None = None
    """The call it was made for: its cost also counts against budgets created since."""
    _done: bool = field(default=False, repr=False)

    @property
    def active(self) -> bool:
        """False when no budget applied (no money held; settling may still count the
        call against budgets created since)."""
        return bool(self.entries) and not self._done

    @property
    def amount(self) -> Decimal | None:
        """The money held (the call's worst case), None when nothing was held."""
        return self.entries[0].amount if self.entries else None

    def settle(self, actual_cost: Decimal | None) -> None:
        """Replace the reservation by the call's real cost (None or failure: release)."""
        if self._done:
            return
        self._done = True
        if not self.entries and (self.call is None or actual_cost is None):
            return
        store = self.store if self.store is not None else resolve_store(None)
        if not self.entries and not _budgets_for(store):
            return  # the hot path without budgets: one cached lookup, no database
        amount = as_money(actual_cost) if actual_cost is not None else None
        after: list[SpentAfter] = []
        if self.entries:
            try:
                for attempt in range(SETTLE_ATTEMPTS):
                    try:
                        after = settle_ledger(store, self.id, amount, self.entries)
                        break
                    except StoreError as exc:
                        # A busy database must not lose a paid call's cost from the ledger.
                        if not exc.retryable or attempt == SETTLE_ATTEMPTS - 1:
                            raise
                        time.sleep(0.05 * 2**attempt)
            finally:
                store.component(Holder, Holder).drop(self.id)
        late = self._budgets_since(store) if amount else ()
        if late and amount is not None:
            after = [*after, *_charge(store, late, amount)]
        if amount is not None and after:
            budget_threshold_alerts(store, after, _budgets_for(store))

    def _budgets_since(self, store: Store) -> tuple[LedgerEntry, ...]:
        """Entries (nothing held) for the budgets the call falls under that it did not
        reserve against: created since, or not yet known to this process then."""
        call = self.call
        if call is None:
            return ()
        found = _budgets_for(store)  # cached: no database read on the hot path
        if not found:
            return ()
        from llmlab.store import LedgerEntry  # loads SQLAlchemy: only with budgets

        held = {e.budget for e in self.entries}
        return tuple(
            LedgerEntry(b.name, key, Decimal(0), None)
            for b in found
            if b.name not in held
            and b.matches(call.provider, call.model, call.tags, call.prompt_name)
            and (key := period_key(b.period, eval_run=call.eval_run)) is not None
        )

    def release(self) -> None:
        """Give the held money back: the call did not run or cost nothing."""
        self.settle(None)


def reserve_budget(
    provider: str,
    model: str,
    tags: Mapping[str, str] | None,
    prompt_name: str | None,
    max_cost: Decimal | None,
    *,
    eval_run: str | None = None,
    store: Store | None = None,
    wait_s: float | None = None,
) -> Reservation:
    """Hold ``max_cost`` against every budget the call falls under.

    A call that does not fit only because of other calls' outstanding reservations (it
    would fit once they settle at no more than they hold) waits up to ``wait_s`` for
    them; one that does not fit the money already spent is refused at once.

    Args:
        provider: e.g. ``"openai"``.
        model: the requested model, without the provider.
        tags: the call's tags.
        prompt_name: the prompt the call renders, if any.
        max_cost: the call's worst case (input size and max_tokens); None when the model is
            unpriced: a hard budget then refuses the call unless it allows unpriced calls
            (nothing is held and only a known real cost counts).
        eval_run: the eval run the call belongs to, for ``run`` budgets.
        store: the store (default: the default handle).
        wait_s: the longest wait for other calls' reservations (default
            ``LLMLAB_BUDGET_WAIT_S``, else 5 s).

    Raises:
        BudgetExceeded: a hard budget has no room for ``max_cost``
            (:class:`UnpricedRefused` for an unpriced model).
    """
    steps = _reserve_steps(
        provider, model, tags, prompt_name, max_cost, eval_run, resolve_store(store), wait_s
    )
    try:
        while True:
            time.sleep(next(steps))
    except StopIteration as done:
        reservation: Reservation = done.value
        return reservation


async def areserve_budget(
    provider: str,
    model: str,
    tags: Mapping[str, str] | None,
    prompt_name: str | None,
    max_cost: Decimal | None,
    *,
    eval_run: str | None = None,
    store: Store | None = None,
    wait_s: float | None = None,
) -> Reservation:
    """:func:`reserve_budget` for async callers: waits without blocking the event loop
    (where the calls whose reservations are in the way settle)."""
    steps = _reserve_steps(
        provider, model, tags, prompt_name, max_cost, eval_run, resolve_store(store), wait_s
    )
    try:
        while True:
            await asyncio.sleep(next(steps))
    except StopIteration as done:
        reservation: Reservation = done.value
        return reservation


def _wait_limit(wait_s: float | None) -> float:
    if wait_s is not None:
        return max(0.0, wait_s)
    text = os.environ.get(WAIT_ENV, "").strip()
    if not text:
        return DEFAULT_WAIT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 3600:
        raise ConfigError(f"{WAIT_ENV}={text!r}: give seconds from 0 to 3600, e.g. 5")
    return value


def _reserve_steps(
    provider: str,
    model: str,
    tags: Mapping[str, str] | None,
    prompt_name: str | None,
    max_cost: Decimal | None,
    eval_run: str | None,
    handle: Store,
    wait_s: float | None,
) -> Generator[float, None, Reservation]:
    """The reservation as steps: each ``yield`` is a pause (seconds) before trying again."""
    call = CallScope(provider, model, tags or {}, prompt_name, eval_run)
    found = _budgets_for(handle)
    if not found:
        return Reservation("", handle, call=call)
    applying = [
        (b, key)
        for b in found
        if b.matches(provider, model, tags or {}, prompt_name)
        and (key := period_key(b.period, eval_run=eval_run)) is not None
    ]
    if not applying:
        return Reservation("", handle, call=call)
    if max_cost is None:
        for b, _ in applying:
            if b.hard and not b.allow_unpriced:
                raise UnpricedRefused(b.name, f"{provider}/{model}")
    rid = _new_id()
    amount = as_money(max_cost) if max_cost is not None else Decimal(0)
    from llmlab.store import LedgerEntry  # loads SQLAlchemy: only here

    entries = tuple(
        LedgerEntry(
            budget=b.name,
            period_key=key,
            amount=amount,
            limit=b.limit if b.hard else None,
        )
        for b, key in applying
    )
    me = owner()
    deadline = time.monotonic() + _wait_limit(wait_s)
    pause = 0.01
    reclaimed: set[str] = set()
    while True:
        shortfall = reserve_ledger(handle, rid, entries, me)
        if shortfall is None:
            handle.component(Holder, Holder).hold(rid)
            return Reservation(rid, handle, entries, call)
        if shortfall.budget not in reclaimed:
            # Reservations of a killed process would block the budget: reclaim, retry.
            reclaimed.add(shortfall.budget)
            if release_dead(handle, shortfall.budget):
                continue
        # Only other calls' reservations are in the way: they settle at no more than they
        # hold, so wait for them (bounded) rather than refuse a call that will fit.
        where = (shortfall.budget, next(k for b, k in applying if b.name == shortfall.budget))
        while shortfall.spent + shortfall.requested <= shortfall.limit:
            if time.monotonic() + pause > deadline:
                break
            yield pause * random.uniform(0.5, 1.0)
            pause = min(pause * 1.5, 0.2)
            # A read first: waiters poll without taking the write lock until there is room.
            spent, reserved = read_usage(handle, [where])[where]
            shortfall = replace(shortfall, spent=spent, reserved=reserved)
            if spent + reserved + shortfall.requested <= shortfall.limit:
                break
        else:
            break  # the money already spent leaves no room: refuse now
        if shortfall.spent + shortfall.reserved + shortfall.requested > shortfall.limit:
            break  # waited long enough
    _refuse(handle, shortfall, applying)
    raise AssertionError("unreachable")  # pragma: no cover


def _refuse(
    handle: Store, shortfall: BudgetShortfall, applying: Sequence[tuple[Budget, str]]
) -> None:
    refused = BudgetExceeded(
        shortfall.budget,
        spent=_plain(shortfall.spent),
        reserved=_plain(shortfall.reserved),
        limit=_plain(shortfall.limit),
        requested=_plain(shortfall.requested),
    )
    for b, key in applying:
        if b.name == shortfall.budget:
            used = float((shortfall.spent + shortfall.reserved) / shortfall.limit)
            budget_refusal_alert(handle, b, key, used, str(refused))
    raise refused


def charge_budget(
    provider: str,
    model: str,
    tags: Mapping[str, str] | None,
    prompt_name: str | None,
    cost: Decimal | None,
    *,
    eval_run: str | None = None,
    store: Store | None = None,
) -> None:
    """Count the cost of a call made outside the managed path (already made and paid,
    e.g. recorded with ``LLMMonitor``) against the budgets it falls under: it cannot be
    refused, but the calls after it see the money spent."""
    if cost is None:
        return
    handle = resolve_store(store)
    applying = [
        (b, key)
        for b in _budgets_for(handle)
        if b.matches(provider, model, tags or {}, prompt_name)
        and (key := period_key(b.period, eval_run=eval_run)) is not None
    ]
    if not applying:
        return
    from llmlab.store import LedgerEntry  # loads SQLAlchemy: only here

    entries = tuple(LedgerEntry(b.name, key, Decimal(0), None) for b, key in applying)
    after = _charge(handle, entries, as_money(cost))
    budget_threshold_alerts(handle, after, _budgets_for(handle))


def _charge(handle: Store, entries: Sequence[LedgerEntry], amount: Decimal) -> list[SpentAfter]:
    """Count ``amount``, already spent, against ``entries`` (their limits not checked)."""
    rid = _new_id()
    reserve_ledger(handle, rid, entries, owner())
    return settle_ledger(handle, rid, amount, entries)


def release_budget(
    name: str, *, everything: bool = False, store: Store | None = None
) -> tuple[int, Decimal]:
    """Release a budget's reservations held by dead processes (``everything``: all of
    them, also those of running calls, which then settle their real cost only).

    Returns how many reservations were released and the money they held.

    Raises:
        NotFoundError: no budget by that name.
    """
    handle = resolve_store(store)
    names = [b.name for b in list_budgets(handle)]
    if name not in names:
        raise NotFoundError("budget", name, candidates=names)
    found = list_reservations(handle, name)
    chosen = found if everything else dead_reservations(found)
    return len(chosen), _plain(release_reservations(handle, chosen))
