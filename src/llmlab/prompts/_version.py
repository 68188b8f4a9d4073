"""PromptVersion: one immutable prompt (text or chat), its variables and model configuration.

Identity is the content hash of the seed: ``sha256(f"{template}|{json(variables)}")``,
first 12 hex characters. A chat template is serialized canonically (sorted-key JSON of
its messages) before hashing. A model configuration or an explicitly chosen template
syntax, when present, is appended to the hashed content, so changing the temperature
makes a new version while seed-shaped prompts keep the seed's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from llmlab._errors import InputError, TemplateError
from llmlab._json import JsonObject
from llmlab.models._types import Message, Request
from llmlab.prompts._render import (
    CompiledTemplate,
    Syntax,
    compile_template,
    detect_syntax,
    fits_format_style,
    warn_extra,
)

__all__ = ["ModelConfig", "PromptVersion", "content_hash"]

_ROLES = ("system", "user", "assistant")


class ModelConfig(BaseModel):
    """The model settings a prompt version was written for (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    """A ``provider/model`` name; the default model is used when unset."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0)
    json_schema: dict[str, JsonValue] | None = None
    """Structured output: the reply must be JSON matching this schema."""

    def to_dict(self) -> JsonObject:
        """The fields that are set, for storage and hashing."""
        return self.model_dump(exclude_none=True)


def _canonical_template(template: str | tuple[Message, ...]) -> str:
    if isinstance(template, str):
        return template
    return json.dumps(
        [{"role": m.role, "content": m.content} for m in template],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def content_hash(
    template: str | tuple[Message, ...],
    variables: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The seed's version hash, extended with ``extra`` (config, syntax) when non-empty."""
    content = f"{_canonical_template(template)}|{json.dumps(dict(variables), sort_keys=True)}"
    if extra:
        content += "|" + json.dumps(dict(extra), sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:12]


def _as_messages(template: object) -> str | tuple[Message, ...]:
    if isinstance(template, str):
        return template
    if isinstance(template, Sequence):
        messages: list[Message] = []
        for i, item in enumerate(template):
            if isinstance(item, Message):
                messages.append(item)
            elif isinstance(item, Mapping) and item.get("role") in _ROLES:
                content = item.get("content")
                if not isinstance(content, str):
                    raise InputError(f"chat message {i}: 'content' must be a string")
                messages.append(Message(role=item["role"], content=content))
            else:
                raise InputError(
                    f"chat message {i}: expected {{role: system|user|assistant, content: ...}}"
                )
        if not messages:
            raise InputError("a chat template needs at least one message")
        return tuple(messages)
    raise InputError("a template is a string or a list of chat messages")


def _as_variables(variables: Mapping[str, Any] | Sequence[str] | None) -> JsonObject:
    if variables is None:
        return {}
    if isinstance(variables, Mapping):
        out = dict(variables)
    elif isinstance(variables, str) or not isinstance(variables, Sequence):
        raise InputError("variables are a mapping name -> default, or a list of names")
    else:
        out = dict.fromkeys(variables)
    for name in out:
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"variable name {name!r} is not a valid identifier")
    return out


