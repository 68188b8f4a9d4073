"""``labs verify``: the curriculum's own CI.

For every lab: the starter must fail, the reference solution must pass, and a second,
differently written correct solution (kept with the tests) must pass too.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmlab._errors import LlmlabError
from llmlab.labs._grade import check_lab
from llmlab.labs._lab import Lab
from llmlab.labs._workspace import copy_starter
from llmlab.store import Store

__all__ = ["VerifyResult", "verify_labs"]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """One stage of one lab: did it end as it should?"""

    lab: str
    stage: str  # starter | reference | alternate
    ok: bool
    detail: str
    seconds: float


def _overlay(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def _stage(
    lab: Lab, overlay: Path | None, want_pass: bool, model: str | None, store: Store | None
) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix=f"llmlab-verify-{lab.slug}-") as tmp:
        lab_dir = Path(tmp) / lab.name
        copy_starter(lab, lab_dir)
        if overlay is not None:
            _overlay(overlay, lab_dir)
        try:
            report = check_lab(lab, lab_dir, model=model, store=store)
        except LlmlabError as exc:
            return False, f"error: {exc}"
    gating = [c for c in report.criteria if c.gating]
    failed = [c for c in gating if not c.passed]
    if report.passed:
        return want_pass, f"passed ({len(gating)} criteria)"
    first = f"{failed[0].name}: {failed[0].measured}"
    return not want_pass, f"not yet ({len(gating) - len(failed)}/{len(gating)} met; {first})"


def verify_labs(
    labs: Sequence[Lab],
    *,
    alternates: Path | None = None,
    model: str | None = None,
    store: Store | None = None,
    on_result: Callable[[VerifyResult], None] = lambda _: None,
) -> list[VerifyResult]:
    """Verify each lab; ``alternates`` holds ``NN-slug/`` folders of second solutions."""
    results: list[VerifyResult] = []
    for lab in labs:
        stages: list[tuple[str, Path | None, bool]] = [
            ("starter", None, False),
            ("reference", lab.solution, True),
        ]
        alternate = alternates / lab.name if alternates is not None else None
        if alternate is not None:
            stages.append(("alternate", alternate if alternate.is_dir() else None, True))
        for stage, overlay, want_pass in stages:
            started = time.monotonic()
            if stage == "alternate" and overlay is None:
                ok, detail = False, f"no second solution in {alternate}"
            else:
                ok, detail = _stage(lab, overlay, want_pass, model, store)
            result = VerifyResult(lab.name, stage, ok, detail, time.monotonic() - started)
            results.append(result)
            on_result(result)
    return results
