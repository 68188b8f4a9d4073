"""Keep API keys out of records, logs and error messages.

Provider errors can echo a key back (``Incorrect API key provided: sk-...``), and an SDK
exception's text is what ends up in ``calls.error_message`` and on the terminal. Every
message the call path stores or raises passes through ``redact`` first.

A configured key is redacted by its value, whatever its length: a short key (a local
server's ``abc1234``) is replaced where it stands as a word of its own, so that it does
not blank out the same letters inside other words. Base URLs carrying a user name and
password are refused before any request (:func:`checked_base_url`).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from urllib.parse import urlsplit

from llmlab._errors import ConfigError

__all__ = ["checked_base_url", "redact", "register_secret"]

# Keys at least this long are replaced wherever they appear, shorter ones as whole words.
_SUBSTRING_LEN = 8
# Key shapes providers use, caught even when the key came from somewhere we never saw.
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}|\bBearer\s+[A-Za-z0-9._\-]{8,}")
_SECRET_ENV = re.compile(r"(?:API_KEY|_TOKEN|_SECRET|AUTH_KEY)$")
# The placeholder sent to keyless servers is no secret.
_NOT_SECRETS = frozenset({"no-key"})

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a key passed in code (not through the environment) so it is redacted too."""
    if value and value.strip() and value not in _NOT_SECRETS:
        _secrets.add(value)


def _env_secrets() -> set[str]:
    return {
        value
        for name, value in os.environ.items()
        if _SECRET_ENV.search(name) and value.strip() and value not in _NOT_SECRETS
    }


@lru_cache(maxsize=256)
def _word_pattern(secret: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])")


def redact(text: str) -> str:
    """``text`` with every known key, and anything shaped like one, replaced by ``***``."""
    if not text:
        return text
    # Longest first: a key that contains a shorter one is replaced whole.
    for secret in sorted(_secrets | _env_secrets(), key=len, reverse=True):
        if secret not in text:
            continue
        if len(secret) >= _SUBSTRING_LEN:
            text = text.replace(secret, "***")
        else:
            text = _word_pattern(secret).sub("***", text)
    return _KEY_PATTERN.sub("***", text)


def checked_base_url(url: str | None, where: str, key_hint: str) -> str | None:
    """``url`` when it is a usable endpoint; a one-line ``ConfigError`` otherwise.

    A URL with ``user:password@`` is refused: the SDKs would not send those credentials
    (the server answers 401 or something odd, reported as a malformed reply and retried),
    and the URL would carry the password into logs. The message never shows it.

    Args:
        url: the configured base URL, or None (the SDK's default endpoint).
        where: ``provider/model`` for the message.
        key_hint: where the key belongs instead (``OPENAI_API_KEY``).
    """
    if url is None:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises on a port that is not a number
    except ValueError as exc:
        raise ConfigError(
            f"{where}: the base URL is malformed ({exc}); use http(s)://host[:port]/path"
        ) from None
    if parts.password:
        register_secret(parts.password)
    if parts.username or parts.password:
        shown = f"{parts.scheme}://***@{parts.hostname or ''}{f':{port}' if port else ''}"
        raise ConfigError(
            f"{where}: the base URL carries a user name and password ({shown}...), which are "
            f"not sent as credentials; remove them from the URL and set the key with "
            f"{key_hint}"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{where}: the base URL {url!r} is not an http(s) URL with a host; "
            "use http(s)://host[:port]/path"
        )
    return url
