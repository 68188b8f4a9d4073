"""The scoring columns of a run's results, or of two runs' on the cases they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

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
    """Each result's ``scores`` JSON (scorer name -> value or None)."""


@dataclass(frozen=True, slots=True)
class PairedScores:
    """Both runs' results on the cases both have, and how many cases each has in all."""

    a: RunScores
    b: RunScores
    cases_a: int
    cases_b: int


def _scores(conn: Connection, run_id: str, other: str | None) -> RunScores:
    query = (
        select(
            eval_results.c.case_id,
            eval_results.c.score,
            eval_results.c.passed,
            eval_results.c.errored,
            eval_results.c.scores,
        )
        .where(eval_results.c.run_id == run_id)
        .order_by(eval_results.c.case_id, eval_results.c.epoch)
    )
    if other is not None:
        shared = select(eval_results.c.case_id).where(eval_results.c.run_id == other)
        query = query.where(eval_results.c.case_id.in_(shared))
    rows = conn.execute(query).all()
    return RunScores(
        case_ids=[str(r[0]) for r in rows],
        scores=[None if r[1] is None else float(r[1]) for r in rows],
        passed=[bool(r[2]) for r in rows],
        errored=[bool(r[3]) for r in rows],
        # JSON columns may come back None from rows written by hand.
        parts=[r[4] or {} for r in rows],
    )


def run_eval_scores(store: Store, run_id: str) -> RunScores:
    """Case, score, verdict and per-scorer values of every result of ``run_id``."""
    with store.read() as conn:
        return _scores(conn, run_id, None)


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
            a=_scores(conn, run_a, run_b),
            b=_scores(conn, run_b, run_a),
            cases_a=counts.get(run_a, 0),
            cases_b=counts.get(run_b, 0),
        )
