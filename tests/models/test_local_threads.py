"""The embedded model's thread count is pinned (no model needed to check it)."""

from __future__ import annotations

import pytest


def test_local_threads_are_pinned_not_taken_from_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmlab import ConfigError
    from llmlab.models._local import DEFAULT_LOCAL_THREADS, local_threads

    monkeypatch.delenv("LLMLAB_LOCAL_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert local_threads() == DEFAULT_LOCAL_THREADS == 2
    monkeypatch.setenv("LLMLAB_LOCAL_THREADS", "4")
    assert local_threads() == 4
    for bad in ("0", "-1", "two", "1000"):
        monkeypatch.setenv("LLMLAB_LOCAL_THREADS", bad)
        with pytest.raises(ConfigError, match="LLMLAB_LOCAL_THREADS"):
            local_threads()
