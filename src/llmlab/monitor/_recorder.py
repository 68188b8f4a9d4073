"""The call recorder: ``record()`` queues a row and returns; a thread writes batches.

The caller's cost is one dict built from the :class:`CallRecord` and one deque append
(a few microseconds). A daemon thread per database drains the queue in batches of up to
``BATCH_SIZE`` rows or every ``BATCH_INTERVAL_S`` seconds, whichever comes first, and
inserts them in one transaction. ``flush()`` waits until everything queued before it is
written; an ``atexit`` hook flushes at normal exit and after Ctrl-C.

A failed write is retried with backoff; if the database stays unreachable the rows are
appended to ``.llmlab/unwritten-calls.jsonl`` and an error is logged: never silently lost.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from llmlab._errors import LlmlabError
from llmlab.monitor._capture import capture_content
from llmlab.monitor._record import CallRecord
from llmlab.store import cached_database_url, get_engine, insert_calls, safe_url

__all__ = [
    "BATCH_INTERVAL_S",
    "BATCH_SIZE",
    "BatchHook",
    "BatchListener",
    "SPILL_PATH",
    "add_batch_hook",
    "add_batch_listener",
    "flush",
    "record",
    "remove_batch_hook",
    "remove_batch_listener",
]

logger = logging.getLogger("llmlab.monitor")

BATCH_SIZE = 500
BATCH_INTERVAL_S = 0.05
RETRY_DELAYS_S = (0.1, 0.5, 1.0, 2.0, 4.0)
FLUSH_TIMEOUT_S = 60.0
SPILL_PATH = Path(".llmlab") / "unwritten-calls.jsonl"

Row = dict[str, Any]
BatchListener = Callable[[Engine, Sequence[Mapping[str, Any]]], None]
"""Called on the writer thread after a batch is committed: ``fn(engine, rows)``."""
BatchHook = Callable[[Connection, Sequence[Mapping[str, Any]]], None]
"""Called inside the batch's insert transaction: ``fn(conn, rows)`` (rollups)."""

_FIELDS = tuple(field.name for field in dataclasses.fields(CallRecord))
_listeners: list[BatchListener] = []
_hooks: list[BatchHook] = []


