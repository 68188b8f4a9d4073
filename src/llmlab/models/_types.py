"""Request, response and usage: the data every model call carries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CostStatus",
    "Message",
    "Request",
    "Response",
    "TextDelta",
    "Usage",
]

Role = Literal["system", "user", "assistant"]
CostStatus = Literal["priced", "unpriced", "local", "estimated"]


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str


class Request(BaseModel):
    """What to ask a model. Provider-neutral; each provider maps it to its wire format.

    ``tags`` are free-form labels recorded with the call (user, feature, session ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[Message, ...]
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_schema: dict[str, Any] | None = None
    """Structured output: the reply must be JSON matching this schema."""
    tags: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(
        cls,
        prompt: str,
        *,
        system: str | None = None,
        **options: Any,
    ) -> Request:
        """A one-turn request: an optional system message and one user message."""
        messages: list[Message] = []
        if system:
            messages.append(Message(role="system", content=system))
        messages.append(Message(role="user", content=prompt))
        return cls(messages=tuple(messages), **options)

    @property
    def system(self) -> str | None:
        """The system messages joined, or None."""
        parts = [m.content for m in self.messages if m.role == "system"]
        return "\n\n".join(parts) if parts else None


class Usage(BaseModel):
    """Token counts of one call.

    ``input_tokens`` counts *all* input tokens, cache reads and writes included (the
    OpenAI and genai-prices convention); ``cache_read_tokens`` and
    ``cache_write_tokens`` are parts of it. ``reasoning_tokens`` are part of
    ``output_tokens``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Response(BaseModel):
    """A model's answer and what it cost."""

    model_config = ConfigDict(extra="forbid")

    text: str
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    usage_reported: bool = True
    """False when the provider sent no usage (tokens then are 0, not measured)."""
    provider: str = ""
    model: str = ""
    """The model name the provider resolved the request to."""
    duration_s: float = 0.0
    ttft_s: float | None = None
    """Time to first token, measured when the reply was streamed."""
    cost: Decimal | None = None
    cost_status: CostStatus = "unpriced"
    call_id: str | None = None
    cache_hit: bool = False


class TextDelta(BaseModel):
    """A piece of streamed text."""

    model_config = ConfigDict(frozen=True)

    text: str
