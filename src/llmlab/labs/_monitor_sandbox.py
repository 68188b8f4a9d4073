"""The sandbox the monitor lab kinds grade in: a fresh store, a priced model, no network.

A check must not touch the learner's own database, must not flake, and must cost real
money: so each criterion gets a new SQLite store in a temporary folder (the default handle
while it runs, for code that uses the guide's ``PromptRegistry()``), and a hosted model
name (priced by genai-prices as the real one) answered by llmlab.testing's wire server on
loopback.
"""

from __future__ import annotations

import contextlib
import logging
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from llmlab.models import Model, get_model
from llmlab.monitor import flush
from llmlab.store import CallRow, Store, iter_calls, using_store

if TYPE_CHECKING:
    from llmlab.testing import WireServer

__all__ = [
    "alerts_unlogged",
    "call_ids",
    "check_seed",
    "fresh_store",
    "hosted_model",
    "new_calls",
    "ticket_lines",
]


def check_seed() -> int:
    """A new seed each check: the answer cannot be learnt from an earlier check."""
    return random.SystemRandom().randrange(1, 1_000_000)


@contextlib.contextmanager
def fresh_store(label: str) -> Iterator[Store]:
    """A new store in a temporary folder, the default handle while the block runs."""
    with tempfile.TemporaryDirectory(prefix=f"llmlab-lab-{label}-") as tmp:
        store = Store(str(Path(tmp) / "check.db"))
        try:
            with using_store(store):
                yield store
        finally:
            store.close()


def _not_an_alert(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("llmlab alert:")


@contextlib.contextmanager
def alerts_unlogged() -> Iterator[None]:
    """The sandbox's budget alerts are shown in the report, not logged as the learner's."""
    logger = logging.getLogger("llmlab.monitor")
    logger.addFilter(_not_an_alert)
    try:
        yield
    finally:
        logger.removeFilter(_not_an_alert)


@contextlib.contextmanager
def hosted_model(store: Store, name: str) -> Iterator[tuple[WireServer, Model]]:
    """``name`` (an ``openai/`` model, priced as the real one) served by a local server."""
    # Loaded here: the server's aiohttp app would slow every `llmlab labs` command's start.
    from llmlab.testing import WireServer

    with WireServer() as server:
        yield (
            server,
            get_model(name, store=store, base_url=server.openai_base_url, api_key="sk-llmlab-lab"),
        )


def ticket_lines(path: Path) -> list[str]:
    """The non-blank lines of a lab file (tickets, one a line)."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def new_calls(store: Store, before: set[str]) -> list[CallRow]:
    """The calls recorded in ``store`` since ``before`` (``call_ids``), in time order."""
    flush(store=store)
    return [row for row in iter_calls(store) if row.id not in before]


def call_ids(store: Store) -> set[str]:
    """The ids of every call recorded in ``store`` so far."""
    flush(store=store)
    return {row.id for row in iter_calls(store)}
