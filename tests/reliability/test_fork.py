"""Item 8: calls recorded in child processes arrive, whatever starts and ends them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from llmlab.store import Store
from llmlab.store._tables_calls import calls

from . import _workers

N_CALLS = 1000
WORKERS = 2


def _count(store: Store, tag: str) -> int:
    with store.read() as conn:
        rows = conn.execute(select(calls.c.tags)).scalars().all()
    return sum(1 for tags in rows if (tags or {}).get("test") == tag)


@pytest.fixture
def parent_store(backend_url: str) -> Store:
    """The store open in the parent (and so inherited by forked children), with the
    parent's own calls recorded, so that its pool and recorder were in use at fork time."""
    store = Store(backend_url)
    _workers.use_store(store)
    _workers.make_calls(backend_url, "parent", 0, 20)
    yield store  # type: ignore[misc]
    _workers.use_store(None)
    store.close()


METHODS = ["fork", "forkserver", "spawn"]


@pytest.mark.parametrize("method", METHODS)
def test_process_children_deliver_every_call(parent_store: Store, method: str) -> None:
    ctx = multiprocessing.get_context(method)
    per = N_CALLS // WORKERS
    children = [
        ctx.Process(target=_workers.make_calls, args=(parent_store.url, "proc", i * per, per))
        for i in range(WORKERS)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    assert _count(parent_store, "proc") == N_CALLS
    assert _count(parent_store, "parent") == 20


@pytest.mark.parametrize("method", METHODS)
def test_pool_workers_deliver_every_call(parent_store: Store, method: str) -> None:
    ctx = multiprocessing.get_context(method)
    per = N_CALLS // 10
    tasks = [(parent_store.url, "pool", i * per, per) for i in range(10)]
    with ctx.Pool(WORKERS) as pool:  # __exit__ terminates the workers (SIGTERM)
        assert sum(pool.map(_workers.make_calls_task, tasks)) == N_CALLS
    assert _count(parent_store, "pool") == N_CALLS


@pytest.mark.parametrize("method", METHODS)
def test_process_pool_executor_workers_deliver_every_call(parent_store: Store, method: str) -> None:
    ctx = multiprocessing.get_context(method)
    per = N_CALLS // 10
    tasks = [(parent_store.url, "ppe", i * per, per) for i in range(10)]
    with ProcessPoolExecutor(WORKERS, mp_context=ctx) as pool:
        assert sum(pool.map(_workers.make_calls_task, tasks)) == N_CALLS
    assert _count(parent_store, "ppe") == N_CALLS


def test_sigterm_flushes_what_is_queued(backend_url: str, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
        from reliability import _workers
        _workers.calls_then_wait_for_sigterm({backend_url!r}, "term", 300, {str(ready)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline:
            assert child.poll() is None, "the child ended early"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        code = child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
    assert code == -signal.SIGTERM  # it still ends the way SIGTERM ends a process
    with Store(backend_url) as store:
        assert _count(store, "term") == 300


def test_sigterm_handler_is_not_installed_over_another(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import signal, sys
        sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
        mine = lambda *a: None
        signal.signal(signal.SIGTERM, mine)
        from reliability import _workers
        _workers.make_calls({f"sqlite:///{tmp_path / 'x.db'}"!r}, "t", 0, 5)
        assert signal.getsignal(signal.SIGTERM) is mine
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
