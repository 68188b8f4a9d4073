"""SQL for human labels on eval results and the calibrations of judges made from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from llmlab.store._handle import Store
from llmlab.store._tables_labels import eval_labels, judge_calibrations
from llmlab.store._upsert import upsert

__all__ = [
    "CalibrationRow",
    "LabelRow",
    "delete_labels",
    "insert_calibration",
    "latest_calibrations",
    "list_labels",
    "upsert_labels",
]


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One human verdict on one result (``epoch`` 1 when the run had one trial)."""

    run_id: str
    case_id: str
    epoch: int
    passed: bool
    score: float | None
    note: str | None
    labeller: str
    source: str
    labelled_at: datetime


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """A judge's agreement with human labels, as measured once on one run."""

    judge_key: str
    scorer: str
    run_id: str
    n_labels: int
    tpr: float | None
    tnr: float | None
    accuracy: float | None
    kappa: float | None
    measured_at: datetime


def _label_values(row: LabelRow) -> dict[str, object]:
    return {
        "run_id": row.run_id,
        "case_id": row.case_id,
        "epoch": row.epoch,
        "passed": int(row.passed),
        "score": row.score,
        "note": row.note,
        "labeller": row.labeller,
        "source": row.source,
        "labelled_at": row.labelled_at,
    }


def upsert_labels(store: Store, rows: Sequence[LabelRow]) -> int:
    """Store labels in one transaction; a result labelled before gets the new verdict."""
    if not rows:
        return 0
    with store.write() as conn:
        updated = ("passed", "score", "note", "labeller", "source", "labelled_at")
        stmt = upsert(store.dialect, eval_labels, ("run_id", "case_id", "epoch"), updated)
        conn.execute(stmt, [_label_values(r) for r in rows])
    return len(rows)


def list_labels(store: Store, run_ids: Iterable[str]) -> list[LabelRow]:
    """The labels of these runs, ordered by run, case and epoch."""
    ids = list(run_ids)
    query = (
        select(eval_labels)
        .where(eval_labels.c.run_id.in_(ids))
        .order_by(eval_labels.c.run_id, eval_labels.c.case_id, eval_labels.c.epoch)
    )
    with store.read() as conn:
        return [
            LabelRow(
                run_id=str(r.run_id),
                case_id=str(r.case_id),
                epoch=int(r.epoch),
                passed=bool(r.passed),
                score=None if r.score is None else float(r.score),
                note=r.note,
                labeller=str(r.labeller),
                source=str(r.source),
                labelled_at=r.labelled_at,
            )
            for r in conn.execute(query)
        ]


def delete_labels(store: Store, run_id: str) -> int:
    """Forget every label of a run; returns how many there were."""
    with store.write() as conn:
        result = conn.execute(eval_labels.delete().where(eval_labels.c.run_id == run_id))
    return int(result.rowcount or 0)


def insert_calibration(store: Store, row: CalibrationRow) -> None:
    """Keep one measurement of a judge's agreement."""
    values = {
        "judge_key": row.judge_key,
        "scorer": row.scorer,
        "run_id": row.run_id,
        "n_labels": row.n_labels,
        "tpr": row.tpr,
        "tnr": row.tnr,
        "accuracy": row.accuracy,
        "kappa": row.kappa,
        "measured_at": row.measured_at,
    }
    with store.write() as conn:
        conn.execute(judge_calibrations.insert(), values)


def latest_calibrations(store: Store, judge_keys: Iterable[str]) -> dict[str, CalibrationRow]:
    """The newest calibration of each of these judges (judges never calibrated are absent)."""
    keys = list(judge_keys)
    if not keys:
        return {}
    query = (
        select(judge_calibrations)
        .where(judge_calibrations.c.judge_key.in_(keys))
        .order_by(judge_calibrations.c.measured_at, judge_calibrations.c.id)
    )
    found: dict[str, CalibrationRow] = {}
    with store.read() as conn:
        for r in conn.execute(query):
            found[str(r.judge_key)] = CalibrationRow(
                judge_key=str(r.judge_key),
                scorer=str(r.scorer),
                run_id=str(r.run_id),
                n_labels=int(r.n_labels),
                tpr=r.tpr,
                tnr=r.tnr,
                accuracy=r.accuracy,
                kappa=r.kappa,
                measured_at=r.measured_at,
            )
    return found