@dataclass(frozen=True, slots=True, init=False)
class PromptVersion:
    """One immutable prompt version.

    ``PromptVersion(template, variables, metadata)`` as in the seed. ``variables`` maps
    each declared variable to its default (``None``: declared, no default); a list of
    names declares them without defaults. Variables the template uses are declared
    implicitly. ``syntax`` is ``"auto"`` (Jinja when the template has ``{{``/``{%``,
    else the ``{var}`` format style when it has such fields), ``"jinja"`` or ``"format"``.

    ``name``, ``version`` (the number per name) and ``archived`` are set by the registry.
    """

    template: str | tuple[Message, ...]
    variables: JsonObject
    """Each declared variable's default (None: no default)."""
    metadata: dict[str, Any]
    """Free-form: whatever the author attached."""
    config: ModelConfig
    message: str | None
    author: str | None
    created_at: datetime
    syntax: Syntax
    version_hash: str
    name: str | None = None
    version: int | None = None
    archived: bool = False
    _compiled: tuple[CompiledTemplate, ...] = field(default=(), repr=False, compare=False)
    _known: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _defaults: JsonObject = field(default_factory=dict, repr=False, compare=False)

    def __init__(
        self,
        template: str | Sequence[Message | Mapping[str, Any]],
        variables: Mapping[str, Any] | Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        config: ModelConfig | Mapping[str, Any] | None = None,
        message: str | None = None,
        author: str | None = None,
        created_at: datetime | None = None,
        syntax: Literal["auto", "jinja", "format"] = "auto",
        name: str | None = None,
        version: int | None = None,
        archived: bool = False,
    ) -> None:
        tmpl = _as_messages(template)
        texts = [tmpl] if isinstance(tmpl, str) else [m.content for m in tmpl]
        detected = detect_syntax(texts)
        chosen: Syntax = detected if syntax == "auto" else syntax
        cfg = config if isinstance(config, ModelConfig) else ModelConfig(**(config or {}))
        vars_ = _as_variables(variables)
        extra: dict[str, object] = {}
        if cfg.to_dict():
            extra["config"] = cfg.to_dict()
        if chosen != detected:
            extra["syntax"] = chosen
        when = created_at or datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        sets = object.__setattr__
        sets(self, "template", tmpl)
        sets(self, "variables", vars_)
        sets(self, "metadata", dict(metadata or {}))
        sets(self, "config", cfg)
        sets(self, "message", message)
        sets(self, "author", author)
        sets(self, "created_at", when)
        sets(self, "syntax", chosen)
        sets(self, "version_hash", content_hash(tmpl, vars_, extra))
        sets(self, "name", name)
        sets(self, "version", version)
        sets(self, "archived", archived)
        where = self.label
        try:
            compiled = tuple(compile_template(t, chosen, where) for t in texts)
        except TemplateError as exc:
            if syntax == "auto" and fits_format_style(texts):
                # `{{` made auto pick Jinja, but the text reads as a seed-style {var}
                # template whose `{{` are escaped braces: say how to choose that
                exc.args = (
                    f"{exc.args[0]} (if this is a {{var}} template, set its syntax to 'format')",
                )
            raise
        sets(self, "_compiled", compiled)
        known = frozenset(vars_).union(*(c.referenced for c in compiled))
        sets(self, "_known", known)
        sets(self, "_defaults", {k: v for k, v in vars_.items() if v is not None})

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.version_hash))

    @property
    def label(self) -> str:
        """How errors and listings name this version: ``name:N``, ``name#hash`` or ``#hash``."""
        if self.name is None:
            return f"prompt #{self.version_hash}"
        if self.version is None:
            return f"prompt {self.name}#{self.version_hash}"
        return f"prompt {self.name}:{self.version}"

    @property
    def is_chat(self) -> bool:
        return not isinstance(self.template, str)

    @property
    def referenced_variables(self) -> frozenset[str]:
        """Every variable the template uses or declares."""
        return self._known

    def with_identity(self, *, name: str, version: int, archived: bool = False) -> PromptVersion:
        """A copy carrying the registry's name and number (content and hash unchanged)."""
        clone = object.__new__(PromptVersion)
        for f in fields(PromptVersion):
            object.__setattr__(clone, f.name, getattr(self, f.name))
        object.__setattr__(clone, "name", name)
        object.__setattr__(clone, "version", version)
        object.__setattr__(clone, "archived", archived)
        return clone

    def _values(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        extra = kwargs.keys() - self._known
        if extra:
            warn_extra(set(extra), self.label)
        if not self._defaults:
            return dict(kwargs)
        return {**self._defaults, **kwargs}

    def render(self, **kwargs: Any) -> str:
        """Render with the given values over the declared defaults.

        A missing variable raises ``TemplateError`` naming it and the prompt; a variable
        the prompt does not use or declare warns (``PromptVariableWarning``). A chat
        template renders to a readable transcript; use ``render_messages`` for calls.
        """
        values = self._values(kwargs)
        if isinstance(self.template, str):
            return self._compiled[0].render(values, self.label)
        return "\n\n".join(
            f"[{m.role}]\n{c.render(values, self.label)}"
            for m, c in zip(self.template, self._compiled, strict=True)
        )

    def render_messages(self, **kwargs: Any) -> tuple[Message, ...]:
        """Render to chat messages (a text template becomes one user message)."""
        values = self._values(kwargs)
        if isinstance(self.template, str):
            return (Message(role="user", content=self._compiled[0].render(values, self.label)),)
        return tuple(
            Message(role=m.role, content=c.render(values, self.label))
            for m, c in zip(self.template, self._compiled, strict=True)
        )

    def to_request(self, *, tags: Mapping[str, str] | None = None, **kwargs: Any) -> Request:
        """A model request: rendered messages plus this version's model configuration."""
        return Request(
            messages=self.render_messages(**kwargs),
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            json_schema=self.config.json_schema,
            tags=dict(tags or {}),
        )

    def to_dict(self) -> JsonObject:
        """JSON-ready form: identity, content, configuration (chat messages as dicts)."""
        template: Any = (
            self.template
            if isinstance(self.template, str)
            else [m.model_dump() for m in self.template]
        )
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.version_hash,
            "template": template,
            "syntax": self.syntax,
            "variables": self.variables,
            "config": self.config.to_dict(),
            "metadata": self.metadata,
            "message": self.message,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "archived": self.archived,
        }

    def template_text(self) -> str:
        """The template as text: itself, or the chat messages as YAML-like blocks."""
        if isinstance(self.template, str):
            return self.template
        return "\n".join(f"[{m.role}]\n{m.content}" for m in self.template)
