"""The largest counts a command, suite or API call may ask for.

Far above any real use: past them a typo (a few extra digits) would run for days or
exhaust memory instead of failing at once with a one-line error.
"""

from __future__ import annotations

from llmlab._errors import InputError

__all__ = ["MAX_CONCURRENCY", "MAX_EPOCHS", "MAX_LISTED", "check_count"]

MAX_EPOCHS = 1_000
"""Trials per case (``--epochs``, a suite's ``epochs``)."""
MAX_CONCURRENCY = 1_000
"""Cases in flight at once (``--concurrency``)."""
MAX_LISTED = 100_000
"""Rows a listing prints (``--limit``) or outputs a judge re-judges."""


def check_count(what: str, value: int, most: int, *, least: int = 1) -> None:
    """Refuse ``value`` outside ``least..most`` with a one-line ``InputError``."""
    if not least <= value <= most:
        raise InputError(f"{what} must be from {least} to {most:,}, not {value}")
