"""Keep API keys out of records, logs and error messages.

Provider errors can echo a key back (``Incorrect API key provided: sk-...``), and an SDK
exception's text is what ends up in ``calls.error_message`` and on the terminal. Every
message the call path stores or raises passes through ``redact`` first.
"""

from __future__ import annotations

import os
import re

__all__ = ["redact", "register_secret"]

_MIN_SECRET_LEN = 8
# Key shapes providers use, caught even when the key came from somewhere we never saw.
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}|\bBearer\s+[A-Za-z0-9._\-]{8,}")
_SECRET_ENV = re.compile(r"(?:API_KEY|_TOKEN|_SECRET|AUTH_KEY)$")

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a key passed in code (not through the environment) so it is redacted too."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _secrets.add(value)


def _env_secrets() -> set[str]:
    return {
        value
        for name, value in os.environ.items()
        if _SECRET_ENV.search(name) and len(value) >= _MIN_SECRET_LEN
    }


def redact(text: str) -> str:
    """``text`` with every known key, and anything shaped like one, replaced by ``***``."""
    if not text:
        return text
    for secret in _secrets | _env_secrets():
        if secret in text:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("***", text)
