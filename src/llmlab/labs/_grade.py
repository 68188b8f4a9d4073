"""Grading a lab: every criterion of ``lab.toml`` by its kind, then the attempt recorded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import llmlab.labs._kinds_answers  # noqa: F401  (registers the kinds)
import llmlab.labs._kinds_monitor  # noqa: F401
import llmlab.labs._kinds_prompt  # noqa: F401
import llmlab.labs._kinds_python  # noqa: F401
import llmlab.labs._kinds_suite  # noqa: F401
from llmlab._errors import ConfigError, InputError
from llmlab.labs._context import GradeContext, criterion_kinds
from llmlab.labs._lab import Lab
from llmlab.labs._results import CheckReport, CriterionResult
from llmlab.models import default_model_name
from llmlab.store import Store, add_lab_attempt, resolve_store

__all__ = ["DEFAULT_LAB_MODEL", "check_lab", "record_attempt"]

DEFAULT_LAB_MODEL = "local/smollm2"


def check_lab(
    lab: Lab, lab_dir: Path, *, model: str | None = None, store: Store | None = None
) -> CheckReport:
    """Grade the learner's files in ``lab_dir`` against ``lab``'s criteria.

    The model (default: the embedded ``local/smollm2``) runs greedy with a fixed seed,
    one case at a time; its calls are recorded in ``store`` (default: the default handle).

    Raises:
        InputError: a learner file is wrong (the message names file:line).
        ConfigError: the lab itself is broken.
    """
    if not lab_dir.is_dir():
        raise InputError(
            f"no folder {lab_dir}; run `llmlab labs start {lab.number}` first", path=lab_dir
        )
    name = model or (DEFAULT_LAB_MODEL if lab.uses_model else default_model_name())
    ctx = GradeContext(lab=lab, lab_dir=lab_dir, model=name, store=resolve_store(store))
    registered = criterion_kinds()
    started = time.monotonic()
    results: list[CriterionResult] = []
    for criterion in lab.criteria:
        kind = registered.get(criterion.kind)
        if kind is None:
            raise ConfigError(f"lab {lab.name}: unknown criterion kind {criterion.kind!r}")
        results.extend(kind(ctx, criterion.params))
    return CheckReport(
        lab=lab.name,
        title=lab.title,
        lab_dir=lab_dir,
        model=name if lab.uses_model else None,
        criteria=tuple(results),
        duration_s=time.monotonic() - started,
    )


def record_attempt(
    workspace: Path,
    lab: Lab,
    report: CheckReport | None,
    *,
    error: InputError | None = None,
    duration_s: float = 0.0,
    store: Store | None = None,
) -> None:
    """Store one check (a report, or the input error that stopped it)."""
    store = resolve_store(store)
    add_lab_attempt(
        store,
        workspace=str(workspace),
        lab=lab.slug,
        at=datetime.now(UTC),
        passed=report is not None and report.passed,
        outcome="input_error" if report is None else ("passed" if report.passed else "failed"),
        model=report.model if report is not None else None,
        duration_s=report.duration_s if report is not None else duration_s,
        criteria=[c.to_dict() for c in report.criteria] if report is not None else [],
        error=str(error) if error is not None else None,
    )
