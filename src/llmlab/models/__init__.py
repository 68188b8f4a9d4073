"""Models: one interface over every provider, and the managed call path around it.

``get_model("provider/model")`` resolves a name (``anthropic/...``, ``openai/...``,
``openai-compatible/...``, ``local/smollm2``, ``scripted/...`` or a plugin's) to a
``Model``: retries with backoff and Retry-After, a per-attempt timeout, budgets, an
optional response cache, pricing, and a recorded ``calls`` row for every call, in one
store. It is the only callable thing handed out: providers (``Provider``) plug in through
the ``llmlab.providers`` entry points and are always called through a ``Model``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmlab._lazy import lazy_exports

if TYPE_CHECKING:
    from llmlab.models._base import (
        Provider,
        ProviderFactory,
    )
    from llmlab.models._cache import (
        ResponseCache,
        cache_key,
        cache_options,
    )
    from llmlab.models._get import (
        NotAModelError,
        as_model,
        close_models,
        get_model,
    )
    from llmlab.models._limiter import (
        AdaptiveLimiter,
        LimiterSlot,
    )
    from llmlab.models._links import (
        CallLinks,
        call_links,
        current_links,
    )
    from llmlab.models._managed import (
        CallOptions,
        Model,
    )
    from llmlab.models._registry import (
        DEFAULT_MODEL,
        ENTRY_POINT_GROUP,
        ProviderInfo,
        default_model_name,
        option_error_text,
        provider_infos,
        provider_names,
        register_provider,
        split_model_name,
    )
    from llmlab.models._retry import (
        RetryPolicy,
        parse_retry_after,
    )
    from llmlab.models._scripted import (
        Reply,
        ScriptedProvider,
        scripted,
    )
    from llmlab.models._sync import (
        generate_sync,
    )
    from llmlab.models._types import (
        CostStatus,
        Message,
        Request,
        Response,
        TextDelta,
        Usage,
    )

# Loaded on first use (PEP 562), so that a command imports only the modules it needs.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "_base": (
            "Provider",
            "ProviderFactory",
        ),
        "_cache": (
            "cache_key",
            "cache_options",
            "ResponseCache",
        ),
        "_get": (
            "as_model",
            "close_models",
            "get_model",
            "NotAModelError",
        ),
        "_limiter": (
            "AdaptiveLimiter",
            "LimiterSlot",
        ),
        "_links": (
            "call_links",
            "CallLinks",
            "current_links",
        ),
        "_managed": (
            "CallOptions",
            "Model",
        ),
        "_registry": (
            "DEFAULT_MODEL",
            "default_model_name",
            "ENTRY_POINT_GROUP",
            "option_error_text",
            "provider_infos",
            "provider_names",
            "ProviderInfo",
            "register_provider",
            "split_model_name",
        ),
        "_retry": (
            "parse_retry_after",
            "RetryPolicy",
        ),
        "_scripted": (
            "Reply",
            "scripted",
            "ScriptedProvider",
        ),
        "_sync": ("generate_sync",),
        "_types": (
            "CostStatus",
            "Message",
            "Request",
            "Response",
            "TextDelta",
            "Usage",
        ),
    },
)


__all__ = [
    "AdaptiveLimiter",
    "CallLinks",
    "CallOptions",
    "CostStatus",
    "DEFAULT_MODEL",
    "ENTRY_POINT_GROUP",
    "LimiterSlot",
    "Message",
    "Model",
    "NotAModelError",
    "Provider",
    "ProviderFactory",
    "ProviderInfo",
    "Reply",
    "Request",
    "Response",
    "ResponseCache",
    "RetryPolicy",
    "ScriptedProvider",
    "TextDelta",
    "Usage",
    "as_model",
    "cache_key",
    "cache_options",
    "call_links",
    "close_models",
    "current_links",
    "default_model_name",
    "generate_sync",
    "get_model",
    "option_error_text",
    "parse_retry_after",
    "provider_infos",
    "provider_names",
    "register_provider",
    "scripted",
    "split_model_name",
]
