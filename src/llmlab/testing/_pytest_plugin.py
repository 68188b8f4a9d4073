"""The llmlab pytest plugin (entry point ``pytest11: llmlab``).

Fixtures:

- ``wire_server``: a running :class:`~llmlab.testing.WireServer`, reset before each test
  (default config, no faults, no scripted replies, empty request history). One server
  serves the whole session; tests that need their own use ``WireServer()`` directly.
- ``llmlab_db``: a fresh SQLite database URL in the test's temporary folder, set as
  ``LLMLAB_DB`` for the test; its store is the default handle during the test.
- ``llmlab_store``: the open :class:`~llmlab.store.Store` of ``llmlab_db``.
- ``assert_eval``: run an eval suite in the test's store and fail below a pass rate.

Kept light to import: pytest loads it in every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from llmlab.store import Store
    from llmlab.testing._server import WireServer

__all__ = ["assert_eval", "llmlab_db", "llmlab_store", "wire_server"]


# --- wire-format server ---------------------------------------------------------------


@pytest.fixture(scope="session")
def _llmlab_wire_server_session() -> Iterator[WireServer]:
    # Imported here, not at the top: aiohttp costs every pytest session ~0.4 s otherwise.
    from llmlab.testing._server import WireServer

    with WireServer() as server:
        yield server


@pytest.fixture
def wire_server(_llmlab_wire_server_session: WireServer) -> Iterator[WireServer]:
    """A local OpenAI/Anthropic wire server, fresh for this test (``.url``, ``.faults``...)."""
    _llmlab_wire_server_session.reset()
    yield _llmlab_wire_server_session
    _llmlab_wire_server_session.reset()


# --- store ----------------------------------------------------------------------------


@pytest.fixture
def llmlab_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An open store on an empty SQLite file of this test's own: the default handle and
    ``LLMLAB_DB`` during the test, closed afterwards."""
    from llmlab.store import Store, set_default_store

    url = f"sqlite:///{tmp_path / 'llmlab.db'}"
    monkeypatch.setenv("LLMLAB_DB", url)
    store = Store(url)
    previous = set_default_store(store)
    try:
        yield store
    finally:
        set_default_store(previous)
        store.close()


@pytest.fixture
def llmlab_db(llmlab_store: Store) -> str:
    """A SQLite URL for an empty database of this test's own, also set as ``LLMLAB_DB``."""
    return llmlab_store.url


# --- evals: assert_eval ---------------------------------------------------------------


@pytest.fixture
def assert_eval(llmlab_store: Store) -> Callable[..., Any]:
    """Run an eval suite in this test's own store; fail the test below a pass rate.

    ``assert_eval(suite, min_pass_rate=0.9, model=..., epochs=...)`` returns the run, or
    raises ``AssertionError`` listing the failed cases.
    """
    # Imported here, not at the top: evals pulls in the SDKs and the store, and this
    # plugin is loaded by every pytest run.
    from llmlab.testing._eval_plugin import assert_eval as run_and_assert

    def check(suite: Any, *, min_pass_rate: float | None = None, **options: Any) -> Any:
        return run_and_assert(suite, min_pass_rate=min_pass_rate, store=llmlab_store, **options)

    return check
