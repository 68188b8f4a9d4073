"""A run's results on the compared cases, reduced per case into arrays (for compare_runs).

The same reduction as :func:`llmlab.evals.reduce_cases` (errored trials left out, trials
reduced by ``reduce_epochs``, scorer parts averaged with ``fmean``), without one object
per row or per case: a run of one epoch per case, the common case, is reduced with numpy.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from llmlab.evals._stats import reduce_epochs
from llmlab.store import RunScores

__all__ = ["CaseArrays", "case_arrays"]

# With one trial per case these reducers give the trial's own score (mean, median) or
# its verdict (majority: 1.0 or 0.0, passed when it passed); the others go case by case.
_VECTOR_REDUCERS = ("mean", "median", "majority")


@dataclass(frozen=True, slots=True)
class CaseArrays:
    """Per case, in code-point order of the case id: score, verdict, scorer parts."""

    case_ids: list[str]
    score: np.ndarray
    passed: np.ndarray
    parts: dict[str, tuple[np.ndarray, np.ndarray]]
    """Scorer name -> (value per case, whether the case has a value for it)."""


def _raw_scores(rows: RunScores) -> list[float]:
    return [0.0 if e or s is None else s for s, e in zip(rows.scores, rows.errored, strict=True)]


def _one_trial(rows: RunScores, reducer: str, threshold: float) -> CaseArrays:
    n = len(rows.case_ids)
    trial_passed = np.fromiter(rows.passed, dtype=bool, count=n)
    if reducer == "majority":
        score = trial_passed.astype(float)
        passed = trial_passed
    else:
        score = np.fromiter(_raw_scores(rows), dtype=float, count=n)
        passed = score >= threshold
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for i, found in enumerate(rows.parts):
        for name, value in found.items():
            if value is None:
                continue
            if name not in values:
                values[name] = np.zeros(n)
                present[name] = np.zeros(n, dtype=bool)
            values[name][i] = float(value)
            present[name][i] = True
    parts = {name: (values[name], present[name]) for name in values}
    return CaseArrays(list(rows.case_ids), score, passed, parts)


def _by_case(rows: RunScores, reducer: str, threshold: float, k: int | None) -> CaseArrays:
    ids = rows.case_ids
    raw = _raw_scores(rows)
    starts = [0, *(i for i in range(1, len(ids)) if ids[i] != ids[i - 1]), len(ids)]
    case_ids: list[str] = []
    scores: list[float] = []
    verdicts: list[bool] = []
    part_lists: list[dict[str, float]] = []
    for lo, hi in zip(starts, starts[1:], strict=False):
        # An errored trial has no verdict: left out, as reduce_cases leaves it out.
        kept = [i for i in range(lo, hi) if not rows.errored[i]]
        value, ok = reduce_epochs(
            [raw[i] for i in kept],
            [rows.passed[i] for i in kept],
            reducer,
            threshold=threshold,
            k=k,
        )
        trials: dict[str, list[float]] = {}
        for found in rows.parts[lo:hi]:
            for name, part in found.items():
                if part is not None:
                    trials.setdefault(name, []).append(float(part))
        case_ids.append(ids[lo])
        scores.append(value)
        verdicts.append(ok)
        part_lists.append({name: statistics.fmean(v) for name, v in trials.items()})
    m = len(case_ids)
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, found in enumerate(part_lists):
        for name, mean in found.items():
            if name not in parts:
                parts[name] = (np.zeros(m), np.zeros(m, dtype=bool))
            parts[name][0][i] = mean
            parts[name][1][i] = True
    return CaseArrays(case_ids, np.array(scores, dtype=float), np.array(verdicts, bool), parts)


def case_arrays(
    rows: RunScores, *, reducer: str = "mean", threshold: float = 0.7, k: int | None = None
) -> CaseArrays:
    """Each case's trials reduced as :func:`reduce_cases` reduces them, cases in
    code-point order of their ids (the database's collation may order them otherwise)."""
    ids = rows.case_ids
    single = all(ids[i] != ids[i - 1] for i in range(1, len(ids)))
    if single and reducer in _VECTOR_REDUCERS:
        found = _one_trial(rows, reducer, threshold)
    else:
        found = _by_case(rows, reducer, threshold, k)
    ordered = found.case_ids
    if all(ordered[i - 1] < ordered[i] for i in range(1, len(ordered))):
        return found
    order = np.array(sorted(range(len(ordered)), key=ordered.__getitem__), dtype=np.intp)
    return CaseArrays(
        [ordered[i] for i in order],
        found.score[order],
        found.passed[order],
        {name: (v[order], p[order]) for name, (v, p) in found.parts.items()},
    )
