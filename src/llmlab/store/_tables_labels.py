"""Human labels on eval results, and the calibrations of model judges made from them.

``eval_labels`` holds one human verdict per (run, case, epoch): labelling the same result
again replaces the verdict (who and when change with it). ``judge_calibrations`` keeps,
for a judge (its rubric, template and model, hashed into ``judge_key``), the agreement
measured against human labels each time it was measured: a later run with the same judge
reads its newest row to say whether its number can be trusted.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from llmlab.store._metadata import UtcDateTime, metadata

__all__ = ["eval_labels", "judge_calibrations"]

eval_labels = Table(
    "eval_labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", String(200), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("passed", Integer, nullable=False),  # 1 pass, 0 fail (as the human judged)
    Column("score", Float, nullable=True),  # the human's score when one was given
    Column("note", Text, nullable=True),
    Column("labeller", String(200), nullable=False),
    Column("source", String(200), nullable=False),  # a file path, or "interactive"
    Column("labelled_at", UtcDateTime(), nullable=False),
    UniqueConstraint("run_id", "case_id", "epoch"),
)

judge_calibrations = Table(
    "judge_calibrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("judge_key", String(64), nullable=False),
    Column("scorer", String(200), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("n_labels", Integer, nullable=False),
    Column("tpr", Float, nullable=True),
    Column("tnr", Float, nullable=True),
    Column("accuracy", Float, nullable=True),
    Column("kappa", Float, nullable=True),
    Column("measured_at", UtcDateTime(), nullable=False),
    Index("ix_judge_calibrations_key", "judge_key", "measured_at"),
)
