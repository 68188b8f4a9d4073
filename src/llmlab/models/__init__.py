"""Models: one interface over every provider, and the managed call path around it.

``get_model("provider/model")`` resolves a name (``anthropic/...``, ``openai/...``,
``openai-compatible/...``, ``local/smollm2``, ``scripted/...`` or a plugin's) to a
``Model``: retries with backoff and Retry-After, a per-attempt timeout, budgets, an
optional response cache, pricing, and a recorded ``calls`` row for every call, in one
store. It is the only callable thing handed out: providers (``Provider``) plug in through
the ``llmlab.providers`` entry points and are always called through a ``Model``.
"""

from llmlab.models._base import Provider, ProviderFactory
from llmlab.models._cache import ResponseCache, cache_key
from llmlab.models._get import NotAModelError, as_model, close_models, get_model
from llmlab.models._limiter import AdaptiveLimiter, LimiterSlot
from llmlab.models._links import CallLinks, call_links, current_links
from llmlab.models._managed import CallOptions, Model
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
from llmlab.models._retry import RetryPolicy, parse_retry_after
from llmlab.models._scripted import Reply, ScriptedProvider, scripted
from llmlab.models._sync import generate_sync
from llmlab.models._types import CostStatus, Message, Request, Response, TextDelta, Usage

__all__ = [
    "option_error_text",
    "DEFAULT_MODEL",
    "ENTRY_POINT_GROUP",
    "AdaptiveLimiter",
    "CallLinks",
    "CallOptions",
    "CostStatus",
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
    "call_links",
    "close_models",
    "current_links",
    "default_model_name",
    "generate_sync",
    "get_model",
    "parse_retry_after",
    "provider_infos",
    "provider_names",
    "register_provider",
    "scripted",
    "split_model_name",
]
