"""Whether call content (request and response text) is stored: one switch, read once."""

from __future__ import annotations

import os

__all__ = ["capture_content"]

_OFF = frozenset({"0", "false", "no", "off"})


def capture_content() -> bool:
    """Whether request and response text are stored (``LLMLAB_CAPTURE_CONTENT``, default on).

    Off for ``0``, ``false``, ``no`` or ``off`` (any case).
    """
    return os.environ.get("LLMLAB_CAPTURE_CONTENT", "1").strip().lower() not in _OFF
