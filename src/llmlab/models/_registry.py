"""``provider/model`` names and the providers that serve them.

Providers are plugins: an entry point in the group ``llmlab.providers`` names a factory
``(model_name, **options) -> Provider``. The built-in providers are declared the same way
in llmlab's own ``pyproject.toml``, and also built in here (``_BUILTIN``): a built-in name
resolves from that table without scanning the installed distributions' entry points
(``importlib.metadata.entry_points()`` reads every installed package's metadata, about
50 ms of CPU, too much for ``llmlab run``). The scan runs only for a name that is neither
built in nor registered in code, and to list every provider (``llmlab models list``). So an
entry point cannot replace a built-in provider; ``register_provider()`` can.
A third-party package adds one with::

    [project.entry-points."llmlab.providers"]
    myprovider = "my_package.llmlab_provider:create"

Factories are imported lazily, on the first model of that provider, so a provider whose
optional dependency is missing (``local`` needs llama-cpp-python) costs nothing until
used, and then fails with a ``ConfigError`` that says which extra to install.
A factory may carry a ``provider_info`` attribute (a ``ProviderInfo``) for
``llmlab models list``, and ``wants_store = True`` to be given the call path's store
as ``store=`` (the scripted provider keeps its scripts per store).

Providers are never handed to user code: ``get_model`` wraps each in the call path.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, cast

from llmlab._errors import ConfigError, UnknownModelError
from llmlab._json import JsonObject
from llmlab.models._base import Provider, ProviderFactory

if TYPE_CHECKING:
    from llmlab.store import Store

__all__ = [
    "DEFAULT_MODEL",
    "ENTRY_POINT_GROUP",
    "ProviderInfo",
    "create_provider",
    "default_model_name",
    "provider_infos",
    "provider_names",
    "register_provider",
    "split_model_name",
]

log = logging.getLogger("llmlab.models")

ENTRY_POINT_GROUP = "llmlab.providers"
DEFAULT_MODEL = "local/smollm2"


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """What ``llmlab models list`` says about a provider."""

    name: str
    description: str = ""
    key_env_vars: tuple[str, ...] = ()
    """Environment variables holding its key (any one set is enough)."""
    example_models: tuple[str, ...] = ()
    extra: str | None = None
    """The llmlab extra that installs its dependencies, if any."""
    key_required: bool = True

    def key_state(self) -> str:
        """``"set"``, ``"missing"`` or ``"not needed"``; never the key itself."""
        if any(os.environ.get(name) for name in self.key_env_vars):
            return "set"
        return "missing" if self.key_required else "not needed"

    def to_dict(self) -> JsonObject:
        """What ``llmlab models list --json`` prints for this provider."""
        return {
            "provider": self.name,
            "description": self.description,
            "key_env_vars": list(self.key_env_vars),
            "key": self.key_state(),
            "example_models": [f"{self.name}/{m}" for m in self.example_models],
            "extra": self.extra,
        }


_BUILTIN: dict[str, tuple[str, ProviderInfo]] = {
    "local": (
        "llmlab.models._local:create",
        ProviderInfo(
            "local",
            "embedded llama.cpp model, offline (the default)",
            example_models=("smollm2",),
            extra="local",
            key_required=False,
        ),
    ),
    "openai": (
        "llmlab.models._openai:create_openai",
        ProviderInfo(
            "openai",
            "OpenAI Chat Completions (OPENAI_BASE_URL honoured)",
            key_env_vars=("OPENAI_API_KEY",),
            example_models=("gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"),
        ),
    ),
    "anthropic": (
        "llmlab.models._anthropic:create_anthropic",
        ProviderInfo(
            "anthropic",
            "Anthropic Messages API (ANTHROPIC_BASE_URL honoured)",
            key_env_vars=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
            example_models=("claude-haiku-4-5", "claude-sonnet-4-5"),
        ),
    ),
    "openai-compatible": (
        "llmlab.models._openai:create_openai_compatible",
        ProviderInfo(
            "openai-compatible",
            "any OpenAI-compatible server: vLLM, llama.cpp server, Ollama "
            "(base URL: LLMLAB_OPENAI_COMPATIBLE_BASE_URL)",
            key_env_vars=("LLMLAB_OPENAI_COMPATIBLE_API_KEY",),
            example_models=("Qwen/Qwen2.5-7B-Instruct", "llama3.2"),
            key_required=False,
        ),
    ),
    "scripted": (
        "llmlab.models._scripted:create_scripted",
        ProviderInfo(
            "scripted",
            "deterministic test double: queued replies or a function",
            example_models=("default",),
            key_required=False,
        ),
    ),
}


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry_points: dict[str, EntryPoint] | None = None
        self._factories: dict[str, ProviderFactory] = {}
        self._infos: dict[str, ProviderInfo] = {}
        self._in_code: set[str] = set()  # names given to register_provider()

    def _discover(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            with self._lock:
                if self._entry_points is None:
                    found = {
                        name: EntryPoint(name, value, ENTRY_POINT_GROUP)
                        for name, (value, _) in _BUILTIN.items()
                    }
                    for ep in entry_points(group=ENTRY_POINT_GROUP):
                        builtin = found.get(ep.name)
                        if builtin is None:
                            found[ep.name] = ep
                        elif builtin.value != ep.value:
                            log.warning(
                                "entry point %s is ignored: %r is a built-in provider "
                                "(replace it with llmlab.models.register_provider)",
                                ep.value,
                                ep.name,
                            )
                    self._entry_points = found
        return self._entry_points

    def names(self) -> list[str]:
        return sorted(set(self._discover()) | set(self._factories))

    def register(self, name: str, factory: ProviderFactory, info: ProviderInfo | None) -> None:
        with self._lock:
            self._factories[name] = factory
            self._in_code.add(name)
            if info is not None:
                self._infos[name] = info

    def info(self, name: str) -> ProviderInfo:
        if name in self._infos:
            return self._infos[name]
        if name in _BUILTIN and name not in self._in_code:
            return _BUILTIN[name][1]
        factory_info = getattr(self._factories.get(name), "provider_info", None)
        if isinstance(factory_info, ProviderInfo):
            return factory_info
        ep = None if name in self._in_code else self._discover().get(name)
        return ProviderInfo(name, f"plugin ({ep.value})" if ep is not None else "registered")

    def entry_point(self, name: str) -> EntryPoint | None:
        """A built-in provider's entry point without the scan; else the scanned one."""
        builtin = _BUILTIN.get(name)
        if builtin is not None:
            return EntryPoint(name, builtin[0], ENTRY_POINT_GROUP)
        return self._discover().get(name)

    def factory(self, name: str) -> ProviderFactory | None:
        factory = self._factories.get(name)
        if factory is not None:
            return factory
        ep = self.entry_point(name)
        if ep is None:
            return None
        try:
            loaded = ep.load()
        except ImportError as exc:
            raise _load_error(name, ep.value, exc) from exc
        if not callable(loaded):
            raise ConfigError(
                f"provider {name!r}: entry point {ep.value} is not callable; it must name a "
                "factory (model_name, **options) -> Provider"
            )
        factory = cast(ProviderFactory, loaded)
        with self._lock:
            self._factories.setdefault(name, factory)
        return factory


