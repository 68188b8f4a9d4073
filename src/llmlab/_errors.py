"""The llmlab exception hierarchy.

Every error llmlab raises on purpose derives from ``LlmlabError``; the CLI turns
them into one line on stderr and exit code 2 (``BudgetExceeded`` and gate failures
have their own codes where the CLI says so)::

    LlmlabError
    ├── ConfigError            bad setting or environment variable
    ├── InputError             bad user input; names file and line where it has them
    │   ├── DatasetError       a malformed dataset line, row or case
    │   └── TemplateError      a template that does not parse or lacks a variable
    ├── NotFoundError          unknown prompt, version, label, run, model ...
    │   └── UnknownModelError  a "provider/model" name nothing can serve
    ├── ModelError             a model call failed
    │   ├── ProviderError      the provider answered with an error (or not at all)
    │   │   └── ModelTimeout   no answer within the per-call timeout
    │   └── RetriesExhausted   every attempt failed; wraps the last ProviderError
    ├── PricingError           a malformed price override file
    ├── StoreError             the database could not be opened, migrated, read or written
    └── BudgetExceeded         a hard budget refused a call
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

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
]


class LlmlabError(Exception):
    """Base class of every error llmlab raises on purpose."""


class ConfigError(LlmlabError):
    """A setting or environment variable is wrong."""


class InputError(LlmlabError):
    """User input is wrong; the message names the file and line where known."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(f"{where}{message}")


class DatasetError(InputError):
    """A dataset line, row or case is malformed."""


class TemplateError(InputError):
    """A template does not parse, or a variable it needs is missing."""


class NotFoundError(LlmlabError):
    """Something named does not exist; the message lists the nearest names that do."""

    def __init__(self, what: str, name: str, *, candidates: Sequence[str] = ()):
        self.what = what
        self.name = name
        self.candidates = list(candidates)
        message = f"unknown {what} {name!r}"
        if self.candidates:
            message += "; did you mean: " + ", ".join(self.candidates)
        super().__init__(message)


class UnknownModelError(NotFoundError):
    """A model name that no provider can serve."""

    def __init__(self, name: str, *, candidates: Sequence[str] = (), hint: str = ""):
        super().__init__("model", name, candidates=candidates)
        if hint:
            self.args = (f"{self.args[0]} ({hint})",)


class ModelError(LlmlabError):
    """A model call failed."""

    def __init__(self, message: str, *, provider: str = "", model: str = ""):
        self.provider = provider
        self.model = model
        super().__init__(message)


class ProviderError(ModelError):
    """The provider answered with an error, or the connection failed.

    ``retryable`` is true for 429, 5xx, connection errors and timeouts;
    ``retry_after`` holds the server's Retry-After in seconds when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        status_code: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        error_type: str = "provider_error",
    ):
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after = retry_after
        self.error_type = error_type
        super().__init__(message, provider=provider, model=model)


class ModelTimeout(ProviderError):
    """No answer within the per-call timeout."""


class RetriesExhausted(ModelError):
    """Every attempt failed; ``last_error`` is the final cause."""

    def __init__(self, last_error: ProviderError, attempts: int):
        self.last_error = last_error
        self.attempts = attempts
        super().__init__(
            f"{last_error.provider}/{last_error.model}: gave up after {attempts} attempt(s): "
            f"{last_error}",
            provider=last_error.provider,
            model=last_error.model,
        )


class PricingError(LlmlabError):
    """A price override file is malformed; the message names the file and the key."""


class StoreError(LlmlabError):
    """The database could not be opened, migrated, read or written.

    ``kind`` says why (``locked``, ``disk_full``, ``read_only``, ``permission``,
    ``corrupt``, ``schema``, ``connection``, ``other``); ``retryable`` is True where the
    same operation may succeed later (a lock released, a server back).
    """

    kind: str = "other"
    retryable: bool = False


class BudgetExceeded(LlmlabError):
    """A hard budget refused a call: spent + reserved + this call would pass the limit."""

    def __init__(
        self,
        budget: str,
        *,
        spent: Decimal,
        reserved: Decimal,
        limit: Decimal,
        requested: Decimal,
    ):
        self.budget = budget
        self.spent = spent
        self.reserved = reserved
        self.limit = limit
        self.requested = requested
        super().__init__(
            f"budget {budget!r} refused the call: spent ${_plain(spent)}, reserved "
            f"${_plain(reserved)}, this call up to ${_plain(requested)}, limit ${_plain(limit)}"
        )


def _plain(amount: Decimal) -> str:
    """Dollars without an exponent (``0.0000001``, never ``1E-7``)."""
    return f"{amount.normalize():f}" if amount else "0"
