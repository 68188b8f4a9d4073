"""Response cache: an identical request to the same model is answered from the store.

The key is the sha256 of the canonical JSON of everything that decides the answer: the
provider and model (``provider/model``), the *endpoint* the provider sends to (its resolved
base URL, whether it came from an option or from ``OPENAI_BASE_URL``: another server is
another answer), the provider options (secrets and transport choices left out), the
messages and every request parameter (temperature, max_tokens, stop, seed, JSON schema),
plus an optional *trial* index: an eval that samples each case several times caches each
trial separately, so repeated trials stay independent samples while a re-run is free. Tags
are not part of the key (they label a call, they do not change it).

The cache is off for ad-hoc calls; the eval runner turns it on
(``model.configured(cache=True)``). A hit is recorded as a call with ``cache_hit=True`` and
cost 0. Store reads and writes run in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmlab._json import JsonObject, JsonValue
from llmlab.models._types import Request, Response
from llmlab.store import cache_get, cache_put

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = ["CACHE_FORMAT_VERSION", "ResponseCache", "cache_key", "cache_options"]

CACHE_FORMAT_VERSION = 1

_NOT_IN_KEY = frozenset({"api_key", "http_client", "base_url"})
"""Provider options that do not decide the answer (secrets, the HTTP library) or that the
key holds already in resolved form (``base_url``, as the endpoint)."""


def cache_options(options: Mapping[str, Any]) -> JsonObject:
    """The provider options that go into the cache key, as JSON-ready values.

    Secrets and transport choices are left out; a value JSON cannot hold (a Python
    function given to the scripted provider) is named by its qualified name.
    """
    return {k: _plain(v) for k, v in sorted(options.items()) if k not in _NOT_IN_KEY}


def _plain(value: object) -> JsonValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{getattr(value, '__module__', '')}.{name}>"


def cache_key(
    model: str,
    request: Request,
    trial: int | None = None,
    *,
    endpoint: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """The sha256 hex key of ``request`` sent to ``model`` (``provider/model``).

    Args:
        model: ``provider/model``.
        request: the request.
        trial: the eval epoch (each trial is cached apart), or None.
        endpoint: where the provider sends it (its resolved base URL), or None.
        options: the provider options (see ``cache_options``).
    """
    canonical = {
        "model": model,
        "endpoint": endpoint,
        "options": cache_options(options or {}),
        "messages": [[m.role, m.content] for m in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "stop": list(request.stop),
        "seed": request.seed,
        "json_schema": request.json_schema,
        "trial": trial,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """Responses kept in ``store`` (table ``response_cache``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _get(self, key: str) -> Response | None:
        row = cache_get(self.store, key)
        if row is None or row.response.get("version") != CACHE_FORMAT_VERSION:
            return None
        stored = row.response.get("response")
        return Response.model_validate(stored) if isinstance(stored, Mapping) else None

    def _put(self, key: str, response: Response) -> None:
        payload: JsonObject = {
            "version": CACHE_FORMAT_VERSION,
            "response": response.model_dump(
                mode="json", exclude={"call_id", "cost", "cost_status", "cache_hit"}
            ),
        }
        cache_put(self.store, key, response.provider, response.model, payload)

    async def get(self, key: str) -> Response | None:
        """The cached response for ``key``, or None."""
        return await asyncio.to_thread(self._get, key)

    async def put(self, key: str, response: Response) -> None:
        """Keep ``response`` under ``key`` (the first one stored wins)."""
        await asyncio.to_thread(self._put, key, response)
