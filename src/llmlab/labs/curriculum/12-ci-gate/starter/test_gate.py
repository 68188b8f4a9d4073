"""The CI gate of the question-answering feature: `pytest test_gate.py`.

CI runs this file on every change to prompt.txt. Today it only checks that the prompt
file exists, so a prompt that breaks the feature goes straight to production.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def test_prompt_exists() -> None:
    assert (HERE / "prompt.txt").read_text().strip()
