"""``generate_sync``: one call from synchronous code (scripts, notebooks without a loop)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from llmlab.models._get import as_model
from llmlab.models._managed import Model
from llmlab.models._types import Request, Response

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = ["generate_sync"]


def generate_sync(
    request: Request | str,
    model: str | Model | None = None,
    *,
    system: str | None = None,
    store: Store | None = None,
    **request_options: Any,
) -> Response:
    """Answer one request and return the ``Response``, blocking until it is done.

    Args:
        request: a ``Request``, or a prompt (then ``system`` and ``request_options`` such
            as ``temperature`` or ``max_tokens`` build the request).
        model: ``"provider/model"`` (default: LLMLAB_MODEL or local/smollm2) or a model
            from ``get_model()``.
        store: where a model given by name records (default: the default handle).

    The call goes through the managed path (recorded, priced, retried). Inside a running
    event loop use ``await get_model(...).generate(request)`` instead.

    Raises:
        NotAModelError: ``model`` is not a ``get_model()`` model or a name (a bare
            provider would skip budgets, pricing and recording).
    """
    target = as_model(model, store=store, what="generate_sync()")
    if isinstance(request, str):
        request = Request.of(request, system=system, **request_options)
    elif system is not None or request_options:
        raise TypeError("system= and request options apply only when request is a prompt string")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "generate_sync() cannot run inside an event loop; use "
            "`await get_model(...).generate(request)`"
        )

    async def call() -> Response:
        try:
            return await target.generate(request)
        finally:
            # The loop ends with this call: close the connections opened on it.
            await target.close_loop_clients()

    return asyncio.run(call())
