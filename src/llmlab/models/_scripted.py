"""``scripted/<name>``: a deterministic model for tests, shipped in the library.

Queue replies, or give a function that answers each request; every request is kept in
``history``::

    from llmlab.models import get_model, scripted

    bot = scripted("greeter")
    bot.enqueue("Hello!", ProviderError("boom", retryable=True))
    model = get_model("scripted/greeter")      # served by ``bot``, behind the call path

The scripted provider is a provider like the others: it is called only through
``get_model("scripted/<name>")``. Scripts belong to a store (a component of the handle),
so each test's store starts with none and nothing has to be cleared between tests.

A queued exception is raised by that call, so retries and failure recording can be
tested without a network. Usage is exact and deterministic: one token per
whitespace-separated word (all messages for input, the reply for output). Streaming
yields the reply word by word.
"""

from __future__ import annotations

import inspect
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from llmlab._errors import ConfigError, ProviderError
from llmlab.models._base import Provider
from llmlab.models._types import Request, Response, TextDelta, Usage
from llmlab.store import resolve_store

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = ["Reply", "ScriptedProvider", "ScriptedProviders", "create_scripted", "scripted"]

Reply = str | Response | BaseException
"""A queued answer: its text, a whole ``Response``, or an exception to raise."""

ReplyFunction = Callable[[Request], Reply | Awaitable[Reply]]

_PIECES = re.compile(r"\S+\s*|\s+")


def count_tokens(text: str) -> int:
    """The scripted model's token count: whitespace-separated words."""
    return len(text.split())


class ScriptedProvider(Provider):
    """A model that answers from a queue or a function, and remembers every request."""

    supports_streaming = True
    supports_json_schema = False
    loop_bound = False

    def __init__(
        self,
        name: str = "default",
        *,
        replies: Iterable[Reply] = (),
        function: ReplyFunction | None = None,
    ) -> None:
        super().__init__("scripted", name)
        self._queue: deque[Reply] = deque(replies)
        self.function = function
        self.history: list[Request] = []

    def enqueue(self, *replies: Reply) -> None:
        """Queue answers, used one per call in order (before ``function``)."""
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Queued answers not used yet."""
        return len(self._queue)

    def reset(self) -> None:
        """Forget queued answers and history."""
        self._queue.clear()
        self.history.clear()

    async def _next_reply(self, request: Request) -> Reply:
        if self._queue:
            return self._queue.popleft()
        if self.function is not None:
            reply = self.function(request)
            if inspect.isawaitable(reply):
                return await reply
            return reply
        raise ProviderError(
            f"scripted/{self.name}: no reply queued; call scripted({self.name!r}).enqueue(...) "
            "or give it a function",
            provider=self.provider,
            model=self.name,
            error_type="script_exhausted",
        )

    def _response(self, request: Request, reply: str | Response, start: float) -> Response:
        if isinstance(reply, Response):
            response = reply.model_copy()
            response.provider = response.provider or self.provider
            response.model = response.model or self.name
            response.duration_s = time.perf_counter() - start
            return response
        input_tokens = sum(count_tokens(m.content) for m in request.messages)
        return Response(
            text=reply,
            finish_reason="stop",
            usage=Usage(input_tokens=input_tokens, output_tokens=count_tokens(reply)),
            provider=self.provider,
            model=self.name,
            duration_s=time.perf_counter() - start,
        )

    async def generate(self, request: Request) -> Response:
        start = time.perf_counter()
        self.history.append(request)
        reply = await self._next_reply(request)
        if isinstance(reply, BaseException):
            raise reply
        return self._response(request, reply, start)

    async def stream(self, request: Request) -> AsyncIterator[TextDelta | Response]:
        start = time.perf_counter()
        self.history.append(request)
        reply = await self._next_reply(request)
        if isinstance(reply, BaseException):
            raise reply
        response = self._response(request, reply, start)
        for piece in _PIECES.findall(response.text):
            if response.ttft_s is None:
                response.ttft_s = time.perf_counter() - start
            yield TextDelta(text=piece)
        response.duration_s = time.perf_counter() - start
        yield response


class ScriptedProviders:
    """The scripted providers of one store, by name (a store component)."""

    def __init__(self, _store: Store | None = None) -> None:
        self.by_name: dict[str, ScriptedProvider] = {}

    def after_fork(self) -> None:
        """Scripts are plain objects: a forked worker keeps the parent's."""

    def get(self, name: str) -> ScriptedProvider:
        provider = self.by_name.get(name)
        if provider is None:
            provider = self.by_name.setdefault(name, ScriptedProvider(name))
        return provider


def scripted(
    name: str = "default",
    *,
    replies: Iterable[Reply] = (),
    function: ReplyFunction | None = None,
    store: Store | None = None,
) -> ScriptedProvider:
    """The script of ``scripted/<name>`` in ``store``, made on first use; adds replies or a
    function.

    ``get_model("scripted/<name>", store=store)`` is answered by this script. Returned to
    queue replies and read ``history``; to call it, use ``get_model``.
    """
    scripts = resolve_store(store).component(ScriptedProviders, ScriptedProviders)
    model = scripts.get(name)
    model.enqueue(*replies)
    if function is not None:
        model.function = function
    return model


def create_scripted(model_name: str, /, **options: Any) -> ScriptedProvider:
    """Factory of ``scripted/<name>`` (the ``llmlab.providers`` entry point).

    Options: ``replies`` (an iterable of replies) and ``function``; ``store`` is given by
    the call path.
    """
    unknown = set(options) - {"replies", "function", "store"}
    if unknown:
        raise ConfigError(
            f"scripted/{model_name}: unknown option(s) {', '.join(sorted(unknown))}; "
            "known: replies, function"
        )
    return scripted(model_name, **options)


create_scripted.wants_store = True  # type: ignore[attr-defined]
