"""What a check measures: one result per criterion, with the figure, the bar, the gap."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmlab._json import JsonObject
from llmlab.evals import wilson_interval

__all__ = ["CaseDetail", "CheckReport", "CriterionResult", "fraction_text", "percent"]


def percent(value: float) -> str:
    """``0.5`` -> ``50%`` (one decimal only when it matters)."""
    scaled = value * 100
    return f"{scaled:.0f}%" if abs(scaled - round(scaled)) < 0.05 else f"{scaled:.1f}%"


def fraction_text(k: int, n: int) -> str:
    """``4/8 = 50% [95% CI 22–78%]``: a count, its share and its Wilson interval."""
    if n == 0:
        return "0/0"
    ci = wilson_interval(k, n)
    return f"{k}/{n} = {percent(k / n)} [95% CI {ci.low * 100:.0f}–{ci.high * 100:.0f}%]"


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """A case that failed, shown so the learner can see exactly what happened."""

    case_id: str
    answer: str
    score: float | None
    reason: str
    prompt: str | None = None
    """The exact rendered prompt (system prompt first, when there is one)."""
    expected: str = ""

    def to_dict(self) -> JsonObject:
        return {
            "case": self.case_id,
            "prompt": self.prompt,
            "answer": self.answer,
            "expected": self.expected,
            "score": self.score,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion as measured.

    Attributes:
        name: what is measured ("held-out pass rate").
        passed: the bar is met.
        measured: the figure ("4/8 = 50% [95% CI 22–78%]").
        bar: what it needs ("needs ≥ 6/8").
        distance: how far from the bar, when not met ("2 more cases").
        gating: False for a figure shown for information only.
        failures: failing cases worth showing.
        note: one more sentence (a lesson, a warning).
    """

    name: str
    passed: bool
    measured: str
    bar: str = ""
    distance: str = ""
    gating: bool = True
    failures: tuple[CaseDetail, ...] = ()
    note: str = ""

    def to_dict(self) -> JsonObject:
        return {
            "name": self.name,
            "passed": self.passed,
            "measured": self.measured,
            "bar": self.bar,
            "distance": self.distance,
            "gating": self.gating,
            "note": self.note,
            "failures": [f.to_dict() for f in self.failures],
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of ``labs check`` for one lab."""

    lab: str
    title: str
    lab_dir: Path
    model: str | None
    criteria: tuple[CriterionResult, ...]
    duration_s: float
    extra: JsonObject = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria if c.gating)

    def to_dict(self) -> JsonObject:
        return {
            "lab": self.lab,
            "title": self.title,
            "dir": str(self.lab_dir),
            "model": self.model,
            "passed": self.passed,
            "duration_s": round(self.duration_s, 3),
            "criteria": [c.to_dict() for c in self.criteria],
        }
