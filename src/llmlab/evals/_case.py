"""``EvalCase``: one input to evaluate, with what a good answer looks like."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from llmlab._errors import InputError, TemplateError

__all__ = ["EvalCase", "content_id", "located"]


def content_id(content: Any) -> str:
    """A stable id derived from a case's content (12 hex digits of its SHA-256)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


@dataclass(slots=True)
class EvalCase:
    """One evaluation case.

    Attributes:
        input: what the model is given (the ``input`` template variable).
        expected_properties: what a good output has; a scorer ``(output, expected)``
            receives this mapping (the ``expected`` template variable).
        weight: the case's weight in the mean score.
        id: given, or derived from the content when left out.
        tags: labels for the per-tag breakdown.
        fields: further template variables (a dataset row's other columns).
        source: where the case was read, ``(file, line)``, for error messages.
    """

    input: Any = ""
    expected_properties: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    id: str = ""
    tags: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)
    source: tuple[str, int | None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise InputError(f"EvalCase weight must be a number, not {weight!r}")
        if not math.isfinite(weight) or weight < 0:
            raise InputError(f"EvalCase weight must be a finite number >= 0, not {weight!r}")
        self.weight = float(weight)
        if not self.id:
            self.id = content_id(
                {"input": self.input, "expected": self.expected_properties, "fields": self.fields}
            )
        self.tags = tuple(self.tags)

    def variables(self) -> dict[str, object]:
        """Template variables: the fields, ``input``, ``expected`` (and its keys), ``id``."""
        # ``object``: the values are the case's, handed to templates and scorers unread.
        variables: dict[str, object] = dict(self.expected_properties)
        variables.update(self.fields)
        variables["input"] = self.input
        variables["expected"] = self.expected_properties
        variables["id"] = self.id
        variables["tags"] = list(self.tags)
        return variables


def located(error: TemplateError, case: EvalCase) -> TemplateError:
    """``error`` with the file and line the case came from, when known."""
    if case.source is None or error.path is not None:
        return error
    path, line = case.source
    return TemplateError(str(error), path=path, line=line)
