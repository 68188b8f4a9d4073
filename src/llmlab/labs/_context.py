"""What a criterion kind is handed, the registry of kinds, and loading a lab's own code."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmlab._errors import ConfigError, InputError
from llmlab.labs._lab import Lab
from llmlab.labs._learner import load_learner_module
from llmlab.labs._results import CriterionResult
from llmlab.store import Store

if TYPE_CHECKING:
    from llmlab.labs._kinds_prompt import CaseRun

__all__ = ["GradeContext", "Kind", "criterion_kind", "criterion_kinds", "lab_callable"]

GRADING_SEED = 1234


@dataclass(slots=True)
class GradeContext:
    """One check of one lab: the lab, the learner's folder, the model, shared results."""

    lab: Lab
    lab_dir: Path
    model: str
    store: Store
    """Where the model's calls are recorded (priced, timed, linked to the lab)."""
    seed: int = GRADING_SEED
    prompt_runs: dict[str, tuple[list[CaseRun], str]] = field(default_factory=dict)
    """``prompt_eval`` runs by prompt, cases and grading, and their ``lab_run`` tag: the
    criteria of one check that share them share one run."""

    def learner(self, name: str) -> Path:
        """A file in the learner's folder."""
        return self.lab_dir / name

    def lab_file(self, name: str) -> Path:
        """A file of the lab itself (``hidden/cases.yaml``)."""
        return self.lab.folder / name


Kind = Callable[[GradeContext, Mapping[str, Any]], list[CriterionResult]]
_KINDS: dict[str, Kind] = {}


def criterion_kind(name: str) -> Callable[[Kind], Kind]:
    """Register a criterion kind that ``lab.toml`` files can name."""

    def register(fn: Kind) -> Kind:
        _KINDS[name] = fn
        return fn

    return register


def criterion_kinds() -> dict[str, Kind]:
    """Every registered kind, by name."""
    return dict(_KINDS)


def lab_callable(lab: Lab, ref: str) -> Callable[..., Any]:
    """``"hidden/grader.py:expected"``: a function from a lab's own files.

    Raises:
        ConfigError: the lab's file or function is missing (a bug in the lab, not yours).
    """
    file, _, name = ref.partition(":")
    path = lab.folder / file
    try:
        module: types.ModuleType = load_learner_module(path)
    except InputError as exc:
        raise ConfigError(f"lab {lab.name} is broken: {exc}") from None
    found = getattr(module, name, None)
    if not callable(found):
        raise ConfigError(f"lab {lab.name} is broken: {path} defines no function {name!r}")
    return found  # type: ignore[no-any-return]
