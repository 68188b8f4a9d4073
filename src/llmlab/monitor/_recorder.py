"""The call recorder: ``record()`` queues a row and returns; a thread writes batches.

The caller's cost is one dict built from the :class:`CallRecord` and one deque append
(a few microseconds). Each store handle has a :class:`Recorder` component whose daemon
thread drains the queue in batches of up to ``BATCH_SIZE`` rows or every
``BATCH_INTERVAL_S`` seconds, whichever comes first, and inserts them in one transaction.
``flush()`` waits until everything queued before it is written; closing the store (also
at normal exit and after Ctrl-C) flushes it.

A failed write is retried with backoff for about half a minute; if the database stays
unreachable the rows are appended to the database's spill file (beside an SQLite file, or
per server URL under the user's data folder, see ``llmlab.store.spill_path``) and an error
is logged. The spill file is replayed, idempotently, as soon as a later batch is written
and whenever the database is opened again: never silently lost. Rows the database refuses
(a duplicate id) go to the ``.rejected.jsonl`` file beside it.

In a child process (``multiprocessing`` with any start method, ``Pool``,
``ProcessPoolExecutor``), which ends with ``os._exit()`` and so never runs ``atexit``, the
queue is flushed by a multiprocessing finalizer; SIGTERM flushes too (see ``_exit``).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import operator
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from llmlab._errors import LlmlabError
from llmlab.monitor._capture import capture_content
from llmlab.monitor._record import CallRecord, CallValues
from llmlab.store import Store, add_replay_hook, insert_calls, resolve_store, spill_path, spill_rows
from llmlab.store._fast_sql import CALL_COLUMNS

_FIELDS = tuple(f.name for f in dataclasses.fields(CallRecord))
_values_of = operator.attrgetter(*_FIELDS)  # one C call for the whole record

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from llmlab.store._fast_sqlite import RollupDeltas

__all__ = [
    "BATCH_INTERVAL_S",
    "BATCH_SIZE",
    "BatchHook",
    "BatchListener",
    "Recorder",
    "add_batch_hook",
    "add_batch_listener",
    "flush",
    "record",
    "recorder",
    "remove_batch_hook",
    "remove_batch_listener",
]

logger = logging.getLogger("llmlab.monitor")

BATCH_SIZE = 500
BATCH_INTERVAL_S = 0.05
RETRY_DELAYS_S = (0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)
"""Waits between attempts of a batch: about 30 s in all, enough for a database restart."""
FLUSH_TIMEOUT_S = 60.0

BatchListener = Callable[[Store, Sequence[Mapping[str, Any]]], None]
"""Called on the writer thread after a batch is committed: ``fn(store, rows)``."""
BatchHook = Callable[["Connection", Sequence[Mapping[str, Any]]], None]
"""Called inside the batch's insert transaction: ``fn(conn, rows)`` (rollups)."""

_listeners: list[BatchListener] = []
_hooks: list[BatchHook] = []
_fast_hooks: dict[BatchHook, RollupDeltas] = {}
_BUILTIN_HOOKS = ("llmlab.monitor._rollups", "llmlab.monitor._alert_rules", "llmlab.monitor._otel")
"""Modules that register llmlab's own batch hooks and listeners when they load."""


