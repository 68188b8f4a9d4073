"""The Store handle: life cycle, components, the default handle, forked children."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import text

import llmlab
from llmlab._errors import StoreError
from llmlab.store import (
    Store,
    default_store,
    resolve_store,
    set_default_store,
    using_store,
)


class _Part:
    """A component that notes when it is closed or told about a fork."""

    def __init__(self, store: Store, log: list[str], name: str) -> None:
        self.store = store
        self.log = log
        self.name = name

    def close(self) -> None:
        self.log.append(f"close {self.name}")


class _First(_Part):
    pass


class _Second(_Part):
    pass


class _Failing(_Part):
    def close(self) -> None:
        self.log.append("close failing")
        raise RuntimeError("boom")


def test_open_names_the_file_and_closes(tmp_path: Path) -> None:
    store = llmlab.open(str(tmp_path / "a.db"))
    assert isinstance(store, llmlab.Store)
    assert store.dialect == "sqlite"
    assert store.path == (tmp_path / "a.db").resolve()
    assert store.url == f"sqlite:///{(tmp_path / 'a.db').resolve()}"
    with store.write() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with store.read() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalar() == 1
    assert not store.closed
    store.close()
    store.close()  # idempotent
    assert store.closed


def test_with_block_closes_components_newest_first(tmp_path: Path) -> None:
    log: list[str] = []
    with Store(str(tmp_path / "c.db")) as store:
        first = store.component(_First, lambda s: _First(s, log, "first"))
        store.component(_Failing, lambda s: _Failing(s, log, "failing"))
        store.component(_Second, lambda s: _Second(s, log, "second"))
        assert store.component(_First, lambda s: _First(s, log, "again")) is first
        assert store.peek(_Second) is not None
        assert log == []
    # Newest first; one failing close does not keep the others open.
    assert log == ["close second", "close failing", "close first"]
    assert store.closed
    assert store.peek(_First) is None


def test_closed_store_refuses_new_components(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "d.db"))
    store.close()
    with pytest.raises(StoreError, match="closed; open it again"):
        store.component(_First, lambda s: _First(s, [], "late"))


def test_peek_never_makes_a_component(tmp_path: Path) -> None:
    with Store(str(tmp_path / "p.db")) as store:
        assert store.peek(_First) is None
        assert store.peek(_First) is None


def test_default_handle_follows_llmlab_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMLAB_DB", str(tmp_path / "default.db"))
    previous = set_default_store(None)
    try:
        store = default_store()
        assert store.path == (tmp_path / "default.db").resolve()
        assert default_store() is store
        assert resolve_store(None) is store
        store.close()
        reopened = default_store()  # a closed default is replaced on next use
        assert reopened is not store and not reopened.closed
        reopened.close()
    finally:
        set_default_store(previous)


def test_set_default_and_using_store(tmp_path: Path) -> None:
    with Store(str(tmp_path / "one.db")) as one, Store(str(tmp_path / "two.db")) as two:
        previous = set_default_store(one)
        try:
            assert default_store() is one
            with using_store(two):
                assert default_store() is two
                assert resolve_store(one) is one  # an explicit store wins
            assert default_store() is one
            assert set_default_store(previous) is one
        finally:
            set_default_store(previous)
        assert not one.closed  # replacing the default does not close it


def test_empty_sqlite_path_is_refused_not_kept_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMLAB_DB", "sqlite:///")
    with pytest.raises(StoreError, match="names no file"):
        llmlab.open()
    with Store("sqlite://") as memory:  # the explicit in-memory form still works
        assert memory.path is None


class _Forkable(_Part):
    def after_fork(self) -> None:
        self.log.append("after_fork")


def _child(store: Store, queue: multiprocessing.Queue[object]) -> None:
    try:
        with store.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        with store.read() as conn:
            total = conn.execute(text("SELECT sum(x) FROM t")).scalar()
        forkable = store.peek(_Forkable)
        queue.put(
            (
                total,
                list(forkable.log) if forkable is not None else None,
                store.peek(_First) is None,
            )
        )
    except BaseException as exc:  # reported to the parent, which fails the test
        queue.put(repr(exc))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_store_works_in_a_forked_child(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = str(tmp_path / "fork.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    with Store(url) as store:
        with store.write() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        log: list[str] = []
        store.component(_Forkable, lambda s: _Forkable(s, log, "forkable"))
        store.component(_First, lambda s: _First(s, log, "first"))
        with store.read() as conn:  # the parent holds pooled connections when it forks
            conn.execute(text("SELECT 1"))
        context = multiprocessing.get_context("fork")
        queue: multiprocessing.Queue[object] = context.Queue()
        child = context.Process(target=_child, args=(store, queue))
        child.start()
        result = queue.get(timeout=60)
        child.join(timeout=60)
        assert child.exitcode == 0
        assert result == (3, ["after_fork"], True), result
        with store.read() as conn:  # the parent's handle still works
            assert conn.execute(text("SELECT sum(x) FROM t")).scalar() == 3
    assert log == ["close first", "close forkable"]
