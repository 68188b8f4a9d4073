"""The scoring columns of a run's results, or of two runs' on the cases they share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Text, cast, func, select

from llmlab.store._tables_evals import eval_results

if TYPE_CHECKING:
    from llmlab.store._handle import Store

__all__ = ["PairedScores", "RunScores", "paired_eval_scores", "run_eval_scores"]


@dataclass(frozen=True, slots=True)
class RunScores:
    """One run's results on the shared cases, column by column, ordered by case and epoch
    (one list per column instead of one object per row: 10,000 cases stay light)."""

    case_ids: list[str]
    scores: list[float | None]
    passed: list[bool]
    errored: list[bool]
    parts: list[dict[str, Any]]
    """Each result's ``scores`` JSON (scorer name -> value or None); results with the
    same JSON share one dict (read-only); empty when not read."""


@dataclass(frozen=True, slots=True)
class PairedScores:
    """Both runs' results on the cases both have, and how many cases each has in all."""

    a: RunScores
    b: RunScores
    cases_a: int
    cases_b: int


def _scores(conn: Connection, run_id: str, other: str | None, *, parts: bool) -> RunScores:
    r = eval_results.c
    # The scores JSON as text, parsed once per distinct text: scorers give few distinct
    # combinations (1.0 / 0.0 ...), and parsing 10,000 small objects is most of the read.
    columns: list[Any] = [r.case_id, r.score, r.passed, r.errored]
    if parts:
        columns.append(cast(r.scores, Text))
    query = select(*columns).where(r.run_id == run_id).order_by(r.case_id, r.epoch)
    if other is not None:
        shared = select(r.case_id).where(r.run_id == other)
        query = query.where(r.case_id.in_(shared))
    rows = conn.execute(query).all()
    parsed: dict[str | None, dict[str, Any]] = {None: {}}
    found: list[dict[str, Any]] = []
    if parts:
        for row in rows:
            text = row[4]
            value = parsed.get(text)
            if value is None:
                # JSON columns may hold null from rows written by hand.
                value = parsed[text] = json.loads(text) or {}
            found.append(value)
    return RunScores(
        case_ids=[str(row[0]) for row in rows],
        scores=[None if row[1] is None else float(row[1]) for row in rows],
        passed=[bool(row[2]) for row in rows],
        errored=[bool(row[3]) for row in rows],
        parts=found,
    )


def run_eval_scores(store: Store, run_id: str, *, parts: bool = True) -> RunScores:
    """Case, score, verdict and (unless ``parts`` is False: left empty) per-scorer values
    of every result of ``run_id``."""
    with store.read() as conn:
        return _scores(conn, run_id, None, parts=parts)


def paired_eval_scores(store: Store, run_a: str, run_b: str) -> PairedScores:
    """Case, score, verdict and per-scorer values of the results of ``run_a`` and
    ``run_b`` on the cases both runs have (texts, tokens and costs are not read), with
    each run's number of distinct cases."""
    counts_query = (
        select(eval_results.c.run_id, func.count(func.distinct(eval_results.c.case_id)))
        .where(eval_results.c.run_id.in_([run_a, run_b]))
        .group_by(eval_results.c.run_id)
    )
    # One read transaction: the counts and both sides see the same results.
    with store.read() as conn:
        counts = {str(r): int(n) for r, n in conn.execute(counts_query)}
        return PairedScores(
            a=_scores(conn, run_a, run_b, parts=True),
            b=_scores(conn, run_b, run_a, parts=True),
            cases_a=counts.get(run_a, 0),
            cases_b=counts.get(run_b, 0),
        )
