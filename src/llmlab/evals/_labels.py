"""Human labels on a run's results: read from a file, or given one at a time.

A labels file is CSV (with a header row) or JSONL, one result per row::

    case_id,epoch,label,note
    1,,pass,
    2,1,fail,names the wrong city

- ``case_id`` (or ``id``): a case of the run.
- ``epoch``: optional, default 1 (the trial labelled, when the run had several).
- ``label``: ``pass`` / ``fail`` (also yes/no, true/false, 1/0), or ``score``: a number
  in [0, 1] that passes when it reaches the run's threshold. One of the two is needed.
- ``note``, ``labeller``: optional.

Labels are stored per run, case and epoch with who labelled and when; labelling the
same result again replaces its label.
"""

from __future__ import annotations

import csv
import getpass
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmlab._errors import InputError
from llmlab.evals._dataset import check_values
from llmlab.evals._history import resolve_run
from llmlab.store import (
    EvalResultRow,
    LabelRow,
    Store,
    get_eval_results,
    list_labels,
    resolve_store,
    upsert_labels,
)

__all__ = [
    "HumanLabel",
    "LabelledRun",
    "attach_labels",
    "default_labeller",
    "load_labels",
    "run_labels",
    "unlabelled_results",
]

_PASS = frozenset({"pass", "passed", "yes", "y", "true", "1", "ok", "good"})
_FAIL = frozenset({"fail", "failed", "no", "n", "false", "0", "bad"})
_FIELDS = frozenset({"case_id", "id", "epoch", "label", "score", "note", "labeller"})


@dataclass(frozen=True, slots=True)
class HumanLabel:
    """One human verdict as read from a file (``line``: where, for error messages)."""

    case_id: str
    epoch: int = 1
    passed: bool | None = None
    """The verdict; None when only a score was given (it passes at the run's threshold)."""
    score: float | None = None
    note: str | None = None
    labeller: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class LabelledRun:
    """What :func:`attach_labels` stored."""

    run_id: str
    stored: int
    replaced: int
    passed: int
    failed: int


def default_labeller() -> str:
    """Who is labelling: ``LLMLAB_USER``, else the login name."""
    name = os.environ.get("LLMLAB_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _verdict(value: Any, where: tuple[Path, int]) -> bool | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _PASS:
        return True
    if word in _FAIL:
        return False
    raise InputError(f"label {value!r} is not pass or fail", path=where[0], line=where[1])


def _score(value: Any, where: tuple[Path, int]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or math.isnan(number) or not 0.0 <= number <= 1.0:
        raise InputError(f"score {value!r} is not a number in [0, 1]", path=where[0], line=where[1])
    return number


def _epoch(value: Any, where: tuple[Path, int]) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    try:
        epoch = int(str(value).strip())
    except ValueError:
        epoch = 0
    if epoch < 1:
        raise InputError(
            f"epoch {value!r} is not a whole number >= 1", path=where[0], line=where[1]
        )
    return epoch


def _label(record: Mapping[str, Any], path: Path, line: int) -> HumanLabel:
    where = (path, line)
    unknown = sorted(set(record) - _FIELDS)
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(unknown)}; use case_id, epoch, label, score, note, "
            "labeller",
            path=path,
            line=line,
        )
    case_id = _text(record.get("case_id", record.get("id")))
    if case_id is None:
        raise InputError("no case_id", path=path, line=line)
    passed = _verdict(record.get("label"), where)
    score = _score(record.get("score"), where)
    if passed is None and score is None:
        raise InputError("give a label (pass/fail) or a score", path=path, line=line)
    return HumanLabel(
        case_id=case_id,
        epoch=_epoch(record.get("epoch"), where),
        passed=passed,
        score=score,
        note=_text(record.get("note")),
        labeller=_text(record.get("labeller")),
        line=line,
    )


def _read_jsonl(path: Path, text: str) -> list[HumanLabel]:
    labels = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except RecursionError:
            raise InputError("values nested too deep", path=path, line=number) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", path=path, line=number) from None
        if not isinstance(record, dict):
            raise InputError("each line must be a JSON object", path=path, line=number)
        check_values(record, path=str(path), line=number)  # lone surrogates, deep nesting
        labels.append(_label(record, path, number))
    return labels


