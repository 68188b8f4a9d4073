"""The one call path: budget, cache, retries and timeout, pricing, recording.

``get_model("provider/model", **options)`` returns a ``Model``: the only callable thing
llmlab hands out. It wraps the provider's bare ``Provider`` and belongs to one store.
Every call through it:

1. answers from the response cache when the cache is on (recorded with ``cache_hit``,
   cost 0: a hit reserves nothing, so no budget refuses it);
2. reserves its worst-case cost against the store's budgets it falls under (a hard
   budget without room refuses it: recorded as ``refused``, then ``BudgetExceeded``);
3. calls the provider under the retry policy and per-attempt timeout (and the adaptive
   limiter, when one is attached);
4. prices the usage, records the call (success or failure) through the store's batched
   recorder, and settles the reservation with the real cost.

Options of ``get_model`` that are fields of ``CallOptions`` (``max_retries``,
``timeout_s``, ``cache`` ...) configure this path; the others go to the provider.
Provider clients hold HTTP connection pools bound to one event loop, so a model keeps one
provider instance per loop (``generate_sync`` closes its own on the way out).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from llmlab._errors import BudgetExceeded, ModelTimeout, PricingError
from llmlab.models._cache import ResponseCache, cache_key, cache_options
from llmlab.models._calllog import CallInProgress
from llmlab.models._limiter import AdaptiveLimiter
from llmlab.models._links import current_links
from llmlab.models._pool import ProviderPool
from llmlab.models._registry import split_model_name
from llmlab.models._retry import RetryPolicy, with_retries
from llmlab.models._types import Request, Response, TextDelta
from llmlab.monitor import Reservation, areserve_budget, record
from llmlab.pricing import LOCAL_PROVIDERS, PriceQuote, max_cost, price_tokens

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = ["CallOptions", "Model"]

log = logging.getLogger("llmlab.models")

DEFAULT_MAX_OUTPUT_TOKENS = 4096
"""Output assumed for the budget's worst case when a request sets no ``max_tokens``."""
_RATE_TOKENS = 1_000_000
_FRAMING_TOKENS = 8
"""Tokens a chat format spends around one message (role markers, separators)."""


