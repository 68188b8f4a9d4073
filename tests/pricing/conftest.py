"""Pricing tests start with no override file and a clean warn-once memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab.pricing import _overrides, _prices


@pytest.fixture(autouse=True)
def _clean_pricing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMLAB_PRICES", raising=False)
    # These tests edit price files and expect the very next call to see the edit.
    monkeypatch.setattr(_overrides, "RECHECK_S", 0.0)
    _prices._warned.clear()
    yield
    _prices._warned.clear()
    _overrides.forget_overrides()  # nothing of these files lingers into other tests
