"""``labs watch``: re-check when a learner file changes, or when a key is pressed.

File times are polled (no extra dependency, works on every file system, network mounts
included); Enter re-checks by hand for editors whose saves keep the time, ``q`` quits.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

__all__ = ["watch_files"]


def _snapshot(paths: Sequence[Path]) -> tuple[tuple[float, int] | None, ...]:
    shot: list[tuple[float, int] | None] = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            shot.append(None)
        else:
            shot.append((stat.st_mtime, stat.st_size))
    return tuple(shot)


def _key(keys: TextIO | None, timeout: float) -> str | None:
    """A line typed within ``timeout`` ("" for Enter), None when nothing came."""
    if keys is None:
        time.sleep(timeout)
        return None
    try:
        ready, _, _ = select.select([keys], [], [], timeout)
    except (ValueError, OSError):  # no real file behind it (a test's StringIO)
        time.sleep(timeout)
        return None
    if not ready:
        return None
    line = keys.readline()
    if line == "":  # end of input: keys are gone, keep watching files
        raise EOFError
    return line.strip()


def watch_files(
    paths: Sequence[Path],
    check: Callable[[], None],
    *,
    interval: float = 0.5,
    max_checks: int | None = None,
    keys: TextIO | None = None,
    waiting: Callable[[], None] = lambda: None,
) -> int:
    """Run ``check`` now and after every change of ``paths``; returns the checks run."""
    checks = 0
    while True:
        seen = _snapshot(paths)
        check()
        checks += 1
        if max_checks is not None and checks >= max_checks:
            return checks
        waiting()
        while True:
            try:
                typed = _key(keys, interval)
            except EOFError:
                keys = None
                continue
            if typed is not None and typed.lower() in ("q", "quit"):
                return checks
            if typed is not None or _snapshot(paths) != seen:
                break
