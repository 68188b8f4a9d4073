"""Models: one interface over every provider, and the managed call path around it.

``get_model("provider/model")`` resolves a name (``anthropic/...``, ``openai/...``,
``openai-compatible/...``, ``local/smollm2``, ``scripted/...`` or a plugin's) to a
``ManagedModel``: retries with backoff and Retry-After, a per-attempt timeout, budgets,
an optional response cache, pricing, and a recorded ``calls`` row for every call.
"""

from llmlab.models._base import Model, ModelFactory
from llmlab.models._cache import ResponseCache, cache_key
from llmlab.models._limiter import AdaptiveLimiter, LimiterSlot
from llmlab.models._links import CallLinks, call_links, current_links
from llmlab.models._managed import CallOptions, ManagedModel, close_models, get_model
from llmlab.models._registry import (
    DEFAULT_MODEL,
    ENTRY_POINT_GROUP,
    ProviderInfo,
    create_provider_model,
    default_model_name,
    provider_infos,
    provider_names,
    register_provider,
    split_model_name,
)
from llmlab.models._retry import RetryPolicy, parse_retry_after
from llmlab.models._scripted import Reply, ScriptedModel, scripted
from llmlab.models._sync import generate_sync
from llmlab.models._types import CostStatus, Message, Request, Response, TextDelta, Usage

__all__ = [
    "DEFAULT_MODEL",
    "ENTRY_POINT_GROUP",
    "AdaptiveLimiter",
    "CallLinks",
    "CallOptions",
    "CostStatus",
    "LimiterSlot",
    "ManagedModel",
    "Message",
    "Model",
    "ModelFactory",
    "ProviderInfo",
    "Reply",
    "Request",
    "Response",
    "ResponseCache",
    "RetryPolicy",
    "ScriptedModel",
    "TextDelta",
    "Usage",
    "cache_key",
    "call_links",
    "close_models",
    "create_provider_model",
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
