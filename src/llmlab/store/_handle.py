"""The store handle: one object owns everything tied to one database.

A :class:`Store` is opened once, at the edge (a CLI command, the web app, a user's
``llmlab.open()``), and handed down. It holds the engine and the per-database state of
every package above the store (the call recorder, the budget ledger, prompt caches,
alert sinks ...) as *components*: each package asks the handle for its own component
(``store.component(Recorder, Recorder)``), created on first use and closed with the
handle, so the layering stays one-way and no module keeps state keyed by a URL.

The guide's simple classes (``LLMMonitor()``, ``PromptRegistry()``) work on the
*default* handle: opened on first use from ``LLMLAB_DB`` (else ``.llmlab/llmlab.db``),
replaced with :func:`set_default_store`.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import re
import signal
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llmlab._errors import StoreError
from llmlab.store._engine import database_url, open_engine, safe_url
from llmlab.store._fast_sqlite import FastSqlite
from llmlab.store._sqlite import begin_write

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = [
    "Store",
    "current_default_store",
    "default_store",
    "open_store",
    "resolve_store",
    "set_default_store",
    "using_store",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_open_stores: weakref.WeakSet[Store] = weakref.WeakSet()
# An SQLite file named by a plain URL (no driver options, not a "file:" URI, no "%", which
# SQLAlchemy would percent-decode): the fast path may open it.
_SQLITE_FILE = re.compile(r"^sqlite(?:\+pysqlite)?:///([^?%]+)$")


class Store:
    """One database and the state that belongs to it (engine, recorder, caches ...).

    Open with :func:`llmlab.open` (or ``Store(url)``); close with :meth:`close` or a
    ``with`` block. Thread-safe; a forked child process gets fresh connections and fresh
    components. ``url``: a SQLAlchemy URL or a path to an SQLite file; ``None`` reads
    ``LLMLAB_DB``, else ``.llmlab/llmlab.db`` under the working folder.

    Raises:
        StoreError: the database cannot be opened or migrated.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url: str = database_url(url)
        self.safe_url: str = safe_url(self.url)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        # An SQLite file at the current schema opens without SQLAlchemy: the engine is made
        # on first use of .engine / read() / write(); until then the few statements of a
        # one-call command go through sqlite3 (see _fast_sqlite.py).
        self._fast: FastSqlite | None = None
        sqlite_file = _SQLITE_FILE.match(self.url)
        if sqlite_file and migrate and sqlite_file.group(1) != ":memory:":
            self._fast = FastSqlite.open(Path(sqlite_file.group(1)), self.safe_url)
        if self._fast is not None and sqlite_file is not None:
            self.dialect: str = "sqlite"
            # The folder beside the database for files that belong to it (spilled records).
            self.path: Path | None = Path(sqlite_file.group(1))
        else:
            engine = self._engine = open_engine(self.url, migrate=migrate)
            self.dialect = engine.dialect.name
            # None for a server database or an in-memory one.
            database = engine.url.database or ""
            is_file = self.dialect == "sqlite" and database not in ("", ":memory:")
            self.path = Path(database) if is_file else None
        self._components: dict[object, Any] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._closing = False
        self._pid = os.getpid()
        _open_stores.add(self)
        _install_sigterm_flush()
        if migrate:
            self.replay_spilled()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (made on first use on an SQLite file)."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                engine = self._engine
                if engine is None:
                    # Checked at the current schema when the store opened: no migration.
                    engine = self._engine = open_engine(self.url, migrate=False)
        return engine

    def fast_sink(self) -> FastSqlite | None:
        """The sqlite3 fast path while no engine was made (recorder batches), else None."""
        return self._fast if self._engine is None else None

    def any_rows(self, table: str) -> bool:
        """Whether ``table`` holds any row (``budgets``, ``alert_rules``): callers skip
        their full code path, and SQLAlchemy, when it is empty."""
        fast = self.fast_sink()
        if fast is not None:
            return fast.any_rows(table)
        from llmlab.store._fast_sql import ANY_ROWS

        with self.read() as conn:
            return conn.exec_driver_sql(ANY_ROWS[table]).first() is not None

    def replay_spilled(self) -> int:
        """Write the rows an earlier run could not write (the spill file), idempotently.

        Called when the store opens; writers call it again once the database answers
        after an outage. Returns how many rows were newly stored; a failure is logged and
        the rows are kept for the next try.
        """
        if self.path is not None:
            # On a file the spill file's place is known: look before loading the replay code.
            spilled = self.path.with_name(self.path.name + ".unwritten.jsonl")
            if not spilled.exists():
                return 0
        from llmlab.store._spill import replay_spill

        try:
            return replay_spill(self)
        except Exception as exc:  # the rows stay in the spill file for the next open
            logger.warning("could not replay unwritten rows into %s yet: %s", self.safe_url, exc)
            return 0

    # --- components ----------------------------------------------------------------

    def component(self, key: type[T], factory: Callable[[Store], T]) -> T:
        """The component of type ``key`` for this database, made by ``factory`` on first use.

        A component with a ``close()`` method is closed with the handle (newest first); one
        with ``after_fork()`` is told when a forked child starts using the handle.
        """
        found = self._components.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self.safe_url} is closed; open it again")
            found = self._components.get(key)
            if found is None:
                found = factory(self)
                self._components[key] = found
        return found

    def peek(self, key: type[T]) -> T | None:
        """The component of type ``key`` if one was made, else None (never makes one)."""
        return self._components.get(key)

    # --- connections ---------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading, in a transaction that is rolled back at the end."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed at the end; on SQLite it takes the lock first."""
        with begin_write(self.engine) as conn:
            yield conn

    # --- life ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def close(self) -> None:
        """Close every component (flushing what they hold), then the engine. Idempotent."""
        with self._lock:
            if self._closed or self._closing:
                return
            self._closing = True
        _closes.enter()
        try:
            self._close_components()
        finally:
            _closes.leave()
        if self._engine is not None:
            self._engine.dispose()
        if self._fast is not None:
            self._fast.close()
        _open_stores.discard(self)

    def _close_components(self) -> None:
        # Newest first; closing one (the recorder's last flush) may still use, or even make,
        # another, so take them one at a time until none is left.
        while True:
            with self._lock:
                if not self._components:
                    self._closed = True
                    break
                _key, component = self._components.popitem()
            close = getattr(component, "close", None)
            if close is None:
                continue
            try:
                close()
            except Exception:  # one component's failure must not keep the others open
                logger.exception("closing %s of %s failed", type(component).__name__, self)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.safe_url!r})"

    def _after_fork_in_child(self) -> None:
        # The parent's connections and threads are not ours: fresh pools, and components
        # that hold threads or queues are told (or dropped, when they can't be told).
        if self._fast is not None:
            # Never used (closing included) in two processes: kept referenced, and the
            # child uses the engine path.
            _inherited_sqlite.append(self._fast)
            self._fast = None
        engine = self._engine
        if engine is not None and self.dialect == "sqlite":
            # An SQLite connection must never be used (closing included) in two processes:
            # keep the inherited ones referenced so the garbage collector never closes them
            # here, under the parent's feet.
            _inherited_sqlite.extend(_pooled_dbapi_connections(engine))
        if engine is not None:
            engine.dispose(close=False)
        self._engine_lock = threading.Lock()
        self._lock = threading.RLock()
        self._pid = os.getpid()
        kept: dict[object, Any] = {}
        for key, component in self._components.items():
            after_fork = getattr(component, "after_fork", None)
            if after_fork is not None:
                after_fork()
                kept[key] = component
        self._components = kept


