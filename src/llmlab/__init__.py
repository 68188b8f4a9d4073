"""llmlab: the workbench for evaluation-driven LLM development."""

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

__version__ = "0.1.0"

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
    "StoreError",
    "TemplateError",
    "UnknownModelError",
    "__version__",
]
