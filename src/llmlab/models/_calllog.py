"""Turning one model call (its request, outcome and timings) into a ``CallRecord``.

Built on the caller's path, so it stays cheap: a dataclass, a few attribute reads, and
the content copy only when capture is on (``LLMLAB_CAPTURE_CONTENT=0`` turns it off).
Nothing here touches the database; ``llmlab.monitor.record`` queues the row.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from llmlab._errors import LlmlabError, ProviderError, RetriesExhausted
from llmlab._json import JsonObject
from llmlab.models._links import current_links
from llmlab.models._redact import redact
from llmlab.models._types import Request, Response
from llmlab.monitor import CallRecord, capture_content, new_call_id
from llmlab.pricing import LOCAL_PROVIDERS

__all__ = ["CallInProgress"]


def request_content(request: Request) -> JsonObject:
    """The request as stored in ``calls.request``: messages and the parameters set."""
    content: JsonObject = {
        "messages": [{"role": m.role, "content": m.content} for m in request.messages]
    }
    if request.temperature is not None:
        content["temperature"] = request.temperature
    if request.max_tokens is not None:
        content["max_tokens"] = request.max_tokens
    if request.stop:
        content["stop"] = list(request.stop)
    if request.seed is not None:
        content["seed"] = request.seed
    if request.json_schema is not None:
        content["json_schema"] = request.json_schema
    return content


def _error_type(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError | GeneratorExit | KeyboardInterrupt):
        return "cancelled"
    if isinstance(exc, RetriesExhausted):
        return exc.last_error.error_type
    if isinstance(exc, ProviderError):
        return exc.error_type
    if isinstance(exc, LlmlabError):
        return type(exc).__name__
    return f"exception:{type(exc).__name__}"


@dataclass(slots=True)
class CallInProgress:
    """The facts of one call gathered while it runs, then made into a ``CallRecord``."""

    provider: str
    model: str
    request: Request
    streamed: bool
    id: str = field(default_factory=new_call_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 0
    ttft_s: float | None = None

    def count_failure(self, _error: BaseException) -> None:
        """One more attempt failed (``with_retries`` calls this for each)."""
        self.attempts += 1

    def _base(self, duration_s: float) -> CallRecord:
        links = current_links()
        capture = capture_content()
        return CallRecord(
            id=self.id,
            started_at=self.started_at,
            provider=self.provider,
            requested_model=self.model,
            duration_s=duration_s,
            ttft_s=self.ttft_s,
            attempts=max(self.attempts, 1),
            streamed=self.streamed,
            tags=dict(self.request.tags),
            request=request_content(self.request) if capture else None,
            prompt_name=links.prompt_name,
            prompt_version=links.prompt_version,
            prompt_hash=links.prompt_hash,
            experiment=links.experiment,
            arm=links.arm,
            eval_run=links.eval_run,
            sample_id=links.sample_id,
            epoch=links.epoch,
        )

    def succeeded(
        self,
        response: Response,
        duration_s: float,
        *,
        price_source: str | None,
        currency: str = "USD",
    ) -> CallRecord:
        """The record of a call that answered (``response`` already priced)."""
        rec = self._base(duration_s)
        usage = response.usage
        rec.resolved_model = response.model or None
        rec.input_tokens = usage.input_tokens
        rec.output_tokens = usage.output_tokens
        rec.cache_read_tokens = usage.cache_read_tokens
        rec.cache_write_tokens = usage.cache_write_tokens
        rec.reasoning_tokens = usage.reasoning_tokens
        rec.usage_reported = response.usage_reported
        rec.cost = response.cost
        rec.currency = currency
        rec.cost_status = response.cost_status
        rec.price_source = price_source
        rec.finish_reason = response.finish_reason
        rec.cache_hit = response.cache_hit
        if rec.request is not None:
            rec.response_text = response.text
        return rec

    def failed(self, exc: BaseException, duration_s: float, *, refused: bool = False) -> CallRecord:
        """The record of a call that failed (or that a budget refused)."""
        rec = self._base(duration_s)
        rec.status = "refused" if refused else "error"
        rec.error_type = "budget_exceeded" if refused else _error_type(exc)
        rec.error_message = redact(str(exc) or type(exc).__name__)[:2000]
        if refused:
            rec.attempts = 0
        elif isinstance(exc, RetriesExhausted):
            rec.attempts = exc.attempts
        # else: every failed attempt was counted, the last one included (at least 1).
        # A call that got no answer costs nothing: a known zero, not "unpriced".
        rec.cost = Decimal(0)
        rec.usage_reported = False
        rec.cost_status = "local" if self.provider in LOCAL_PROVIDERS else "priced"
        rec.price_source = "no answer: not billed"
        return rec
