"""Deterministic replies and token counts for the wire server.

The rule, for both APIs:

- **reply**: the next queued reply if any; else the scripted mapping or function applied to
  the last user message's text (a mapping without that key falls through); else
  ``"echo: " + <last user message text>``. With a JSON schema (``response_format`` /
  ``output_format``) and no script, the reply is a JSON value built from the schema whose
  strings are that echo text.
- **tokens**: whitespace-separated words. Input = the words of the system prompt and of every
  message; output = the words of the reply. ``max_tokens`` cuts the reply to that many words
  (finish reason ``length`` / ``max_tokens``); a stop sequence cuts it where it occurs.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Finish",
    "ReplyRule",
    "ReplyScript",
    "Turn",
    "count_tokens",
    "echo_reply",
    "int_or_none",
    "plan_turn",
    "sample_from_schema",
    "text_of",
    "truncate_words",
]

ReplyRule = Mapping[str, str] | Callable[[str], str]
Finish = Literal["stop", "length", "stop_sequence"]
_MAX_DEPTH = 8


def echo_reply(prompt: str) -> str:
    """The default reply to a prompt."""
    return f"echo: {prompt}"


def count_tokens(text: str) -> int:
    """The server's token count: whitespace-separated words."""
    return len(text.split())


def text_of(content: Any) -> str:
    """The text of a message content: a string, or a list of text parts/blocks joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def int_or_none(value: Any) -> int | None:
    """``value`` when it is an int (not a bool), else ``None``: request fields may be junk."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def truncate_words(text: str, limit: int) -> str:
    """The first ``limit`` words of ``text``, keeping the whitespace between them."""
    words = text.split()
    if len(words) <= limit:
        return text
    if limit <= 0:
        return ""
    end = 0
    for word in words[:limit]:
        end = text.index(word, end) + len(word)
    return text[:end]


class ReplyScript:
    """Scripted replies, consulted before the echo rule; safe to change from any thread.

    Example::

        srv.replies.enqueue("first answer", "second answer")
        srv.replies.set({"What is 2+2?": "4"})
        srv.replies.set(lambda prompt: prompt.upper())
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[str] = deque()
        self._rule: ReplyRule | None = None

    def enqueue(self, *replies: str) -> None:
        """Answer the next requests with these replies, in order, whatever the prompt."""
        with self._lock:
            self._queue.extend(replies)

    def set(self, rule: ReplyRule | None) -> None:
        """Answer by mapping the last user message's text (a dict or a function); None clears."""
        self._rule = rule

    def clear(self) -> None:
        """Forget queued replies and the rule."""
        with self._lock:
            self._queue.clear()
        self._rule = None

    def reply_for(self, prompt: str) -> str | None:
        """The scripted reply to ``prompt``, or ``None`` to use the default rule."""
        if self._queue:
            with self._lock:
                if self._queue:
                    return self._queue.popleft()
        rule = self._rule
        if rule is None:
            return None
        if isinstance(rule, Mapping):
            return rule.get(prompt)
        return rule(prompt)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return _resolve(node, root) if isinstance(node, Mapping) else {}


def _first_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or kind
        return str(kinds[0]) if kinds else None
    if kind is None and "properties" in schema:
        return "object"
    return str(kind) if kind is not None else None


def _sample_string(schema: Mapping[str, Any], text: str) -> str:
    value = text
    max_len = schema.get("maxLength")
    min_len = schema.get("minLength")
    if isinstance(max_len, int):
        value = value[:max_len]
    if isinstance(min_len, int) and len(value) < min_len:
        value = value + "x" * (min_len - len(value))
    return value


def _sample_number(schema: Mapping[str, Any], kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    value: int | float = low if isinstance(low, int | float) else 0
    if "exclusiveMinimum" in schema and value == schema["exclusiveMinimum"]:
        value += 1
    return int(value) if kind == "integer" else float(value)


def _pick_branch(branches: list[Any], deep: bool) -> Any:
    if deep:  # prefer a branch that ends the recursion
        for branch in branches:
            if isinstance(branch, Mapping) and branch.get("type") == "null":
                return branch
    return branches[0]


def sample_from_schema(
    schema: Any, text: str, root: Mapping[str, Any] | None = None, depth: int = 0
) -> Any:
    """A value that satisfies simple JSON schemas: every listed property filled, strings = text.

    Handles ``$ref`` (local), ``const``, ``enum``, ``anyOf``/``oneOf``/``allOf`` (first
    branch), objects, arrays (``minItems`` items), strings (length bounds), numbers
    (``minimum``), booleans and null. Formats and patterns are not honoured. Past a few
    levels (recursive schemas) only required properties are filled and null branches win.
    """
    if not isinstance(schema, Mapping):
        return text
    root = schema if root is None else root
    schema = _resolve(schema, root)
    deep = depth >= _MAX_DEPTH
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for key in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            return sample_from_schema(_pick_branch(branches, deep), text, root, depth + 1)
    kind = _first_type(schema)
    if kind == "object":
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = schema.get("required") or ()
        return {
            name: sample_from_schema(sub, text, root, depth + 1)
            for name, sub in props.items()
            if not deep or name in required
        }
    if kind == "array":
        min_items = int_or_none(schema.get("minItems")) or 0
        item = schema.get("items", {})
        return [sample_from_schema(item, text, root, depth + 1) for _ in range(min_items)]
    if kind in ("integer", "number"):
        return _sample_number(schema, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _sample_string(schema, text)


@dataclass(frozen=True, slots=True)
class Turn:
    """One computed answer, before it is written in either API's wire format."""

    model: str
    reply: str
    finish: Finish
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int


def plan_turn(
    *,
    model: str,
    texts: Iterable[str],
    prompt: str,
    script: ReplyScript,
    max_tokens: int | None = None,
    stop: Iterable[str] = (),
    schema: Mapping[str, Any] | None = None,
) -> Turn:
    """Apply the reply rule (module docstring) to one request."""
    reply = script.reply_for(prompt)
    if reply is None:
        reply = echo_reply(prompt)
        if schema is not None:
            reply = json.dumps(sample_from_schema(schema, reply))
    finish: Finish = "stop"
    stop_sequence = None
    for seq in stop:
        cut = reply.find(seq) if seq else -1
        if cut >= 0:
            reply, finish, stop_sequence = reply[:cut], "stop_sequence", seq
    if max_tokens is not None and count_tokens(reply) > max_tokens:
        reply, finish, stop_sequence = truncate_words(reply, max_tokens), "length", None
    return Turn(
        model=model,
        reply=reply,
        finish=finish,
        stop_sequence=stop_sequence,
        input_tokens=sum(count_tokens(t) for t in texts),
        output_tokens=count_tokens(reply),
    )
