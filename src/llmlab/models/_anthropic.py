"""``anthropic/<model>`` through the official async SDK.

Reads ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) and honours ANTHROPIC_BASE_URL.

Usage: Anthropic's ``input_tokens`` *excludes* cached tokens, so llmlab's input is
``input_tokens + cache_read_input_tokens + cache_creation_input_tokens`` (the convention of
``Usage`` and genai-prices). Reasoning is ``output_tokens_details.thinking_tokens``.

Stop reasons are reported in the OpenAI vocabulary so that evals compare providers:
``end_turn``/``stop_sequence`` → ``stop``, ``max_tokens`` → ``length``, ``refusal`` →
``content_filter``, ``tool_use`` → ``tool_calls``.

Structured output: ``output_config.format`` (a JSON schema the API enforces) by default;
``json_mode="prompt"`` instead asks for JSON in the system prompt and prefills ``{``, for
models or servers without ``output_config``. ``Request.seed`` has no Anthropic
equivalent and is ignored. The SDK's own retries are off (``max_retries=0``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import anthropic
from pydantic import BaseModel, ConfigDict, Field

from llmlab._errors import ConfigError
from llmlab.models._base import Provider
from llmlab.models._redact import checked_base_url, register_secret
from llmlab.models._sdk_errors import incomplete_stream, map_sdk_error
from llmlab.models._types import Request, Response, TextDelta, Usage

__all__ = ["AnthropicProvider", "AnthropicOptions", "create_anthropic"]

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "content_filter",
    "tool_use": "tool_calls",
}


class AnthropicOptions(BaseModel):
    """Options of ``anthropic/`` models.

    Attributes:
        api_key: overrides ANTHROPIC_API_KEY.
        base_url: overrides ANTHROPIC_BASE_URL.
        http_client: ``"aiohttp"`` (the default: the SDK's ``DefaultAioHttpClient``) or
            ``"httpx"`` (the SDK's own default transport).
        default_max_tokens: ``max_tokens`` when the request sets none (the API needs one).
        json_mode: how ``Request.json_schema`` is asked for (see the module docstring).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: str | None = None
    base_url: str | None = None
    http_client: Literal["httpx", "aiohttp"] = "aiohttp"
    default_max_tokens: int = Field(default=4096, gt=0)
    json_mode: Literal["output_config", "prompt"] = "output_config"


def _count(raw: Any, field: str) -> int:
    return int(getattr(raw, field, 0) or 0)


def _usage(raw: Any) -> tuple[Usage, bool]:
    if raw is None or getattr(raw, "output_tokens", None) is None:
        return Usage(), False
    cache_read = _count(raw, "cache_read_input_tokens")
    cache_write = _count(raw, "cache_creation_input_tokens")
    details = getattr(raw, "output_tokens_details", None)
    return (
        Usage(
            input_tokens=_count(raw, "input_tokens") + cache_read + cache_write,
            output_tokens=_count(raw, "output_tokens"),
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
            reasoning_tokens=_count(details, "thinking_tokens"),
        ),
        True,
    )


def _finish(stop_reason: str | None) -> str | None:
    if stop_reason is None:
        return None
    return _STOP_REASONS.get(stop_reason, stop_reason)


class AnthropicProvider(Provider):
    """A Claude model behind the Anthropic Messages API."""

    supports_streaming = True
    supports_json_schema = True

    def __init__(self, name: str, *, api_key: str | None, options: AnthropicOptions) -> None:
        super().__init__("anthropic", name)
        self._options = options
        http_client = anthropic.DefaultAioHttpClient() if options.http_client == "aiohttp" else None
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=options.base_url,
            max_retries=0,
            http_client=http_client,
        )

    @property
    def endpoint(self) -> str | None:
        return str(self._client.base_url)

    def _params(self, request: Request) -> tuple[dict[str, Any], str]:
        """The SDK arguments, and the prefill the reply continues (or "")."""
        system = request.system
        messages: list[dict[str, Any]] = [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ]
        prefill = ""
        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": request.max_tokens or self._options.default_max_tokens,
        }
        if request.json_schema is not None:
            if self._options.json_mode == "output_config":
                params["output_config"] = {
                    "format": {"type": "json_schema", "schema": request.json_schema}
                }
            else:
                instruction = (
                    "Answer with one JSON object only, no prose, matching this JSON schema:\n"
                    + json.dumps(request.json_schema)
                )
                system = f"{system}\n\n{instruction}" if system else instruction
                prefill = "{"
                messages.append({"role": "assistant", "content": prefill})
        params["messages"] = messages
        if system:
            params["system"] = system
        if request.stop:
            params["stop_sequences"] = list(request.stop)
        if request.temperature is not None:
            # Not a typed argument of this SDK version; the API still takes it.
            params["extra_body"] = {"temperature": request.temperature}
        return params, prefill

    async def generate(self, request: Request) -> Response:
        start = time.perf_counter()
        params, prefill = self._params(request)
        try:
            message: Any = await self._client.messages.create(**params)
            blocks = getattr(message, "content", None) or []
            text = "".join(b.text for b in blocks if getattr(b, "type", None) == "text")
            usage, reported = _usage(getattr(message, "usage", None))
            stop_reason = getattr(message, "stop_reason", None)
        except Exception as exc:
            raise map_sdk_error(exc, anthropic, self.provider, self.name) from exc
        return Response(
            text=prefill + text,
            finish_reason=_finish(stop_reason),
            usage=usage,
            usage_reported=reported,
            provider=self.provider,
            model=getattr(message, "model", None) or self.name,
            duration_s=time.perf_counter() - start,
        )

    async def stream(self, request: Request) -> AsyncIterator[TextDelta | Response]:
        start = time.perf_counter()
        params, prefill = self._params(request)
        params["stream"] = True
        parts: list[str] = [prefill] if prefill else []
        ttft: float | None = None
        stop_reason: str | None = None
        resolved = self.name
        start_usage: Any = None
        final_usage: dict[str, Any] = {}
        stopped = False
        try:
            events: Any = await self._client.messages.create(**params)
            async with events:
                if prefill:
                    yield TextDelta(text=prefill)
                async for event in events:
                    kind = getattr(event, "type", None)
                    if kind == "message_start":
                        resolved = getattr(event.message, "model", None) or resolved
                        start_usage = getattr(event.message, "usage", None)
                    elif kind == "content_block_delta":
                        text = getattr(event.delta, "text", None)
                        if text:
                            if ttft is None:
                                ttft = time.perf_counter() - start
                            parts.append(text)
                            yield TextDelta(text=text)
                    elif kind == "message_stop":
                        stopped = True
                    elif kind == "message_delta":
                        stop_reason = getattr(event.delta, "stop_reason", None) or stop_reason
                        delta_usage = getattr(event, "usage", None)
                        if delta_usage is not None:
                            # Cumulative counts; None means "unchanged since message_start".
                            final_usage.update(
                                {k: v for k, v in vars(delta_usage).items() if v is not None}
                            )
            if not stopped:
                raise incomplete_stream(self.provider, self.name, "message_stop")
        except Exception as exc:
            raise map_sdk_error(exc, anthropic, self.provider, self.name) from exc
        usage, reported = _usage(_merge_usage(start_usage, final_usage))
        yield Response(
            text="".join(parts),
            finish_reason=_finish(stop_reason),
            usage=usage,
            usage_reported=reported,
            provider=self.provider,
            model=resolved,
            duration_s=time.perf_counter() - start,
            ttft_s=ttft,
        )

    async def aclose(self) -> None:
        await self._client.close()


class _UsageView:
    """Attribute access over a dict of usage fields."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)


def _merge_usage(start: Any, final: dict[str, Any]) -> Any:
    if start is None and not final:
        return None
    fields: dict[str, Any] = {}
    if start is not None:
        fields.update({k: v for k, v in vars(start).items() if v is not None})
    fields.update(final)
    return _UsageView(fields)


def create_anthropic(model_name: str, /, **options: Any) -> AnthropicProvider:
    """Factory of ``anthropic/<model>`` (the ``llmlab.providers`` entry point)."""
    opts = AnthropicOptions(**options)
    api_key = opts.api_key or os.environ.get("ANTHROPIC_API_KEY") or None
    if api_key is None and not os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        raise ConfigError(
            f"anthropic/{model_name}: ANTHROPIC_API_KEY is not set; export it, or pass api_key=..."
        )
    register_secret(api_key)
    register_secret(os.environ.get("ANTHROPIC_AUTH_TOKEN"))
    checked_base_url(
        opts.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
        f"anthropic/{model_name}",
        "ANTHROPIC_API_KEY (or api_key=...)",
    )
    return AnthropicProvider(model_name, api_key=api_key, options=opts)
