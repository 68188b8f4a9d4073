"""The ``Provider`` interface every provider implements.

A provider holds only the wire logic: map a ``Request`` to its SDK call and the
SDK's answer back to a ``Response``, and turn the SDK's errors into ``ProviderError``.
Retries, timeouts, pricing, budgets, caching and recording live in the call path
(``llmlab.models.Model``) that ``get_model`` wraps around every provider. A provider is
never called directly by user code: only ``get_model`` hands out something callable, so
no call can skip budgets, pricing or recording.
"""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from llmlab.models._types import Request, Response, TextDelta

__all__ = ["Provider", "ProviderFactory"]


class Provider(abc.ABC):
    """One provider's model: answers requests over its SDK or engine.

    Attributes:
        provider: the provider's name, the part before the slash (``openai``).
        name: the model name the user asked for, the part after the slash.
        supports_streaming: ``stream`` yields text as it is generated (otherwise it
            yields the whole text once, then the response).
        supports_json_schema: ``Request.json_schema`` is enforced by the provider, not
            only asked for.
        loop_bound: the model holds resources tied to one event loop (an HTTP connection
            pool), so the call path keeps one instance per loop. A model that serves any
            loop (the embedded local model) sets it to False.
    """

    supports_streaming: bool = False
    supports_json_schema: bool = False
    loop_bound: bool = True

    def __init__(self, provider: str, name: str) -> None:
        self.provider = provider
        self.name = name

    @property
    def full_name(self) -> str:
        """``provider/name``, the name ``get_model`` resolves."""
        return f"{self.provider}/{self.name}"

    @property
    def endpoint(self) -> str | None:
        """Where requests go (the resolved base URL), for the response cache's key; None
        for a provider that answers in-process."""
        return None

    @abc.abstractmethod
    async def generate(self, request: Request) -> Response:
        """Answer one request. Raises ``ProviderError`` (or a subclass) on failure."""

    async def stream(self, request: Request) -> AsyncIterator[TextDelta | Response]:
        """Yield the answer's text as it comes, then the ``Response`` as the last item.

        The default answers in one piece through ``generate``; streaming providers
        override it.
        """
        start = time.perf_counter()
        response = await self.generate(request)
        if response.text:
            yield TextDelta(text=response.text)
        if response.ttft_s is None:
            response.ttft_s = time.perf_counter() - start
        yield response

    async def aclose(self) -> None:  # noqa: B027  (optional hook, nothing to close by default)
        """Release what the model holds (HTTP clients, engines)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.full_name}>"


class ProviderFactory(Protocol):
    """What a ``llmlab.providers`` entry point names: ``factory(model_name, **options)``."""

    def __call__(self, model_name: str, /, **options: Any) -> Provider: ...