class CallOptions(BaseModel):
    """How the managed call path treats a model's calls (the non-provider options).

    Attributes:
        max_retries: retries after the first attempt (default 4: up to 5 attempts).
        timeout_s: limit for one attempt, seconds (None: none).
        base_delay_s, max_delay_s: exponential backoff with full jitter.
        max_retry_after_s: the longest server Retry-After honoured.
        cache: answer identical requests from the response cache (off by default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(default=4, ge=0)
    timeout_s: float | None = Field(default=120.0, gt=0)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=30.0, ge=0)
    max_retry_after_s: float = Field(default=60.0, ge=0)
    cache: bool = False

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.max_retries,
            timeout_s=self.timeout_s,
            base_delay_s=self.base_delay_s,
            max_delay_s=self.max_delay_s,
            max_retry_after_s=self.max_retry_after_s,
        )


class Model:
    """A model behind llmlab's call path, bound to one store (see the module docstring).

    Made by ``get_model``; not constructed directly.

    Attributes:
        provider: the provider's name, the part before the slash (``openai``).
        name: the model name asked for, the part after the slash.
        store: the store its calls are recorded, priced and budgeted in.
        supports_streaming: always True (a provider that cannot stream answers in one
            piece through ``stream``).
        supports_json_schema: ``Request.json_schema`` is enforced by the provider.
    """

    supports_streaming = True

    def __init__(
        self,
        name: str,
        *,
        store: Store,
        provider_options: dict[str, Any] | None = None,
        options: CallOptions | None = None,
    ) -> None:
        self.provider, self.name = split_model_name(name)
        self.full_name = f"{self.provider}/{self.name}"
        self.store = store
        self.options = options or CallOptions()
        self.policy = self.options.retry_policy
        self._pool = ProviderPool(name, dict(provider_options or {}), store)
        self.supports_json_schema: bool = self._pool.kind.supports_json_schema
        self.cache: ResponseCache | None = ResponseCache(store) if self.options.cache else None
        # What besides the request decides the answer: the cache key holds it (issue 9).
        self._endpoint = self._pool.kind.endpoint
        self._answer_options = cache_options(provider_options or {})
        self.limiter: AdaptiveLimiter | None = None
        self._rates: tuple[Decimal, Decimal] | None = None
        self._rates_known = False

    def configured(
        self,
        *,
        cache: bool | None = None,
        limiter: AdaptiveLimiter | None = None,
        policy: RetryPolicy | None = None,
    ) -> Model:
        """A copy sharing this model's provider clients, with the cache turned on or off,
        an adaptive limiter attached, or another retry policy (the eval runner uses it)."""
        clone = object.__new__(Model)
        clone.__dict__.update(self.__dict__)
        if cache is not None:
            clone.cache = ResponseCache(self.store) if cache else None
        if limiter is not None:
            clone.limiter = limiter
        if policy is not None:
            clone.policy = policy
        return clone

    @property
    def endpoint(self) -> str | None:
        """Where the provider sends requests (its resolved base URL); None in-process."""
        return self._endpoint

    def cache_key(self, request: Request, trial: int | None = None) -> str:
        """The response cache's key of ``request`` sent through this model (its provider,
        endpoint, model, options and ``trial``)."""
        return cache_key(
            self.full_name, request, trial, endpoint=self._endpoint, options=self._answer_options
        )

    # --- the call path --------------------------------------------------------------------

    async def generate(self, request: Request) -> Response:
        """Answer ``request`` through the managed path; see the module docstring."""
        start = time.perf_counter()
        call = CallInProgress(self.provider, self.name, request, streamed=False)
        worst = self._worst_case(request)
        key, hit = await self._cached(call, request, start, worst)
        if hit is not None:
            return self._succeed(call, hit, start, _nothing_held(), worst, cache_hit=True)
        reservation = await self._reserve(call, request, start, worst)
        try:
            response, call.attempts = await with_retries(
                functools.partial(self._attempt, request),
                self.policy,
                provider=self.provider,
                model=self.name,
                on_failure=call.count_failure,
            )
        except BaseException as exc:
            self._fail(call, exc, start, reservation, worst)
            raise
        if key is not None:
            await self._cache_put(key, response)
        return self._succeed(call, response, start, reservation, worst)

    async def stream(self, request: Request) -> AsyncIterator[TextDelta | Response]:
        """Stream ``request``: text pieces as they come, then the recorded ``Response``.

        Retries happen only before the first piece; once text has been yielded a failure
        ends the stream (recorded, then raised). ``timeout_s`` limits each wait for the
        next piece.
        """
        start = time.perf_counter()
        call = CallInProgress(self.provider, self.name, request, streamed=True)
        worst = self._worst_case(request)
        key, hit = await self._cached(call, request, start, worst)
        if hit is not None:
            if hit.text:
                call.ttft_s = time.perf_counter() - start
                try:
                    yield TextDelta(text=hit.text)
                except BaseException as exc:
                    self._fail(call, exc, start, _nothing_held(), worst)
                    raise
            yield self._succeed(call, hit, start, _nothing_held(), worst, cache_hit=True)
            return
        reservation = await self._reserve(call, request, start, worst)
        response: Response | None = None
        try:
            (pieces, first), call.attempts = await with_retries(
                functools.partial(self._open_stream, request),
                self.policy,
                provider=self.provider,
                model=self.name,
                on_failure=call.count_failure,
            )
            async with _closing(pieces):
                item = first
                while not isinstance(item, Response):
                    if item.text and call.ttft_s is None:
                        call.ttft_s = time.perf_counter() - start
                    yield item
                    item = await self._next_piece(pieces)
                response = item
        except BaseException as exc:
            self._fail(call, exc, start, reservation, worst)
            raise
        if key is not None:
            await self._cache_put(key, response)
        # Recorded before it is handed over, so a consumer that stops here loses nothing.
        yield self._succeed(call, response, start, reservation, worst)

    async def _attempt(self, request: Request) -> Response:
        model = self._pool.get()
        if self.limiter is None:
            return await model.generate(request)
        async with self.limiter.slot():
            return await model.generate(request)

    async def _open_stream(
        self, request: Request
    ) -> tuple[AsyncIterator[TextDelta | Response], TextDelta | Response]:
        pieces = aiter(self._pool.get().stream(request))
        try:
            if self.limiter is None:
                first = await anext(pieces)
            else:
                async with self.limiter.slot():
                    first = await anext(pieces)
        except BaseException:
            await _aclose(pieces)
            raise
        return pieces, first

    async def _next_piece(
        self, pieces: AsyncIterator[TextDelta | Response]
    ) -> TextDelta | Response:
        timeout = self.policy.timeout_s
        try:
            async with asyncio.timeout(timeout):
                return await anext(pieces)
        except TimeoutError:
            raise ModelTimeout(
                f"{self.full_name}: stream stalled for {timeout:g} s",
                provider=self.provider,
                model=self.name,
                retryable=False,
                error_type="timeout",
            ) from None

    # --- bookkeeping ----------------------------------------------------------------------

    def _worst_case(self, request: Request) -> Decimal | None:
        """The most this request can cost, from per-token rates looked up once per model."""
        if not self._rates_known:
            input_rate = max_cost(self.provider, self.name, _RATE_TOKENS, 0)
            output_rate = max_cost(self.provider, self.name, 0, _RATE_TOKENS)
            self._rates = (
                None
                if input_rate is None or output_rate is None
                else (input_rate / _RATE_TOKENS, output_rate / _RATE_TOKENS)
            )
            self._rates_known = True
        if self._rates is None:
            return None
        # An upper bound, not an estimate: byte-level BPE tokens hold at least one byte
        # each, plus a few framing tokens a message. (A 4-characters-a-token guess would
        # under-reserve CJK text and let a hard budget be passed.)
        input_tokens = sum(len(m.content.encode()) + _FRAMING_TOKENS for m in request.messages)
        output_tokens = request.max_tokens or DEFAULT_MAX_OUTPUT_TOKENS
        return self._rates[0] * input_tokens + self._rates[1] * output_tokens

    async def _reserve(
        self, call: CallInProgress, request: Request, start: float, worst: Decimal | None
    ) -> Reservation:
        try:
            links = current_links()
            return await areserve_budget(
                self.provider,
                self.name,
                request.tags,
                links.prompt_name,
                worst,
                eval_run=links.eval_run,
                store=self.store,
            )
        except BudgetExceeded as exc:
            record(call.failed(exc, time.perf_counter() - start, refused=True), store=self.store)
            raise

    def _succeed(
        self,
        call: CallInProgress,
        response: Response,
        start: float,
        reservation: Reservation,
        worst: Decimal | None,
        *,
        cache_hit: bool = False,
    ) -> Response:
        duration = time.perf_counter() - start
        response.duration_s = duration
        response.call_id = call.id
        if call.ttft_s is not None:
            response.ttft_s = call.ttft_s
        if cache_hit:
            response.cache_hit = True
            response.cost = Decimal(0)
            response.cost_status = "priced"
            source: str | None = "response cache"
            currency = "USD"
        elif not response.usage_reported and self.provider not in LOCAL_PROVIDERS:
            # No token counts came back: the call is charged its worst case (never below
            # the truth), marked estimated; a budget counts it, never a silent $0.
            _warn_no_usage(self.full_name, worst)
            response.cost = worst
            response.cost_status = "estimated" if worst is not None else "unpriced"
            source = "usage not reported: worst case charged" if worst is not None else None
            currency = "USD"
        else:
            quote = self._price(response, call)
            response.cost = quote.cost
            response.cost_status = quote.status
            source, currency = quote.source, quote.currency
        record(
            call.succeeded(response, duration, price_source=source, currency=currency),
            store=self.store,
        )
        _settle(reservation, response.cost)
        return response

    def _price(self, response: Response, call: CallInProgress) -> PriceQuote:
        usage = response.usage
        try:
            return price_tokens(
                self.provider,
                self.name,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                at=call.started_at,
            )
        except PricingError as exc:
            # The price file broke after this call was checked and made: keep the call (it
            # was paid for) as unpriced, to be repriced once the file is fixed.
            log.error("%s: call %s recorded as unpriced: %s", self.full_name, call.id, exc)
            return PriceQuote(None, "USD", "unpriced", None)

    def _fail(
        self,
        call: CallInProgress,
        exc: BaseException,
        start: float,
        reservation: Reservation,
        worst: Decimal | None,
    ) -> None:
        record(call.failed(exc, time.perf_counter() - start), store=self.store)
        # A stream that broke after text came was answered (and billed) with unknown usage:
        # the budget keeps its worst case. A call with no answer was not billed.
        _settle(reservation, worst if call.ttft_s is not None else None)

    async def _cached(
        self, call: CallInProgress, request: Request, start: float, worst: Decimal | None
    ) -> tuple[str | None, Response | None]:
        """The cache key (None: cache off) and the cached answer, looked up before any
        reservation: a hit costs nothing, so no budget may refuse it."""
        if self.cache is None:
            return None, None
        try:
            key = self.cache_key(request, current_links().epoch)
            return key, await self._cache_get(key)
        except BaseException as exc:  # cancelled while looking: recorded like any call
            self._fail(call, exc, start, _nothing_held(), worst)
            raise

    async def _cache_get(self, key: str) -> Response | None:
        assert self.cache is not None
        try:
            return await self.cache.get(key)
        except Exception as exc:  # a broken cache must not break the call
            log.warning("response cache lookup failed (%s); calling the model", exc)
            return None

    async def _cache_put(self, key: str, response: Response) -> None:
        assert self.cache is not None
        try:
            await self.cache.put(key, response)
        except Exception as exc:
            log.warning("response cache write failed: %s", exc)

    async def aclose(self) -> None:
        """Close the provider client serving the running loop (a later call opens a new one)."""
        await self._pool.aclose()

    async def close_loop_clients(self) -> None:
        """Close only what is tied to the running loop (before that loop ends); a model that
        serves every loop, such as the embedded one, stays loaded."""
        await self._pool.aclose(shared=False)

    def __repr__(self) -> str:
        return f"<Model {self.full_name} in {self.store.safe_url}>"


_no_usage_warned: set[str] = set()


def _warn_no_usage(full_name: str, worst: Decimal | None) -> None:
    if full_name in _no_usage_warned:
        return
    _no_usage_warned.add(full_name)
    if worst is None:
        log.warning(
            "%s answered without token usage: its calls are recorded as unpriced "
            "(cost unknown, not $0)",
            full_name,
        )
        return
    log.warning(
        "%s answered without token usage: each such call is charged its worst case "
        "(input size and max_tokens) and marked 'estimated'",
        full_name,
    )


def _nothing_held() -> Reservation:
    """A cache hit's reservation: nothing held, nothing to settle."""
    return Reservation("")


def _settle(reservation: Reservation, cost: Decimal | None) -> None:
    # Also when nothing was held: budgets created during the call count its cost.
    try:
        reservation.settle(cost)
    except Exception:  # the call is done; a ledger failure is logged, not raised at the user
        log.exception("could not settle the budget reservation %s", reservation.id)


async def _aclose(pieces: AsyncIterator[Any]) -> None:
    close = getattr(pieces, "aclose", None)
    if close is not None:
        await close()


class _closing:
    """``async with``: close an async generator on the way out (early exit or error)."""

    def __init__(self, pieces: AsyncIterator[Any]) -> None:
        self._pieces = pieces

    async def __aenter__(self) -> AsyncIterator[Any]:
        return self._pieces

    async def __aexit__(self, *exc_info: object) -> None:
        await _aclose(self._pieces)
