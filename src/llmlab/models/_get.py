"""``get_model``: the one way to get something callable, and the models each store keeps.

Models are kept per store (a component of the handle), by name and options, so SDK
clients are reused across calls and each test's store starts with none.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from typing import Any

from llmlab._errors import ConfigError
from llmlab.models._managed import CallOptions, Model
from llmlab.models._registry import default_model_name, option_error_text
from llmlab.store import Store, resolve_store

__all__ = ["NotAModelError", "StoreModels", "as_model", "close_models", "get_model"]

_CALL_FIELDS = frozenset(CallOptions.model_fields)
_ENV_SUFFIXES = ("_BASE_URL", "_API_KEY", "_AUTH_TOKEN")
"""Environment variables providers resolve their endpoint and key from: a model kept from
before one of them changed would still send to the old server (issue 9)."""


def _provider_env() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.endswith(_ENV_SUFFIXES)))


class NotAModelError(ConfigError, TypeError):
    """Something other than a ``get_model()`` model was given where calls must be managed."""


class StoreModels:
    """The models of one store, by name and options (a store component)."""

    def __init__(self, _store: Store | None = None) -> None:
        self.by_key: dict[Hashable, Model] = {}


def get_model(name: str | None = None, /, *, store: Store | None = None, **options: Any) -> Model:
    """The model for ``"provider/model"`` (default: LLMLAB_MODEL or local/smollm2).

    Every call through it is budgeted, priced and recorded in ``store`` (default: the
    default handle). Options that are ``CallOptions`` fields configure the call path; the
    rest go to the provider (``base_url``, ``api_key``, ``http_client="aiohttp"`` ...).
    Models are kept per store, name and options, so SDK clients are reused.

    Raises:
        UnknownModelError: no provider serves the name.
        ConfigError: a key is missing or an option is wrong.
    """
    name = name or default_model_name()
    store = resolve_store(store)
    models = store.component(StoreModels, StoreModels)
    try:
        key: Hashable | None = (name, tuple(sorted(options.items())), _provider_env())
        hash(key)
    except TypeError:  # an unhashable option (a function): not kept
        key = None
    if key is not None:
        found = models.by_key.get(key)
        if found is not None:
            return found
    try:
        call_options = CallOptions(**{k: v for k, v in options.items() if k in _CALL_FIELDS})
    except ValueError as exc:  # pydantic's ValidationError
        raise ConfigError(f"{name}: {option_error_text(exc)}") from exc
    provider_options = {k: v for k, v in options.items() if k not in _CALL_FIELDS}
    model = Model(name, store=store, provider_options=provider_options, options=call_options)
    if key is not None:
        model = models.by_key.setdefault(key, model)
    return model


def as_model(
    model: Model | str | None, *, store: Store | None = None, what: str = "model"
) -> Model:
    """``model`` if it is a ``get_model()`` model, else ``get_model(model, store=store)``.

    For functions that take ``model: Model | str | None``: a bare provider (or anything
    else) is refused, so no call can skip budgets, pricing and recording.

    Raises:
        NotAModelError: ``model`` is neither a ``Model`` nor a name.
    """
    if isinstance(model, Model):
        return model
    if model is None or isinstance(model, str):
        return get_model(model, store=store)
    raise NotAModelError(
        f"{what}: expected a model from llmlab.models.get_model() or a 'provider/model' "
        f"name, got {type(model).__name__}; wrap providers with get_model() so calls are "
        "budgeted, priced and recorded"
    )


async def close_models(*, store: Store | None = None) -> None:
    """Close the provider clients that ``store``'s models hold for the running loop."""
    models = resolve_store(store).peek(StoreModels)
    if models is None:
        return
    for model in list(models.by_key.values()):
        await model.aclose()
