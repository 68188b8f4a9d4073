"""A judge's own consistency: the same stored output judged several times.

A judge that flips on the very same output adds noise no labelling can remove. Each
output of a run is judged ``epochs`` times again (trial ``t`` is a separate response
cache entry, so re-running the check costs nothing and gives the same figures); the flip
rate is the share of pairs of trials that disagree, averaged over outputs.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from llmlab._errors import InputError, LlmlabError
from llmlab._json import JsonObject
from llmlab.evals._case import EvalCase
from llmlab.evals._history import resolve_run
from llmlab.evals._judge import ModelGraded, default_judge_model
from llmlab.evals._registry import scorers_from_spec
from llmlab.evals._score import Scorer
from llmlab.evals._stats import flip_rate
from llmlab.models import Model, call_links, get_model
from llmlab.store import EvalResultRow, EvalRunRow, Store, get_eval_results, resolve_store

__all__ = ["JudgeConsistency", "judge_consistency"]


@dataclass(frozen=True, slots=True)
class JudgeConsistency:
    """How often one scorer changes its verdict on the same output."""

    scorer: str
    epochs: int
    outputs: int
    """Outputs judged ``epochs`` times with no trial errored."""
    errored: int
    """Outputs with at least one errored trial (left out)."""
    mean_flip_rate: float
    consistency: float
    """Share of outputs whose every trial gave the same verdict."""
    flipped: list[str] = field(default_factory=list)
    """``case#epoch`` of the outputs whose verdict changed."""

    def to_dict(self) -> JsonObject:
        return {
            "scorer": self.scorer,
            "epochs": self.epochs,
            "outputs": self.outputs,
            "errored": self.errored,
            "mean_flip_rate": self.mean_flip_rate,
            "consistency": self.consistency,
            "flipped": self.flipped,
        }


def _case(result: EvalResultRow) -> EvalCase:
    data = result.case_data or {}
    return EvalCase(
        input=data.get("input", ""),
        expected_properties=dict(data.get("expected") or {}),
        weight=float(data.get("weight", 1.0)),
        id=result.case_id,
        tags=tuple(data.get("tags") or ()),
        fields=dict(data.get("fields") or {}),
    )


def _scorers(run: EvalRunRow, name: str | None) -> list[Scorer]:
    spec = run.suite
    if "scorers" not in spec:
        raise InputError(f"run {run.id} was not made from a suite file: its scorers are unknown")
    base = Path(run.suite_path).resolve().parent if run.suite_path else None
    parts = [s for s, _ in scorers_from_spec(spec["scorers"], base_dir=base).parts]
    if name is not None:
        chosen = [s for s in parts if s.name == name]
        if not chosen:
            names = ", ".join(s.name for s in parts)
            raise InputError(f"run {run.id} has no scorer {name!r}; it has {names}")
        return chosen
    graded: list[Scorer] = [s for s in parts if isinstance(s, ModelGraded)]
    if not graded:
        raise InputError(f"run {run.id} has no model-graded scorer; name one with --scorer")
    return graded


async def judge_consistency(
    run: str,
    *,
    epochs: int = 3,
    scorer: str | None = None,
    limit: int | None = None,
    concurrency: int = 10,
    threshold: float | None = None,
    store: Store | None = None,
) -> list[JudgeConsistency]:
    """Judge each stored output of run ``run`` ``epochs`` times with its model-graded
    scorers (or the scorer named) and report each one's flip rate.

    Args:
        limit: judge only the first ``limit`` outputs (in case order).
        threshold: the verdict's pass mark (default: the run's).

    Raises:
        InputError: fewer than 2 epochs, a run without a suite, or an unknown scorer.
    """
    if epochs < 2:
        raise InputError(f"--epochs {epochs}: judging the same output needs at least 2 trials")
    db = resolve_store(store)
    facts = resolve_run(run, store=db)
    scorers = _scorers(facts, scorer)
    limit_at = facts.threshold if threshold is None else threshold
    outputs = [r for r in get_eval_results(db, facts.id) if r.output is not None]
    if limit is not None:
        outputs = outputs[:limit]
    judge_name = str(facts.suite.get("judge_model") or facts.model)
    judge: Model | None
    try:
        judge = get_model(judge_name, store=db).configured(cache=True)
    except LlmlabError:  # only a scorer without a judge of its own needs it, and says so
        judge = None
    gate = asyncio.Semaphore(max(1, concurrency))

    async def trial(s: Scorer, result: EvalResultRow, t: int) -> bool | None:
        async with gate:
            with call_links(epoch=t):
                score = await s.score(str(result.output), _case(result))
        return None if score.errored else score.value >= limit_at

    token = default_judge_model.set(judge)
    try:
        verdicts = {
            s.name: await asyncio.gather(
                *(asyncio.gather(*(trial(s, r, t) for t in range(1, epochs + 1))) for r in outputs)
            )
            for s in scorers
        }
    finally:
        default_judge_model.reset(token)
        if judge is not None:
            await judge.aclose()
    report = []
    for name, per_output in verdicts.items():
        clean = [
            (r, [bool(v) for v in trials])
            for r, trials in zip(outputs, per_output, strict=True)
            if all(v is not None for v in trials)
        ]
        rates = [flip_rate(trials) for _, trials in clean]
        report.append(
            JudgeConsistency(
                scorer=name,
                epochs=epochs,
                outputs=len(clean),
                errored=len(outputs) - len(clean),
                mean_flip_rate=statistics.fmean(rates) if rates else 0.0,
                consistency=(
                    sum(all(t) or not any(t) for _, t in clean) / len(clean) if clean else 1.0
                ),
                flipped=[f"{r.case_id}#{r.epoch}" for r, t in clean if any(t) and not all(t)],
            )
        )
    return report
