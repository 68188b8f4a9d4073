"""Re-scoring a run's stored outputs with new or changed scorers: no model calls.

The result is a new run (``parent_run`` = the original) so that it can be compared with
``compare_runs``. Results that had no output (the call failed) are carried over as they
were.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from llmlab._errors import InputError, LlmlabError
from llmlab.evals._case import EvalCase
from llmlab.evals._combine import Weighted
from llmlab.evals._history import resolve_run
from llmlab.evals._judge import default_judge_model
from llmlab.evals._registry import scorers_from_spec
from llmlab.evals._runner import EvalRun, _write_results, summarize_run
from llmlab.evals._score import Score
from llmlab.evals._suite import EvalSuite
from llmlab.models import Model, get_model
from llmlab.store import (
    EvalResultRow,
    EvalRunRow,
    Store,
    create_eval_run,
    finish_eval_run,
    get_eval_results,
    resolve_store,
)

__all__ = ["rescore_run"]


def _case(row: EvalResultRow) -> EvalCase:
    data = row.case_data
    return EvalCase(
        input=data.get("input", ""),
        expected_properties=dict(data.get("expected") or {}),
        weight=float(data.get("weight", 1.0)),
        id=row.case_id,
        tags=tuple(data.get("tags") or ()),
        fields=dict(data.get("fields") or {}),
    )


def _stored_scorer(run: EvalRunRow) -> Weighted:
    spec = run.suite
    if "scorers" not in spec:
        raise InputError(
            f"run {run.id} was not made from a suite file; give the scorers to use "
            "(--suite FILE or --scorer SPEC)"
        )
    base = Path(run.suite_path).resolve().parent if run.suite_path else None
    return scorers_from_spec(spec["scorers"], base_dir=base)


async def rescore_run(
    run_id: str,
    *,
    suite: EvalSuite | None = None,
    scorer: Weighted | None = None,
    threshold: float | None = None,
    concurrency: int = 10,
    store: Store | None = None,
) -> EvalRun:
    """Score run ``run_id``'s outputs again, with ``scorer``, ``suite``'s, or the stored suite's.

    Returns the new run.
    """
    db = resolve_store(store)
    original = resolve_run(run_id, store=db)
    chosen = scorer or (suite.scorer if suite is not None else None) or _stored_scorer(original)
    limit = (
        threshold
        if threshold is not None
        else (suite.threshold if suite is not None else float(original.threshold))
    )
    rows = await asyncio.to_thread(get_eval_results, db, original.id)
    now = datetime.now(UTC)
    digest = hashlib.sha256(f"{original.id}{now.isoformat()}{chosen.parts!r}".encode())
    new_id = f"{original.id[:40]}-r{now:%H%M%S}-{digest.hexdigest()[:4]}"
    run = create_eval_run(
        db,
        id=new_id,
        name=original.name,
        fingerprint=digest.hexdigest(),
        model=original.model,
        started_at=now,
        n_cases=original.n_cases,
        epochs=original.epochs,
        threshold=limit,
        suite_path=original.suite_path,
        suite=original.suite,
        options={**original.options, "rescored_from": original.id},
        parent_run=original.id,
    )
    new_id = run.id  # the id it got (a suffix when the same id was taken meanwhile)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(row: EvalResultRow) -> EvalResultRow:
        # Carried over: the case, the output and the call that made it; scored anew.
        # The model call was paid by the original run: this run spent nothing on it
        # (its own cost is its judge's), so its cost and tokens are not counted again.
        kept = dataclasses.replace(
            row,
            id=None,
            created_at=None,
            run_id=new_id,
            cost=Decimal(0) if row.cost is not None or row.status == "ok" else None,
            input_tokens=0,
            output_tokens=0,
            judge_calls=0,
            judge_input_tokens=0,
            judge_output_tokens=0,
            judge_cost=None,
        )
        if row.output is None:
            return dataclasses.replace(
                kept, score=None, passed=False, errored=True, scores={}, explanation=None
            )
        async with gate:
            try:
                score = await chosen.score(row.output, _case(row))
            except InputError:
                raise
            except Exception as exc:
                score = Score.error(f"scorer raised {type(exc).__name__}: {exc}")
        judge = score.judge
        return dataclasses.replace(
            kept,
            score=None if score.errored else score.value,
            passed=not score.errored and score.value >= limit,
            errored=score.errored,
            scores=score.parts,
            explanation=score.explanation,
            error=score.explanation if score.errored else None,
            judge_calls=judge.calls if judge else 0,
            judge_input_tokens=judge.input_tokens if judge else 0,
            judge_output_tokens=judge.output_tokens if judge else 0,
            judge_cost=judge.cost if judge else None,
        )

    judge_name = (suite.judge_model if suite is not None else None) or (
        original.suite.get("judge_model") or original.model
    )
    judge: Model | None
    try:
        judge = get_model(str(judge_name), store=db)
    except LlmlabError:  # only a model-graded scorer needs it, and it then says so
        judge = None
    token = default_judge_model.set(judge)
    status = "interrupted"
    started = asyncio.get_running_loop().time()
    try:
        new_rows = await asyncio.gather(*(one(r) for r in rows))
        # Judge calls are paid: retried and spilled like the runner's results, never lost.
        await asyncio.to_thread(_write_results, db, new_rows)
        status = "finished"
    finally:
        default_judge_model.reset(token)
        if judge is not None:
            await judge.aclose()
        summary = await asyncio.to_thread(summarize_run, db, run)
        await asyncio.to_thread(finish_eval_run, db, new_id, status=status, summary=summary)
    return EvalRun(
        id=new_id,
        name=original.name,
        model=original.model,
        status=status,
        summary=summary,
        elapsed_s=asyncio.get_running_loop().time() - started,
    )