class _Writer:
    """The queue and background thread of one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queue: deque[Row | threading.Event] = deque()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def put(self, item: Row | threading.Event) -> None:
        self.queue.append(item)
        thread = self.thread
        if thread is None or not thread.is_alive():
            self._start()
        if len(self.queue) >= BATCH_SIZE or not isinstance(item, dict):
            self.wake.set()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(
                target=self._run, name=f"llmlab-recorder:{safe_url(self.url)}", daemon=True
            )
            self.thread.start()

    def _run(self) -> None:
        while True:
            self.wake.wait(BATCH_INTERVAL_S)
            self.wake.clear()
            while self.queue:
                try:
                    self._write_some()
                except Exception:  # keep the writer alive whatever happens
                    logger.exception("call recorder for %s failed", safe_url(self.url))

    def _write_some(self) -> None:
        batch: list[Row] = []
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

    def _write(self, batch: list[Row]) -> None:
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
                engine = get_engine(self.url)
                insert_calls(engine, batch, in_transaction=hooks)
            except Exception as exc:
                if not _bad_rows(exc):  # the database's fault (locked, down): retry, spill
                    last_error = exc
                    logger.warning(
                        "writing %d call record(s) to %s failed (attempt %d): %s",
                        len(batch),
                        safe_url(self.url),
                        attempt + 1,
                        _describe(exc),
                    )
                    continue
                if hooks is not None:  # maybe the hook's fault: retry, later without hooks
                    last_error = exc
                    continue
                # A bad row (a duplicate id ...) fails on every retry: keep the good ones.
                if len(batch) == 1:
                    _spill(self.url, batch, exc)
                else:
                    for row in batch:
                        self._write([row])
                return
            _notify_listeners(engine, batch)
            return
        _spill(self.url, batch, last_error)


_writers: dict[str, _Writer] = {}
_writers_lock = threading.Lock()


def record(rec: CallRecord, url: str | None = None) -> None:
    """Queue ``rec`` for writing to the store at ``url`` (default: ``LLMLAB_DB``).

    Returns at once; the row is written by a background thread within about 50 ms.
    """
    row = {name: getattr(rec, name) for name in _FIELDS}
    row["tags"] = dict(rec.tags)
    _writer_for(url).put(row)


def flush(url: str | None = None, timeout: float | None = FLUSH_TIMEOUT_S) -> bool:
    """Block until every call queued for ``url`` before this call is written.

    Returns False if that took longer than ``timeout`` seconds.
    """
    return _flush_writer(_writer_for(url), timeout)


def add_batch_listener(fn: BatchListener) -> None:
    """Call ``fn(engine, rows)`` on the writer thread after each batch is committed.

    For work that must not hold the write transaction (alerts, OpenTelemetry export).
    Exceptions are logged and do not affect recording.
    """
    if fn not in _listeners:
        _listeners.append(fn)


def remove_batch_listener(fn: BatchListener) -> None:
    """Undo :func:`add_batch_listener`."""
    if fn in _listeners:
        _listeners.remove(fn)


def add_batch_hook(fn: BatchHook) -> None:
    """Call ``fn(conn, rows)`` inside each batch's insert transaction (rollups).

    Keep it fast: it holds the database's write lock. If it raises, the batch is
    retried, and in the end written without hooks (the calls are never dropped for it).
    """
    if fn not in _hooks:
        _hooks.append(fn)


def remove_batch_hook(fn: BatchHook) -> None:
    """Undo :func:`add_batch_hook`."""
    if fn in _hooks:
        _hooks.remove(fn)


def _writer_for(url: str | None) -> _Writer:
    # A resolved URL (what the model call path passes) needs no lookup at all.
    resolved = url if url is not None and "://" in url else cached_database_url(url)
    writer = _writers.get(resolved)
    if writer is None:
        with _writers_lock:
            writer = _writers.get(resolved)
            if writer is None:
                writer = _writers[resolved] = _Writer(resolved)
    return writer


def _bad_rows(exc: BaseException) -> bool:
    """Whether ``exc`` is the rows' fault (a duplicate id, a value the column refuses),
    so that retrying the same batch cannot help."""
    if isinstance(exc, IntegrityError | DataError | TypeError | ValueError):
        return True
    # SQLAlchemy wraps a bind processor's refusal (a float for money) in StatementError.
    return type(exc) is StatementError and isinstance(exc.orig, TypeError | ValueError)


def _flush_writer(writer: _Writer, timeout: float | None) -> bool:
    marker = threading.Event()
    writer.put(marker)
    return marker.wait(timeout)


def _flush_all() -> None:
    for writer in list(_writers.values()):
        thread = writer.thread
        if not writer.queue and (thread is None or not thread.is_alive()):
            continue
        # Even with an empty queue a batch may be in flight: wait for it too.
        if not _flush_writer(writer, FLUSH_TIMEOUT_S):
            logger.error(
                "exiting with %d call record(s) not yet written to %s",
                sum(isinstance(item, dict) for item in writer.queue),
                safe_url(writer.url),
            )


def _run_hooks(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    for hook in list(_hooks):
        hook(conn, rows)


def _notify_listeners(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    for listener in list(_listeners):
        try:
            listener(engine, rows)
        except Exception:  # a listener must not stop recording
            logger.exception("batch listener %r failed", listener)


def _spill(url: str, batch: list[Row], error: BaseException | None) -> None:
    path = SPILL_PATH.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for row in batch:
                out.write(json.dumps(row, default=_json_default) + "\n")
    except OSError as exc:
        logger.error(
            "LOST %d call record(s): cannot write to %s (%s) nor to %s (%s)",
            len(batch),
            safe_url(url),
            _describe(error),
            path,
            exc,
        )
        return
    logger.error(
        "cannot write %d call record(s) to %s (%s); saved them to %s",
        len(batch),
        safe_url(url),
        _describe(error),
        path,
    )


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # Decimal exactly; anything else as text rather than losing the row


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, LlmlabError):
        return str(exc)
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _forget_writers_in_child() -> None:
    # A forked child must not write the parent's queued rows a second time.
    _writers.clear()


os.register_at_fork(after_in_child=_forget_writers_in_child)
atexit.register(_flush_all)
