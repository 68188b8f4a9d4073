"""Turn the official SDKs' exceptions into ``ProviderError``.

The OpenAI and Anthropic SDKs share one exception shape (``APIStatusError`` with
``status_code`` and ``response``, ``APIConnectionError``, ``APITimeoutError``), so one
mapper serves both; each provider passes its SDK module.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import aiohttp
import httpx2

from llmlab._errors import ModelTimeout, ProviderError
from llmlab.models._redact import redact
from llmlab.models._retry import is_retryable_status, parse_retry_after

__all__ = ["incomplete_stream", "map_sdk_error"]

_STATUS_TYPES = {
    400: "bad_request",
    401: "authentication",
    403: "permission_denied",
    404: "not_found",
    408: "request_timeout",
    413: "request_too_large",
    422: "unprocessable",
    429: "rate_limited",
    529: "overloaded",
}


def _error_type(status: int) -> str:
    if status in _STATUS_TYPES:
        return _STATUS_TYPES[status]
    return "server_error" if status >= 500 else "client_error"


def _headers_retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = parse_retry_after(millis)
        return None if seconds is None else seconds / 1000.0
    return parse_retry_after(headers.get("retry-after"))


def incomplete_stream(provider: str, model: str, missing: str) -> ProviderError:
    """A stream that ended early: the connection closed before ``missing`` arrived."""
    return ProviderError(
        f"{provider}/{model}: the stream ended before {missing} (connection closed early)",
        provider=provider,
        model=model,
        retryable=True,
        error_type="connection",
    )


def _disconnected(exc: BaseException) -> bool:
    """True when a "timeout" is really the server closing the connection.

    The SDKs' aiohttp transport reports aiohttp's ``ServerDisconnectedError`` as a
    connect timeout; it is a connection failure.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def map_sdk_error(exc: BaseException, sdk: ModuleType, provider: str, model: str) -> ProviderError:
    """The ``ProviderError`` for an exception raised inside an SDK call.

    Status errors keep their code and Retry-After; connection failures and timeouts are
    retryable; a reply that is not valid JSON is a retryable ``malformed_response``.
    Anything else is a non-retryable ``provider_error``. Messages are redacted.
    """
    if isinstance(exc, ProviderError):
        return exc
    where = f"{provider}/{model}"
    # Errors while reading a stream come straight from the SDKs' HTTP layer (httpx2).
    if isinstance(exc, sdk.APITimeoutError | httpx2.TimeoutException) and not _disconnected(exc):
        return ModelTimeout(
            f"{where}: request timed out",
            provider=provider,
            model=model,
            retryable=True,
            error_type="timeout",
        )
    if isinstance(exc, sdk.APIConnectionError | httpx2.TransportError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        return ProviderError(
            redact(f"{where}: connection failed{detail}"),
            provider=provider,
            model=model,
            retryable=True,
            error_type="connection",
        )
    if isinstance(exc, sdk.APIStatusError):
        status = int(exc.status_code)
        return ProviderError(
            redact(f"{where}: HTTP {status}: {exc.message}"),
            provider=provider,
            model=model,
            status_code=status,
            retryable=is_retryable_status(status),
            retry_after=_headers_retry_after(exc.response),
            error_type=_error_type(status),
        )
    if isinstance(exc, json.JSONDecodeError | sdk.APIResponseValidationError | ValueError):
        return ProviderError(
            redact(f"{where}: the reply could not be read ({type(exc).__name__}: {exc})"),
            provider=provider,
            model=model,
            retryable=True,
            error_type="malformed_response",
        )
    return ProviderError(
        redact(f"{where}: {type(exc).__name__}: {exc}"),
        provider=provider,
        model=model,
        retryable=False,
        error_type="provider_error",
    )