_inherited_sqlite: list[object] = []


def _pooled_dbapi_connections(engine: Engine) -> list[object]:
    # QueuePool keeps idle connection records in a queue; other pools keep none idle.
    idle = getattr(getattr(engine.pool, "_pool", None), "queue", ())
    return [record.dbapi_connection for record in list(idle) if record.dbapi_connection]


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (see :class:`Store`)."""
    return Store(url)


# --- the default handle ----------------------------------------------------------------

_default: Store | None = None
_default_lock = threading.Lock()


def default_store() -> Store:
    """The handle the guide's simple API uses: opened on first use from ``LLMLAB_DB``."""
    store = _default
    if store is not None and not store.closed:
        return store
    return _open_default()


def current_default_store() -> Store | None:
    """The default handle if one is open, else None (never opens one)."""
    store = _default
    return store if store is not None and not store.closed else None


def _open_default() -> Store:
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Store()
        return _default


def set_default_store(store: Store | None) -> Store | None:
    """Make ``store`` the default handle (None: open from ``LLMLAB_DB`` on next use).

    Returns the previous default, which stays open: close it if it is no longer needed.
    """
    global _default
    with _default_lock:
        previous, _default = _default, store
    return previous


@contextmanager
def using_store(store: Store) -> Iterator[Store]:
    """Make ``store`` the default handle inside a ``with`` block, then restore the old one."""
    previous = set_default_store(store)
    try:
        yield store
    finally:
        set_default_store(previous)


