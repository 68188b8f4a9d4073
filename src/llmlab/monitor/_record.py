"""CallRecord: one row of the ``calls`` table, as the call path hands it over."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypedDict

from llmlab._json import JsonObject

__all__ = ["CallRecord", "CallStatus", "CallValues", "new_call_id"]

CallStatus = Literal["ok", "error", "refused"]


def _reseed() -> None:
    global _prefix, _counter
    _prefix = os.urandom(8).hex()
    _counter = itertools.count(int.from_bytes(os.urandom(4), "big"))


_prefix = ""
_counter = itertools.count()
_reseed()
# A forked child must not hand out its parent's ids.
os.register_at_fork(after_in_child=_reseed)


def new_call_id() -> str:
    """A new unique id for a call: 32 hex digits, a random per-process prefix and a counter.

    No system call per id (``uuid4`` reads the OS random source each time, which on the
    call path also hands the GIL to the recorder thread).
    """
    return f"{_prefix}{next(_counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


@dataclass(slots=True)
class CallRecord:
    """Everything recorded about one model call, success or failure."""

    id: str
    started_at: datetime  # timezone-aware UTC
    provider: str
    requested_model: str
    duration_s: float = 0.0
    ttft_s: float | None = None
    resolved_model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    usage_reported: bool = True
    cost: Decimal | None = None
    currency: str = "USD"
    cost_status: str = "unpriced"  # priced | unpriced | local
    price_source: str | None = None
    status: CallStatus = "ok"
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 1
    finish_reason: str | None = None
    streamed: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    request: JsonObject | None = None  # None when content capture is off
    response_text: str | None = None
    # links that prompts, experiments and evals fill
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_hash: str | None = None
    experiment: str | None = None
    arm: str | None = None
    eval_run: str | None = None
    sample_id: str | None = None
    epoch: int | None = None
    cache_hit: bool = False


class CallValues(TypedDict):
    """A :class:`CallRecord` as the recorder queues it: one ``calls`` row, keyed by column."""

    id: str
    started_at: datetime
    provider: str
    requested_model: str
    duration_s: float
    ttft_s: float | None
    resolved_model: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    usage_reported: bool
    cost: Decimal | None
    currency: str
    cost_status: str
    price_source: str | None
    status: CallStatus
    error_type: str | None
    error_message: str | None
    attempts: int
    finish_reason: str | None
    streamed: bool
    tags: dict[str, str]
    request: JsonObject | None
    response_text: str | None
    prompt_name: str | None
    prompt_version: int | None
    prompt_hash: str | None
    experiment: str | None
    arm: str | None
    eval_run: str | None
    sample_id: str | None
    epoch: int | None
    cache_hit: bool


# The recorder builds a CallValues from a CallRecord key by key: they must not drift apart.
if tuple(CallValues.__annotations__) != tuple(
    f.name for f in fields(CallRecord)
):  # pragma: no cover
    raise RuntimeError("CallValues must have CallRecord's fields, in its order")
