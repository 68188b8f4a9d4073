"""Differences between two prompt versions: template, variables, model configuration."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmlab._json import JsonObject
from llmlab.prompts._version import PromptVersion

__all__ = ["ABSENT", "FieldChange", "PromptDiff", "diff_versions"]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One key that differs: its value before (``a``) and after (``b``).

    A key missing on one side has the value ``ABSENT`` there.
    """

    key: str
    a: Any
    b: Any


@dataclass(frozen=True, slots=True)
class PromptDiff:
    """What changed from version ``a`` to version ``b``."""

    a: PromptVersion
    b: PromptVersion
    template: str
    """Unified diff of the templates; empty when they are equal."""
    variables: list[FieldChange] = field(default_factory=list)
    config: list[FieldChange] = field(default_factory=list)
    syntax_changed: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(self.template or self.variables or self.config or self.syntax_changed)

    def to_dict(self) -> JsonObject:
        """JSON-ready form."""
        return {
            "a": {"version": self.a.version, "hash": self.a.version_hash},
            "b": {"version": self.b.version, "hash": self.b.version_hash},
            "template": self.template,
            "variables": [{"key": c.key, "a": c.a, "b": c.b} for c in self.variables],
            "config": [{"key": c.key, "a": c.a, "b": c.b} for c in self.config],
            "syntax": [self.a.syntax, self.b.syntax] if self.syntax_changed else None,
        }

    def to_text(self) -> str:
        """The whole diff as text, as the CLI prints it."""
        if not self.has_changes:
            return "no differences\n"
        parts = [self.template] if self.template else []
        if self.syntax_changed:
            parts.append(f"syntax: {self.a.syntax} -> {self.b.syntax}\n")
        for title, changes in (("variables", self.variables), ("config", self.config)):
            if changes:
                parts.append(f"{title}:\n")
                parts.extend(f"  {c.key}: {_show(c.a)} -> {_show(c.b)}\n" for c in changes)
        return "".join(parts)


ABSENT = "(absent)"


def _show(value: Any) -> str:
    return ABSENT if value is ABSENT else json.dumps(value, sort_keys=True)


def _changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[FieldChange]:
    out: list[FieldChange] = []
    for key in sorted(a.keys() | b.keys()):
        va, vb = a.get(key, ABSENT), b.get(key, ABSENT)
        if va != vb:
            out.append(FieldChange(key, va, vb))
    return out


def diff_versions(a: PromptVersion, b: PromptVersion) -> PromptDiff:
    """The diff from ``a`` to ``b``."""

    def tag(v: PromptVersion) -> str:
        return f"{v.name or 'prompt'}:{v.version}" if v.version else f"#{v.version_hash}"

    lines = difflib.unified_diff(
        a.template_text().splitlines(keepends=True),
        b.template_text().splitlines(keepends=True),
        fromfile=tag(a),
        tofile=tag(b),
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return PromptDiff(
        a=a,
        b=b,
        template=text,
        variables=_changes(a.variables, b.variables),
        config=_changes(a.config.to_dict(), b.config.to_dict()),
        syntax_changed=a.syntax != b.syntax,
    )