def resolve_store(store: Store | None) -> Store:
    """``store``, or the default handle when None."""
    return store if store is not None else default_store()


def _after_fork_in_child() -> None:
    global _default_lock, _closes
    _default_lock = threading.Lock()
    _closes = _Closes()
    for store in list(_open_stores):
        if not store.closed:
            store._after_fork_in_child()


def _close_all_at_exit() -> None:
    for store in list(_open_stores):
        store.close()


# --- process ends that skip atexit -----------------------------------------------------
# A multiprocessing child (Process, Pool, ProcessPoolExecutor; fork, forkserver or spawn)
# ends with os._exit(): atexit never runs there, so what the recorder still holds would be
# lost. multiprocessing runs its own finalizers before that os._exit(); it clears them in
# each new child, so ours is registered again there by an after-fork hook of its own.
_MP_EXIT_PRIORITY = 10
_mp_hook_owner = threading.Lock()  # any long-lived object: the hook registry holds it weakly


def _register_mp_finalizer(_owner: object = None) -> None:
    multiprocessing.util.Finalize(None, _close_all_at_exit, exitpriority=_MP_EXIT_PRIORITY)


# SIGTERM (docker stop, Kubernetes, Pool.terminate()) ends a process without atexit too.
# The handler closes (and so flushes) every open store, then lets SIGTERM end the process
# as it would have. Installed only over the default action, from the main thread: a
# program (or server) with a SIGTERM handler of its own keeps it.
_sigterm_installed_in: int | None = None


def _install_sigterm_flush() -> None:
    global _sigterm_installed_in
    if _sigterm_installed_in == os.getpid():
        return
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return
    _sigterm_installed_in = os.getpid()


class _Closes:
    """Counts store closes in progress, so that SIGTERM arriving during one (a
    multiprocessing child flushing at its end, when ``Pool.terminate()`` signals it) lets
    it finish before the process ends, instead of ending it halfway."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.pending_signal: int | None = None

    def enter(self) -> None:
        with self.lock:
            self.running += 1

    def leave(self) -> None:
        with self.lock:
            self.running -= 1
            signum = self.pending_signal if self.running == 0 else None
        if signum is not None:
            _end_by_signal(signum)


_closes = _Closes()


def _on_sigterm(signum: int, _frame: object) -> None:
    # Runs in the main thread, maybe on top of a close in progress (lock-free read: the
    # lock may be held by the very frame this handler interrupted).
    if _closes.running:
        _closes.pending_signal = signum  # that close ends the process when it is done
        return
    try:
        _close_all_at_exit()
    finally:
        _end_by_signal(signum)


def _end_by_signal(signum: int) -> None:
    # Chain to the previous (default) action: the process ends as SIGTERM ends it.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)
_register_mp_finalizer()
multiprocessing.util.register_after_fork(_mp_hook_owner, _register_mp_finalizer)
