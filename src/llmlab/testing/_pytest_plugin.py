"""The llmlab pytest plugin (entry point ``pytest11: llmlab``).

Fixtures:

- ``wire_server``: a running :class:`~llmlab.testing.WireServer`, reset before each test
  (default config, no faults, no scripted replies, empty request history). One server
  serves the whole session; tests that need their own use ``WireServer()`` directly.
- ``llmlab_db``: a fresh SQLite database URL in the test's temporary folder, set as
  ``LLMLAB_DB`` for the test.

Kept light to import: pytest loads it in every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.testing._server import WireServer

__all__ = ["llmlab_db", "wire_server"]


# --- wire-format server ---------------------------------------------------------------


@pytest.fixture(scope="session")
def _llmlab_wire_server_session() -> Iterator[WireServer]:
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
def llmlab_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite URL for an empty database of this test's own, also set as ``LLMLAB_DB``."""
    url = f"sqlite:///{tmp_path / 'llmlab.db'}"
    monkeypatch.setenv("LLMLAB_DB", url)
    return url


# --- evals: assert_eval ---------------------------------------------------------------
# Reserved for the evals helper: the ``assert_eval`` fixture/helper (issue 3) goes here.