class Recorder:
    """The queue and background writer thread of one store (a component of the handle).

    Closed with the store (everything queued is written first); in a forked child it
    starts empty, so that the parent's queued rows are not written twice.
    """

    def __init__(self, store: Store) -> None:
        # ``llmlab.monitor`` loads its modules lazily: the rollups, alert-rule and OTel
        # export hooks must be registered before this recorder writes its first batch.
        # (They import this module, hence import_module here rather than at the top.)
        for module in _BUILTIN_HOOKS:
            importlib.import_module(module)
        self.store = store
        self.spilled = False
        self._reset()

    @functools.cached_property
    def spill_path(self) -> Path | None:
        """Where rows go when the database stays unreachable (resolved once, when needed)."""
        return spill_path(self.store)

    def _reset(self) -> None:
        self.queue: deque[CallValues | threading.Event] = deque()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping = False

    def put(self, item: CallValues | threading.Event) -> None:
        """Queue a row (or a flush marker) and make sure the writer thread runs."""
        self.queue.append(item)
        thread = self.thread
        if thread is None or not thread.is_alive():
            self._start()
        if len(self.queue) >= BATCH_SIZE or not isinstance(item, dict):
            self.wake.set()

    def flush(self, timeout: float | None = FLUSH_TIMEOUT_S) -> bool:
        """Wait until everything queued before now is written; False after ``timeout``."""
        marker = threading.Event()
        self.put(marker)
        return marker.wait(timeout)

    def close(self) -> None:
        """Write what is queued, then stop the thread (the store is closing)."""
        thread = self.thread
        if (thread is None or not thread.is_alive()) and not self.queue:
            return
        if not self.flush(FLUSH_TIMEOUT_S):
            logger.error(
                "closing with %d call record(s) not yet written to %s",
                sum(isinstance(item, dict) for item in self.queue),
                self.store.safe_url,
            )
        self.stopping = True
        self.wake.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def after_fork(self) -> None:
        """In a forked child: no thread, and none of the parent's queued rows."""
        self._reset()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.stopping = False
            self.thread = threading.Thread(
                target=self._run, name=f"llmlab-recorder:{self.store.safe_url}", daemon=True
            )
            self.thread.start()

    def _run(self) -> None:
        while not self.stopping:
            self.wake.wait(BATCH_INTERVAL_S)
            self.wake.clear()
            while self.queue:
                try:
                    self._write_some()
                except Exception:  # keep the writer alive whatever happens
                    logger.exception("call recorder for %s failed", self.store.safe_url)

    def _write_some(self) -> None:
        batch: list[CallValues] = []
        markers: list[threading.Event] = []
        while self.queue and len(batch) < BATCH_SIZE:
            item = self.queue.popleft()
            if isinstance(item, dict):
                batch.append(item)
            else:
                markers.append(item)
                break  # everything queued before the marker is in this batch
        if batch:
            self._write(batch)
        for marker in markers:
            marker.set()

    def _write(self, batch: list[CallValues]) -> None:
        if not capture_content():
            for row in batch:
                row["request"] = None
                row["response_text"] = None
        last_error: BaseException | None = None
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            if delay:
                time.sleep(delay)
            # After a failing hook, write the calls without hooks: calls are the record.
            hooks = _run_hooks if _hooks and attempt < 2 else None
            try:
                if not self._write_fast(batch, with_hooks=hooks is not None):
                    insert_calls(self.store, batch, in_transaction=hooks)
            except Exception as exc:
                if not _bad_rows(exc):  # the database's fault (locked, down): retry, spill
                    last_error = exc
                    logger.warning(
                        "writing %d call record(s) to %s failed (attempt %d): %s",
                        len(batch),
                        self.store.safe_url,
                        attempt + 1,
                        _describe(exc),
                    )
                    continue
                if hooks is not None:  # maybe the hook's fault: retry, later without hooks
                    last_error = exc
                    continue
                # A bad row (a duplicate id ...) fails on every retry: keep the good ones.
                if len(batch) == 1:
                    self._spill(batch, exc, rejected=True)
                else:
                    for row in batch:
                        self._write([row])
                return
            _notify_listeners(self.store, batch)
            if self.spilled:  # the database answers again: write what was spilled
                self.spilled = False
                self.store.replay_spilled()
            return
        self._spill(batch, last_error)

    def _write_fast(self, batch: list[CallValues], *, with_hooks: bool) -> bool:
        """Write through the store's sqlite3 fast path when it has one and every batch hook
        has a fast form (the rollups); False: use ``insert_calls`` (SQLAlchemy)."""
        fast = self.store.fast_sink()
        if fast is None or any(len(row) != len(CALL_COLUMNS) for row in batch):
            return False
        rollups: RollupDeltas | None = None
        if with_hooks:
            hooks = list(_hooks)
            if len(hooks) != 1 or hooks[0] not in _fast_hooks:
                return False  # a hook of its own needs SQLAlchemy's connection
            rollups = _fast_hooks[hooks[0]]
        fast.insert_calls(batch, rollups)
        return True

    def _spill(
        self, batch: list[CallValues], error: BaseException | None, rejected: bool = False
    ) -> None:
        try:
            path = spill_rows(self.store, "calls", batch, rejected=rejected)
        except (OSError, ValueError) as exc:
            logger.error(
                "LOST %d call record(s): cannot write to %s (%s) nor to its spill file %s (%s)",
                len(batch),
                self.store.safe_url,
                _describe(error),
                self.spill_path,
                exc,
            )
            return
        if rejected:
            logger.error(
                "%s refused %d call record(s) (%s); saved them to %s",
                self.store.safe_url,
                len(batch),
                _describe(error),
                path,
            )
            return
        self.spilled = True
        logger.error(
            "cannot write %d call record(s) to %s (%s); saved them to %s, written there "
            "when the database answers again or is next opened",
            len(batch),
            self.store.safe_url,
            _describe(error),
            path,
        )


