"""Constants shared by the model tests."""

from __future__ import annotations

from typing import Any

# Distinctive, so a test can prove it never reaches the database or the logs.
FAKE_OPENAI_KEY = "sk-llmlabtest-OPENAI-7d1e0c9b5a3f4e2d"
FAKE_ANTHROPIC_KEY = "sk-ant-llmlabtest-ANTHROPIC-9f8e7d6c5b4a"

# Retry fast in tests: the waits that matter (Retry-After) are set per test.
FAST: dict[str, Any] = {"base_delay_s": 0.01, "max_delay_s": 0.05}