def _load_error(name: str, value: str, exc: ImportError) -> ConfigError:
    info = _BUILTIN.get(name, (None, None))[1]
    if info is not None and info.extra:
        return ConfigError(
            f"provider {name!r} needs the {info.extra!r} extra: pip install 'llmlab[{info.extra}]' "
            f"({type(exc).__name__}: {exc})"
        )
    return ConfigError(f"provider {name!r} (entry point {value}) could not be imported: {exc}")


_registry = _Registry()

# Which provider a bare model name most likely belongs to, for the error's suggestion.
_FAMILIES = (
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("chatgpt", "openai"),
    ("claude", "anthropic"),
    ("smollm", "local"),
)


def register_provider(
    name: str, factory: ProviderFactory, *, info: ProviderInfo | None = None
) -> None:
    """Register a provider in code, as an entry point would (replaces one of the same name)."""
    if not name or "/" in name:
        raise ConfigError(f"provider name {name!r} must be non-empty and contain no '/'")
    _registry.register(name, factory, info)


def provider_names() -> list[str]:
    """Every provider known: built-in, installed entry points, registered in code."""
    return _registry.names()


def provider_infos() -> list[ProviderInfo]:
    """``ProviderInfo`` of every known provider, by name."""
    return [_registry.info(name) for name in _registry.names()]


def default_model_name() -> str:
    """LLMLAB_MODEL, else ``local/smollm2``."""
    return os.environ.get("LLMLAB_MODEL") or DEFAULT_MODEL


def split_model_name(name: str) -> tuple[str, str]:
    """``"provider/model"`` → ``("provider", "model")``; the model part may hold slashes."""
    provider, sep, model = name.partition("/")
    if not sep or not provider or not model:
        known = provider_names()
        bare = name.strip("/")
        guess = next((p for prefix, p in _FAMILIES if bare.startswith(prefix)), None)
        likely = [guess] if guess in known else [p for p in known if p != "scripted"]
        raise UnknownModelError(
            name,
            candidates=[f"{p}/{bare}" for p in likely][:4],
            hint="model names are provider/model; providers: " + ", ".join(known),
        )
    return provider, model


def create_provider(name: str, store: Store, **options: Any) -> Provider:
    """The bare ``Provider`` for ``"provider/model"``; only the call path uses it.

    ``store`` is passed on as ``store=`` to a factory that sets ``wants_store = True``.
    """
    provider, model = split_model_name(name)
    factory = _registry.factory(provider)
    if factory is None:
        raise UnknownModelError(
            name,
            hint=f"unknown provider {provider!r}; known providers: {_joined(provider_names())}",
        )
    if getattr(factory, "wants_store", False):
        options = {**options, "store": store}
    try:
        made = factory(model, **options)
    except ImportError as exc:
        raise _load_error(provider, provider, exc) from exc
    except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"{name}: {option_error_text(exc)}") from exc
    if not isinstance(made, Provider):
        raise ConfigError(
            f"{name}: the {provider!r} provider's factory returned {type(made).__name__}, "
            "not a llmlab.models.Provider; subclass Provider in the plugin"
        )
    return made


def _joined(names: Iterable[str]) -> str:
    return ", ".join(names)


def option_error_text(exc: Exception) -> str:
    """A bad model option as one line: which option, what is wrong, what was given.

    pydantic's own message spans several lines and ends in a documentation link.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return f"bad options: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
    parts: list[str] = []
    for error in errors():
        where = ".".join(str(part) for part in error.get("loc", ())) or "?"
        if error.get("type") == "extra_forbidden":
            parts.append(f"unknown option {where!r}")
        else:
            given = error.get("input")
            parts.append(f"option {where!r}: {error.get('msg', 'invalid')} (got {given!r})")
    return "; ".join(parts) or "bad options"
