"""Time windows as users write them: ``30m``, ``24h``, ``7d``, ``2w``, or ISO dates/times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from llmlab._errors import InputError

__all__ = ["WINDOW_FORMS", "parse_instant", "parse_window"]

WINDOW_FORMS = (
    "a duration back from now (30m, 24h, 7d, 2w), "
    "an ISO date (2026-11-01) or an ISO date and time (2026-11-01T12:00, 2026-11-01T12:00Z, "
    "2026-11-01T12:00+01:00)"
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_instant(text: str, *, now: datetime | None = None, option: str = "--since") -> datetime:
    """An instant from ``text``: a duration back from ``now`` or an ISO date/time (UTC)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text)
    if match:
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
        try:
            return now - timedelta(seconds=seconds)
        except OverflowError:  # before year 1, or past what a timedelta holds
            raise InputError(
                f"{option} {text!r} reaches back before year 1; use a shorter duration"
            ) from None
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a time window; use {WINDOW_FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_window(
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    *,
    last_hours: float | None = None,
    now: datetime | None = None,
) -> tuple[datetime | None, datetime]:
    """``(since, until)`` in UTC; ``since`` None means from the first call.

    Raises:
        InputError: a malformed window, or ``since`` not before ``until``.
    """
    now = now or datetime.now(UTC)
    end = _instant(until, now, "--until") if until is not None else now
    start: datetime | None
    if last_hours is not None:
        if last_hours <= 0:
            raise InputError(f"last_hours must be positive, got {last_hours}")
        start = end - timedelta(hours=last_hours)
    else:
        start = _instant(since, now, "--since") if since is not None else None
    if start is not None and start >= end:
        raise InputError(
            f"the window starts ({start.isoformat()}) at or after it ends ({end.isoformat()})"
        )
    return start, end


def _instant(value: str | datetime, now: datetime, option: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return parse_instant(value, now=now, option=option)
