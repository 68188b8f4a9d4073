"""Shared set-up for the evals tests: the minimal suite, and the OpenAI SDK pointed at
the local wire server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.store import Store
from llmlab.testing import WireServer

SUITE_YAML = """\
name: bench
prompt: "{{ input }}"
dataset: samples.jsonl        # path relative to this file
scorers:
  - includes: "{{ target }}"
"""


def write_suite(folder: Path, n: int, *, fail_every: int = 0, extra: str = "") -> Path:
    """The issue's minimal suite over ``n`` cases; every ``fail_every``-th target is absent
    from the wire server's echo reply, so that case fails."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "samples.jsonl").open("w") as handle:
        for i in range(n):
            target = "absent" if fail_every and i % fail_every == 0 else f"w{i}"
            handle.write(json.dumps({"id": str(i), "input": f"say w{i}", "target": target}) + "\n")
    suite = folder / "suite.yaml"
    suite.write_text(SUITE_YAML + extra)
    return suite


@pytest.fixture
def openai_env(
    wire_server: WireServer, llmlab_store: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WireServer]:
    """OPENAI_BASE_URL and a dummy key for the wire server; a fresh store (the default)."""
    monkeypatch.setenv("OPENAI_BASE_URL", wire_server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-evals")
    yield wire_server
