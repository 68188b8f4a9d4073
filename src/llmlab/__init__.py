"""llmlab: the workbench for evaluation-driven LLM development.

``llmlab.open(url=None)`` opens the store handle that everything else takes; ``Store`` is
its type. Both load lazily, so ``import llmlab`` (and the CLI's start-up) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmlab._errors import (
    BudgetExceeded,
    ConfigError,
    DatasetError,
    InputError,
    LlmlabError,
    ModelError,
    ModelTimeout,
    NotFoundError,
    PricingError,
    ProviderError,
    RetriesExhausted,
    StoreError,
    TemplateError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from llmlab.store import Store

__version__ = "0.1.0"


def open(url: str | None = None) -> Store:  # noqa: A001 - named like io.open / httpx's verbs
    """Open the store at ``url`` (a SQLAlchemy URL or an SQLite file path).

    ``None`` reads ``LLMLAB_DB``, else ``.llmlab/llmlab.db`` under the working folder. Use
    it as a context manager, or call ``close()``: closing flushes recorded calls.

    Raises:
        StoreError: the database cannot be opened or migrated.
    """
    from llmlab.store import open_store  # lazy: SQLAlchemy is not needed to import llmlab

    return open_store(url)


def __getattr__(name: str) -> Any:
    if name == "Store":
        from llmlab.store import Store

        return Store
    raise AttributeError(f"module 'llmlab' has no attribute {name!r}")


__all__ = [
    "BudgetExceeded",
    "ConfigError",
    "DatasetError",
    "InputError",
    "LlmlabError",
    "ModelError",
    "ModelTimeout",
    "NotFoundError",
    "PricingError",
    "ProviderError",
    "RetriesExhausted",
    "Store",
    "StoreError",
    "TemplateError",
    "UnknownModelError",
    "__version__",
    "open",
]
