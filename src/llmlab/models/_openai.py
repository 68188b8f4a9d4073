"""``openai/<model>`` and ``openai-compatible/<model>`` through the official async SDK.

``openai/`` reads OPENAI_API_KEY and honours OPENAI_BASE_URL. ``openai-compatible/``
serves vLLM, the llama.cpp server, Ollama and the like: its base URL comes from the
``base_url`` option, else LLMLAB_OPENAI_COMPATIBLE_BASE_URL, else OPENAI_BASE_URL; its key
is optional (``api_key`` option or LLMLAB_OPENAI_COMPATIBLE_API_KEY; OPENAI_API_KEY is
deliberately *not* sent to a third-party server).

Usage: ``prompt_tokens`` already includes cached tokens, so it is our ``input_tokens``
as is; ``prompt_tokens_details.cached_tokens`` is the cache-read part and
``completion_tokens_details.reasoning_tokens`` the reasoning part of the output.
The SDK's own retries are off (``max_retries=0``): llmlab retries itself.

Requests go through the SDK's documented low-level ``client.post(path, body=...,
cast_to=...)`` with a body built here as plain JSON types: the same client, auth, error
classes and response models as ``chat.completions.create``, without its per-call
request transform (which walks the params against the TypedDict annotations and cost
about half a millisecond of CPU per call, more on long conversations).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel, ConfigDict

from llmlab._errors import ConfigError
from llmlab.models._base import Provider
from llmlab.models._redact import checked_base_url, register_secret
from llmlab.models._sdk_errors import incomplete_stream, map_sdk_error
from llmlab.models._types import Request, Response, TextDelta, Usage
from llmlab.monitor import new_call_id

__all__ = ["OpenAIProvider", "OpenAIOptions", "create_openai", "create_openai_compatible"]

_NO_KEY = "no-key"  # the SDK insists on some key; keyless servers ignore it
_PATH = "/chat/completions"
_STREAM = openai.AsyncStream[ChatCompletionChunk]


def _options() -> openai.RequestOptions:
    """Per-request SDK options: an idempotency key of our own.

    Without one the SDK draws ``uuid4()`` (a read of the OS random source, a system call)
    for every POST, although the OpenAI client sends no idempotency header and its own
    retries are off; ``new_call_id()`` is a counter.
    """
    return {"idempotency_key": new_call_id()}


class OpenAIOptions(BaseModel):
    """Options of ``openai/`` and ``openai-compatible/`` models.

    Attributes:
        api_key: overrides the key from the environment.
        base_url: overrides the endpoint (``http://127.0.0.1:8000/v1``).
        http_client: ``"aiohttp"`` (the default: the SDK's ``DefaultAioHttpClient``,
            about half the CPU per call of httpx under concurrency) or ``"httpx"`` (the
            SDK's own default transport).
        organization: the OpenAI organization id.
        max_tokens_param: which request field carries ``Request.max_tokens``; OpenAI's
            own API wants ``max_completion_tokens``, most compatible servers ``max_tokens``.
        stream_usage: ask for usage in streams (``stream_options.include_usage``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: str | None = None
    base_url: str | None = None
    http_client: Literal["httpx", "aiohttp"] = "aiohttp"
    organization: str | None = None
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = None
    stream_usage: bool = True


def _get(raw: Any, name: str) -> Any:
    """A field of an SDK object (streamed chunks) or of a decoded JSON object (replies)."""
    return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)


def _usage(raw: Any) -> tuple[Usage, bool]:
    if raw is None:
        return Usage(), False
    prompt_details = _get(raw, "prompt_tokens_details")
    completion_details = _get(raw, "completion_tokens_details")
    return (
        Usage(
            input_tokens=int(_get(raw, "prompt_tokens") or 0),
            output_tokens=int(_get(raw, "completion_tokens") or 0),
            cache_read_tokens=int(_get(prompt_details, "cached_tokens") or 0),
            cache_write_tokens=int(_get(prompt_details, "cache_write_tokens") or 0),
            reasoning_tokens=int(_get(completion_details, "reasoning_tokens") or 0),
        ),
        True,
    )


class OpenAIProvider(Provider):
    """A chat model behind the OpenAI Chat Completions API."""

    supports_streaming = True
    supports_json_schema = True

    def __init__(
        self,
        provider: str,
        name: str,
        *,
        api_key: str,
        base_url: str | None,
        options: OpenAIOptions,
    ) -> None:
        super().__init__(provider, name)
        self.base_url = base_url
        self._options = options
        self._max_tokens_param = options.max_tokens_param or (
            "max_completion_tokens" if provider == "openai" else "max_tokens"
        )
        http_client = openai.DefaultAioHttpClient() if options.http_client == "aiohttp" else None
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            organization=options.organization,
            max_retries=0,
            http_client=http_client,
        )

    @property
    def endpoint(self) -> str | None:
        return str(self._client.base_url)

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.name,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params[self._max_tokens_param] = request.max_tokens
        if request.stop:
            params["stop"] = list(request.stop)
        if request.seed is not None:
            params["seed"] = request.seed
        if request.json_schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": request.json_schema},
            }
        return params

    async def generate(self, request: Request) -> Response:
        start = time.perf_counter()
        try:
            # The reply's bytes, decoded here: building the SDK's ChatCompletion model
            # (``cast_to=ChatCompletion``) costs about 0.1 ms of CPU per call for the four
            # fields read below. Status errors are raised by the SDK before this, as usual.
            raw: bytes = await self._client.post(
                _PATH, body=self._params(request), cast_to=bytes, options=_options()
            )
            completion: dict[str, Any] = json.loads(raw)
            choices = completion.get("choices") or []
            choice = choices[0] if choices else None
            message = (choice.get("message") or {}) if choice is not None else {}
            text = message.get("content") or ""
            finish = choice.get("finish_reason") if choice is not None else None
            usage, reported = _usage(completion.get("usage"))
        except Exception as exc:
            raise map_sdk_error(exc, openai, self.provider, self.name) from exc
        return Response(
            text=text,
            finish_reason=finish,
            usage=usage,
            usage_reported=reported,
            provider=self.provider,
            model=completion.get("model") or self.name,
            duration_s=time.perf_counter() - start,
        )

    async def stream(self, request: Request) -> AsyncIterator[TextDelta | Response]:
        start = time.perf_counter()
        params = self._params(request)
        params["stream"] = True
        if self._options.stream_usage:
            params["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        ttft: float | None = None
        finish: str | None = None
        resolved = self.name
        usage, reported = Usage(), False
        try:
            stream: Any = await self._client.post(
                _PATH,
                body=params,
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=_STREAM,
                options=_options(),
            )
            async with stream:
                async for chunk in stream:
                    resolved = getattr(chunk, "model", None) or resolved
                    if chunk.usage is not None:
                        usage, reported = _usage(chunk.usage)
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    text = choice.delta.content if choice.delta is not None else None
                    if text:
                        if ttft is None:
                            ttft = time.perf_counter() - start
                        parts.append(text)
                        yield TextDelta(text=text)
            if finish is None:
                raise incomplete_stream(self.provider, self.name, "a finish_reason")
        except Exception as exc:
            raise map_sdk_error(exc, openai, self.provider, self.name) from exc
        yield Response(
            text="".join(parts),
            finish_reason=finish,
            usage=usage,
            usage_reported=reported,
            provider=self.provider,
            model=resolved,
            duration_s=time.perf_counter() - start,
            ttft_s=ttft,
        )

    async def aclose(self) -> None:
        await self._client.close()


def create_openai(model_name: str, /, **options: Any) -> OpenAIProvider:
    """Factory of ``openai/<model>`` (the ``llmlab.providers`` entry point)."""
    opts = OpenAIOptions(**options)
    api_key = opts.api_key or os.environ.get("OPENAI_API_KEY")
    if not api_key:
        raise ConfigError(
            f"openai/{model_name}: OPENAI_API_KEY is not set; export it, or pass api_key=..."
        )
    register_secret(api_key)
    base_url = checked_base_url(
        opts.base_url or os.environ.get("OPENAI_BASE_URL") or None,
        f"openai/{model_name}",
        "OPENAI_API_KEY (or api_key=...)",
    )
    return OpenAIProvider("openai", model_name, api_key=api_key, base_url=base_url, options=opts)


def create_openai_compatible(model_name: str, /, **options: Any) -> OpenAIProvider:
    """Factory of ``openai-compatible/<model>`` (vLLM, llama.cpp server, Ollama ...)."""
    opts = OpenAIOptions(**options)
    base_url = (
        opts.base_url
        or os.environ.get("LLMLAB_OPENAI_COMPATIBLE_BASE_URL")
        or os.environ.get("OPENAI_BASE_URL")
    )
    if not base_url:
        raise ConfigError(
            f"openai-compatible/{model_name}: no base URL; set LLMLAB_OPENAI_COMPATIBLE_BASE_URL "
            "(for example http://127.0.0.1:8000/v1) or pass base_url=..."
        )
    base_url = checked_base_url(
        base_url,
        f"openai-compatible/{model_name}",
        "LLMLAB_OPENAI_COMPATIBLE_API_KEY (or api_key=...)",
    )
    api_key = opts.api_key or os.environ.get("LLMLAB_OPENAI_COMPATIBLE_API_KEY") or _NO_KEY
    register_secret(api_key)
    return OpenAIProvider(
        "openai-compatible", model_name, api_key=api_key, base_url=base_url, options=opts
    )
