"""``generate_sync``: one call from synchronous code (scripts, notebooks without a loop)."""

from __future__ import annotations

import asyncio
from typing import Any

from llmlab.models._base import Model
from llmlab.models._managed import ManagedModel, get_model
from llmlab.models._types import Request, Response

__all__ = ["generate_sync"]


def generate_sync(
    request: Request | str,
    model: str | Model | None = None,
    *,
    system: str | None = None,
    **request_options: Any,
) -> Response:
    """Answer one request and return the ``Response``, blocking until it is done.

    Args:
        request: a ``Request``, or a prompt (then ``system`` and ``request_options`` such
            as ``temperature`` or ``max_tokens`` build the request).
        model: ``"provider/model"`` (default: LLMLAB_MODEL or local/smollm2) or a model.

    The call goes through the managed path (recorded, priced, retried). Inside a running
    event loop use ``await get_model(...).generate(request)`` instead.
    """
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
    target = model if isinstance(model, Model) else get_model(model)

    async def call() -> Response:
        try:
            return await target.generate(request)
        finally:
            # The loop ends with this call: close the connections opened on it.
            if isinstance(target, ManagedModel):
                await target.close_loop_clients()
            else:
                await target.aclose()

    return asyncio.run(call())
