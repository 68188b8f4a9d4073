"""Who holds a budget reservation, and releasing those whose holder is gone.

Every reservation carries its owner's pid and host and a heartbeat. A process that holds
reservations refreshes their heartbeat every ``HEARTBEAT_S`` seconds from one background
thread (a component of the store handle, started on first use). A reservation is dead,
and released by the next call that needs its room, when its process is gone (same host,
pid no longer running) or its heartbeat is older than ``LEASE_S`` (another host, or a
frozen process): a ``kill -9`` never blocks a budget for longer than that.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from llmlab.store import (
    Store,
    heartbeat_reservations,
    list_reservations,
    release_reservations,
)

if TYPE_CHECKING:
    from llmlab.store import Owner, ReservationRow  # row types: they load SQLAlchemy

__all__ = ["HEARTBEAT_S", "LEASE_S", "Holder", "dead_reservations", "owner", "release_dead"]

log = logging.getLogger("llmlab.monitor")

HEARTBEAT_S = 15.0
"""How often a process marks the reservations it holds as alive."""
LEASE_S = 90.0
"""A reservation whose heartbeat is older than this is taken for dead."""

_HOST = socket.gethostname()[:255]


def owner() -> Owner:
    """This process, as the owner of a reservation."""
    from llmlab.store import Owner  # loads SQLAlchemy: only here

    return Owner(os.getpid(), _HOST)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def dead_reservations(
    found: list[ReservationRow], now: datetime | None = None
) -> list[ReservationRow]:
    """The reservations whose holder is gone: same host and pid not running, or a
    heartbeat older than ``LEASE_S``."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=LEASE_S)
    return [
        r
        for r in found
        if r.heartbeat_at < cutoff or (r.owner_host == _HOST and not _alive(r.owner_pid))
    ]


def release_dead(store: Store, budget: str) -> Decimal:
    """Release the dead reservations of one budget; returns the money freed."""
    dead = dead_reservations(list_reservations(store, budget))
    if not dead:
        return Decimal(0)
    freed = release_reservations(store, dead)
    if freed or dead:
        log.warning(
            "budget %r: released %d reservation(s) of dead processes ($%s)",
            budget,
            len(dead),
            f"{freed.normalize():f}" if freed else "0",
        )
    return freed


class Holder:
    """The reservations this process holds in one store, kept alive by a heartbeat
    thread (a store component)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._ids: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, reservation_id: str) -> None:
        """Keep this reservation alive until :meth:`drop`."""
        with self._lock:
            self._ids.add(reservation_id)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="llmlab-budget-heartbeat", daemon=True
                )
                self._thread.start()

    def drop(self, reservation_id: str) -> None:
        """The reservation was settled or released."""
        with self._lock:
            self._ids.discard(reservation_id)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with self._lock:
                ids = sorted(self._ids)
            if not ids:
                continue
            try:
                heartbeat_reservations(self.store, ids)
            except Exception as exc:  # a missed beat is retried; the lease is several beats
                log.warning("budget reservation heartbeat failed: %s", exc)

    def close(self) -> None:
        """Stop the heartbeat thread."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def after_fork(self) -> None:
        """A forked child holds none of its parent's reservations and has no thread."""
        self._lock = threading.Lock()
        self._ids = set()
        self._stop = threading.Event()
        self._thread = None
