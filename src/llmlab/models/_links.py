"""Links from a call to what made it (prompt version, experiment arm, eval sample).

Set with ``call_links(...)`` around the calls; the call path copies them into the
CallRecord. A context variable, so concurrent tasks keep their own links.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["CallLinks", "call_links", "current_links"]


@dataclass(frozen=True, slots=True)
class CallLinks:
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_hash: str | None = None
    experiment: str | None = None
    arm: str | None = None
    eval_run: str | None = None
    sample_id: str | None = None
    epoch: int | None = None


# CallLinks is frozen, so one shared default is safe.
_links: ContextVar[CallLinks] = ContextVar("llmlab_call_links", default=CallLinks())  # noqa: B039


def current_links() -> CallLinks:
    """The links in force for calls made now."""
    return _links.get()


_FIELDS = tuple(field.name for field in dataclasses.fields(CallLinks))


def _merged(base: CallLinks, links: dict[str, str | int | None]) -> CallLinks:
    # Built directly rather than with dataclasses.replace (which inspects the class on
    # every call): the eval runner sets links once per case.
    unknown = links.keys() - _FIELDS
    if unknown:
        raise TypeError(f"call_links() got unknown link(s): {', '.join(sorted(unknown))}")
    values = [links[name] if name in links else getattr(base, name) for name in _FIELDS]
    return CallLinks(*values)  # type: ignore[arg-type]


@contextlib.contextmanager
def call_links(**links: str | int | None) -> Iterator[CallLinks]:
    """Link every call made inside the block to a prompt, experiment arm or eval sample.

    Nested blocks add to (and override) the outer links.
    """
    merged = _merged(_links.get(), links)
    token = _links.set(merged)
    try:
        yield merged
    finally:
        _links.reset(token)