def _read_csv(path: Path, text: str) -> list[HumanLabel]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise InputError("empty labels file: a header row is needed", path=path, line=1)
    labels = []
    for record in reader:
        if None in record:  # more cells than the header names
            raise InputError(
                "more cells than the header has columns", path=path, line=reader.line_num
            )
        if not any((v or "").strip() for v in record.values()):
            continue
        labels.append(_label({k.strip(): v for k, v in record.items()}, path, reader.line_num))
    return labels


def load_labels(path: str | Path) -> list[HumanLabel]:
    """Read a labels file (``.csv`` or ``.jsonl``/``.json``).

    Raises:
        InputError: the file is missing, or a row is malformed (``file:line: what``), or
            one result is labelled twice.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("labels file not found", path=file)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason}); save it as UTF-8", path=file) from None
    if file.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        labels = _read_jsonl(file, text)
    elif file.suffix.lower() in (".csv", ".tsv", ".txt"):
        labels = _read_csv(file, text)
    else:
        raise InputError("a labels file is .csv or .jsonl", path=file)
    seen: dict[tuple[str, int], int | None] = {}
    for label in labels:
        key = (label.case_id, label.epoch)
        if key in seen:
            raise InputError(
                f"case {label.case_id!r} epoch {label.epoch} is labelled twice (first on line "
                f"{seen[key]})",
                path=file,
                line=label.line,
            )
        seen[key] = label.line
    if not labels:
        raise InputError("no labels in the file", path=file)
    return labels


def attach_labels(
    run: str,
    labels: Iterable[HumanLabel] | str | Path,
    *,
    labeller: str | None = None,
    source: str | None = None,
    store: Store | None = None,
) -> LabelledRun:
    """Store human labels on run ``run`` (an id, prefix or ``latest``).

    ``labels``: labels, or a labels file to read. Every label must name a result of the
    run; none is stored otherwise.

    Raises:
        InputError: a label names a case or epoch the run does not have (``file:line``).
    """
    db = resolve_store(store)
    facts = resolve_run(run, store=db)
    path: Path | None = None
    if isinstance(labels, str | Path):
        path = Path(labels)
        read = load_labels(path)
    else:
        read = list(labels)
    where = str(path) if path is not None else None
    results = {(r.case_id, r.epoch) for r in get_eval_results(db, facts.id, brief=True)}
    known_cases = {case for case, _ in results}
    for label in read:
        if (label.case_id, label.epoch) in results:
            continue
        what = (
            f"run {facts.id} has no epoch {label.epoch} of case {label.case_id!r}"
            if label.case_id in known_cases
            else f"run {facts.id} has no case {label.case_id!r}"
        )
        raise InputError(what, path=where, line=label.line)
    before = {(lb.case_id, lb.epoch) for lb in list_labels(db, [facts.id])}
    now = datetime.now(UTC)
    who = labeller or default_labeller()
    rows = [
        LabelRow(
            run_id=facts.id,
            case_id=label.case_id,
            epoch=label.epoch,
            passed=(
                label.passed
                if label.passed is not None
                else (label.score or 0.0) >= facts.threshold
            ),
            score=label.score,
            note=label.note,
            labeller=label.labeller or who,
            source=source or where or "api",
            labelled_at=now,
        )
        for label in read
    ]
    upsert_labels(db, rows)
    passed = sum(r.passed for r in rows)
    return LabelledRun(
        run_id=facts.id,
        stored=len(rows),
        replaced=sum((r.case_id, r.epoch) in before for r in rows),
        passed=passed,
        failed=len(rows) - passed,
    )


def run_labels(run: str, *, store: Store | None = None) -> list[LabelRow]:
    """The human labels of run ``run`` (an id, prefix or ``latest``)."""
    db = resolve_store(store)
    return list_labels(db, [resolve_run(run, store=db).id])


def unlabelled_results(run: str, *, store: Store | None = None) -> Sequence[EvalResultRow]:
    """The results of run ``run`` that have an output and no human label yet, with their
    texts, in case order (what interactive labelling shows next; it resumes here)."""
    db = resolve_store(store)
    facts = resolve_run(run, store=db)
    done = {(lb.case_id, lb.epoch) for lb in list_labels(db, [facts.id])}
    return [
        r
        for r in get_eval_results(db, facts.id)
        if r.output is not None and (r.case_id, r.epoch) not in done
    ]