def recorder(store: Store | None = None) -> Recorder:
    """The recorder of ``store`` (the default handle when None)."""
    return resolve_store(store).component(Recorder, Recorder)


def record(rec: CallRecord, store: Store | None = None) -> None:
    """Queue ``rec`` for writing to ``store`` (default: the default handle).

    Returns at once; the row is written by a background thread within about 50 ms.
    """
    row = cast(CallValues, dict(zip(_FIELDS, _values_of(rec), strict=True)))
    row["tags"] = dict(rec.tags)  # the caller's dict may change after the call
    recorder(store).put(row)


def flush(store: Store | None = None, timeout: float | None = FLUSH_TIMEOUT_S) -> bool:
    """Block until every call queued for ``store`` before this call is written.

    Returns False if that took longer than ``timeout`` seconds.
    """
    return recorder(store).flush(timeout)


def add_batch_listener(fn: BatchListener) -> None:
    """Call ``fn(store, rows)`` on the writer thread after each batch is committed.

    For work that must not hold the write transaction (alerts, OpenTelemetry export).
    Exceptions are logged and do not affect recording.
    """
    if fn not in _listeners:
        _listeners.append(fn)


def remove_batch_listener(fn: BatchListener) -> None:
    """Undo :func:`add_batch_listener`."""
    if fn in _listeners:
        _listeners.remove(fn)


def add_batch_hook(fn: BatchHook, *, fast: RollupDeltas | None = None) -> None:
    """Call ``fn(conn, rows)`` inside each batch's insert transaction (rollups).

    Keep it fast: it holds the database's write lock. If it raises, the batch is
    retried, and in the end written without hooks (the calls are never dropped for it).
    ``fast``: the same work for the SQLite fast path, as rollup deltas (llmlab's rollups);
    while a hook without one is registered, every batch goes through SQLAlchemy.
    """
    if fn not in _hooks:
        _hooks.append(fn)
    if fast is not None:
        _fast_hooks[fn] = fast


def remove_batch_hook(fn: BatchHook) -> None:
    """Undo :func:`add_batch_hook`."""
    if fn in _hooks:
        _hooks.remove(fn)
    _fast_hooks.pop(fn, None)


def _bad_rows(exc: BaseException) -> bool:
    """Whether ``exc`` is the rows' fault (a duplicate id, a value the column refuses),
    so that retrying the same batch cannot help."""
    if isinstance(exc, TypeError | ValueError) or type(exc).__name__ == "IntegrityError":
        return True  # sqlite3's IntegrityError too (the fast path)
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import DataError, IntegrityError, StatementError

    if isinstance(exc, IntegrityError | DataError):
        return True
    # SQLAlchemy wraps a bind processor's refusal (a float for money) in StatementError.
    return type(exc) is StatementError and isinstance(exc.orig, TypeError | ValueError)


def _run_hooks(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    for hook in list(_hooks):
        hook(conn, rows)


def _notify_listeners(store: Store, rows: Sequence[Mapping[str, Any]]) -> None:
    for listener in list(_listeners):
        try:
            listener(store, rows)
        except Exception:  # a listener must not stop recording
            logger.exception("batch listener %r failed", listener)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, LlmlabError):
        return str(exc)
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


# Spilled calls replayed when a store opens get their rollups like any written batch.
add_replay_hook("calls", _run_hooks)
