"""Who is told when spilled rows are replayed (kept apart from ``_spill.py``, which loads
SQLAlchemy, so that registering a hook at import time costs nothing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["ReplayHook", "add_replay_hook", "replay_hooks"]

ReplayHook = Callable[["Connection", Sequence[Mapping[str, Any]]], None]
"""Runs in the replay's transaction with the rows that were new (call rollups)."""

_hooks: dict[str, list[ReplayHook]] = {}


def add_replay_hook(table: str, hook: ReplayHook) -> None:
    """Run ``hook(conn, new_rows)`` when spilled rows of ``table`` are replayed."""
    hooks = _hooks.setdefault(table, [])
    if hook not in hooks:
        hooks.append(hook)


def replay_hooks(table: str) -> list[ReplayHook]:
    """The hooks of ``table``, in the order they were added."""
    return list(_hooks.get(table, []))
