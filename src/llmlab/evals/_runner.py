"""The runner: every (case, epoch) through the model call path, scored, written as it ends.

- asyncio workers, at most ``concurrency`` cases in flight; the models' adaptive limiter
  lowers that on 429s and recovers; retries and timeouts come from the call path. A slow
  or failing case holds only its own worker.
- Results go to ``eval_results`` in small batches as they complete. Re-running the same
  command resumes the newest unfinished run with the same fingerprint (suite content,
  cases, model, options): finished results are kept, only missing ones run, none is
  duplicated (the table is unique on run, case and epoch).
- Each call is linked to the run, case and epoch (``call_links``); the epoch is also the
  response cache's trial index, so repeated trials are independent samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict, TypeVar

from llmlab._errors import InputError, LlmlabError, StoreError
from llmlab._limits import MAX_CONCURRENCY, MAX_EPOCHS, check_count
from llmlab.evals._case import EvalCase
from llmlab.evals._combine import as_score
from llmlab.evals._dataset import check_values
from llmlab.evals._judge import ModelGraded, default_judge_model
from llmlab.evals._model_arg import check_model
from llmlab.evals._score import Score
from llmlab.evals._suite import EvalSuite
from llmlab.evals._summary import summarize
from llmlab.models import (
    AdaptiveLimiter,
    Model,
    Request,
    Response,
    cache_options,
    call_links,
    default_model_name,
    get_model,
)
from llmlab.monitor import flush
from llmlab.store import (
    EvalResultRow,
    EvalRunRow,
    Store,
    create_eval_run,
    eval_result_keys,
    finish_eval_run,
    get_eval_run,
    insert_eval_results,
    iter_eval_results,
    latest_unfinished_eval_run,
    resolve_store,
    spill_rows,
)

__all__ = ["EvalRun", "Progress", "run_eval", "run_eval_sync", "summarize_run"]

T = TypeVar("T")
logger = logging.getLogger("llmlab.evals")

_FLUSH_EVERY_S = 0.2
_FLUSH_ROWS = 500
_RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)
_MAX_PENDING = 2 * _FLUSH_ROWS
"""Workers wait while this many results wait to be written: memory stays flat when the
model answers faster than the database writes."""


@dataclass(slots=True)
class Progress:
    """Where a run stands, handed to the progress callback when the run starts (``done``
    0) and after each result.

    Attributes:
        total: results this session has to make (what a resumed run still lacked).
        done: results this session has made.
        run_id: the run's id.
        reused: results a resumed run already had when it started.
    """

    total: int
    done: int = 0
    run_id: str = ""
    reused: int = 0
    passed: int = 0
    errored: int = 0
    cost: Decimal = Decimal(0)
    judge_cost: Decimal = Decimal(0)
    cache_hits: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.done if self.done else 0.0

    @property
    def results(self) -> int:
        """Results the run has in all (reused ones included)."""
        return self.reused + self.done

    @property
    def expected(self) -> int:
        """Results the run has when it is complete."""
        return self.reused + self.total


@dataclass(slots=True)
class EvalRun:
    """A finished (or interrupted) run: its id, status and summary."""

    id: str
    name: str
    model: str
    status: str
    summary: dict[str, Any]
    resumed: bool = False
    reused_results: int = 0
    elapsed_s: float = 0.0

    @property
    def pass_rate(self) -> float:
        return float(self.summary.get("pass_rate", 0.0))

    @property
    def threshold_met(self) -> bool:
        return bool(self.summary.get("threshold_met", False))

    @classmethod
    def from_row(cls, row: EvalRunRow) -> EvalRun:
        """The run as stored (its summary is empty while it has none)."""
        return cls(
            id=row.id, name=row.name, model=row.model, status=row.status, summary=row.summary or {}
        )

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data (the ``--json`` output of ``llmlab eval run``)."""
        return {
            "run_id": self.id,
            "name": self.name,
            "model": self.model,
            "status": self.status,
            "pass_rate": self.pass_rate,
            "threshold_met": self.threshold_met,
            "resumed": self.resumed,
            "reused_results": self.reused_results,
            "elapsed_s": round(self.elapsed_s, 3),
            "summary": self.summary,
        }


class _ResultWriter:
    """Collects result rows and writes them in small batches on one thread of its own.

    One dedicated thread (rather than the loop's shared pool) keeps the writes ordered
    and the process's memory small: every thread that allocates gets its own malloc arena.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[EvalResultRow] = []
        self.written = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmlab-eval")
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._loop())

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the writer's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def add(self, row: EvalResultRow) -> None:
        """Queue ``row``; waits while too many rows are waiting already."""
        self.pending.append(row)
        if len(self.pending) >= _FLUSH_ROWS:
            self._wake.set()
            while len(self.pending) >= _MAX_PENDING and not self._task.done():
                self._drained.clear()
                await self._drained.wait()

    async def _write(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            try:
                await self.call(_write_results, self.store, batch)
            finally:
                self._drained.set()
            self.written += len(batch)

    async def _loop(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _FLUSH_EVERY_S)
            self._wake.clear()
            await self._write()

    async def close(self) -> None:
        """Write what is pending (the thread stays for ``call`` until ``shutdown``)."""
        self._closing = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._write()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


@dataclass(slots=True, frozen=True)
class _Item:
    """One case ready to run: its rendered prompt. (The ``Request`` and the case data
    stored with each result are built when the case runs: held for the whole run, 10,000
    of them would cost about 10 MB.)"""

    case: EvalCase
    prompt: str
    system: str | None


def _check_case(item: _Item) -> None:
    """Refuse what the database cannot store (a lone surrogate) before any call is paid."""
    case = item.case
    check_values(
        [case.id, case.input, case.expected_properties, case.fields, item.prompt, item.system],
        path=f"case {case.id!r}",
        line=None,
    )


def _retrying(fn: Callable[..., T], store: Store, /, *args: Any, **kwargs: Any) -> T:
    """``fn(store, ...)``, retried with backoff (about 30 s) while the database is
    unreachable (a PostgreSQL restart, a lock held too long)."""
    for delay in _RETRY_DELAYS_S:
        try:
            return fn(store, *args, **kwargs)
        except StoreError as exc:
            if not exc.retryable:
                raise
            logger.warning("%s; retrying in %.1f s", exc, delay)
            time.sleep(delay)
    return fn(store, *args, **kwargs)


def _write_results(store: Store, batch: list[EvalResultRow]) -> None:
    """Write paid results; what the database still refuses to take is spilled (and
    replayed when it is next opened), never dropped."""
    try:
        _retrying(insert_eval_results, store, batch)
    except StoreError as exc:  # down past the retries, full, read-only: keep them
        rows = [{k: v for k, v in row.to_dict().items() if k != "id"} for row in batch]
        try:
            path = spill_rows(store, "eval_results", rows)
        except (OSError, ValueError) as spill_error:
            logger.error("LOST %d eval result(s): %s; %s", len(rows), exc, spill_error)
            return
        logger.error(
            "cannot write %d eval result(s) to %s (%s); saved them to %s, written there "
            "when the database is next opened",
            len(rows),
            store.safe_url,
            exc,
            path,
        )


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", name).strip("-")[:30] or "eval"


class _CaseData(TypedDict):
    """What a result stores of its case (``eval_results.case_data``)."""

    input: object  # a case's input may be any JSON value
    expected: Mapping[str, object]
    fields: Mapping[str, object]
    tags: list[str]
    weight: float


def _case_data(case: EvalCase) -> _CaseData:
    return {
        "input": case.input,
        "expected": case.expected_properties,
        "fields": case.fields,
        "tags": list(case.tags),
        "weight": case.weight,
    }


def _row(
    run_id: str,
    item: _Item,
    epoch: int,
    threshold: float,
    response: Response | None,
    score: Score | None,
    error: str | None,
) -> EvalResultRow:
    case = item.case
    judge = score.judge if score is not None else None
    errored = score is None or score.errored
    usage = response.usage if response is not None else None
    return EvalResultRow(
        run_id=run_id,
        case_id=case.id,
        epoch=epoch,
        status="error" if error is not None else "ok",
        prompt=item.prompt,
        case_data=dict(_case_data(case)),
        output=response.text if response is not None else None,
        score=None if errored or score is None else score.value,
        passed=not errored and score is not None and score.value >= threshold,
        errored=errored,
        scores=score.parts if score is not None else {},
        explanation=score.explanation if score is not None else None,
        error=error if error is not None else (score.explanation if errored and score else None),
        tags=list(case.tags),
        weight=case.weight,
        call_id=response.call_id if response is not None else None,
        cache_hit=bool(response is not None and response.cache_hit),
        duration_s=response.duration_s if response is not None else None,
        input_tokens=usage.input_tokens if usage is not None else 0,
        output_tokens=usage.output_tokens if usage is not None else 0,
        cost=response.cost if response is not None else None,
        judge_calls=judge.calls if judge is not None else 0,
        judge_input_tokens=judge.input_tokens if judge is not None else 0,
        judge_output_tokens=judge.output_tokens if judge is not None else 0,
        judge_cost=judge.cost if judge is not None else None,
    )


async def _generate(model: Model, request: Request) -> Response:
    # The database unreachable before the call is sent (the budget check reads it): wait
    # for it, bounded, rather than fail the case unpaid (a later resume would skip it).
    for delay in _RETRY_DELAYS_S:
        try:
            return await model.generate(request)
        except StoreError as exc:
            if not exc.retryable:
                raise
            logger.warning("%s; retrying the case in %.1f s", exc, delay)
            await asyncio.sleep(delay)
    return await model.generate(request)


async def _one(
    model: Model, suite: EvalSuite, run_id: str, item: _Item, epoch: int
) -> EvalResultRow:
    response: Response | None = None
    with call_links(eval_run=run_id, sample_id=item.case.id, epoch=epoch):
        try:
            response = await _generate(model, suite.request_for(item.prompt, item.system))
        except LlmlabError as exc:
            return _row(run_id, item, epoch, suite.threshold, None, None, str(exc))
        except Exception as exc:  # one broken case must not stop the run
            message = f"{type(exc).__name__}: {exc}"
            return _row(run_id, item, epoch, suite.threshold, None, None, message)
        try:
            # A custom Scorer's out-of-range or NaN value is an errored score, not a
            # NaN in the summary (and in --json).
            score = as_score(await suite.scorer.score(response.text, item.case), "the scorer")
        except LlmlabError:
            raise
        except Exception as exc:
            score = Score.error(f"scorer raised {type(exc).__name__}: {exc}")
    return _row(run_id, item, epoch, suite.threshold, response, score, None)


def _update(progress: Progress, row: EvalResultRow) -> None:
    progress.done += 1
    progress.passed += row.passed
    progress.errored += row.errored
    progress.cache_hits += row.cache_hit
    if row.cost is not None:
        progress.cost += row.cost
    if row.judge_cost is not None:
        progress.judge_cost += row.judge_cost


def _resolve_model(
    name: str, store: Store, cache: bool, limiter: AdaptiveLimiter, options: Mapping[str, object]
) -> Model:
    managed = get_model(name, store=store, **options)
    return managed.configured(cache=cache, limiter=limiter)


def summarize_run(store: Store, run: EvalRunRow) -> dict[str, Any]:
    """The summary of a stored run, from its results (streamed, not loaded at once)."""
    options = run.options
    return summarize(
        iter_eval_results(store, run.id),
        reducer=str(options.get("reducer", "mean")),
        threshold=float(run.threshold),
        min_pass_rate=float(options.get("min_pass_rate", 1.0)),
        epochs=run.epochs,
        k=options.get("k"),
        expected_results=run.n_cases * run.epochs,
        max_errors=int(options.get("max_errors", 0)),
    )


def _graded(suite: EvalSuite) -> bool:
    """Whether the suite has a model-graded scorer (whose judge the summary describes)."""
    return any(isinstance(scorer, ModelGraded) for scorer, _ in suite.scorer.parts)


def _judges(suite: EvalSuite, default_model: str, store: Store) -> Mapping[str, object]:
    # Imported here: calibration (and the statistics it pulls in) is needed only by suites
    # with a judge; a run without one does not pay its import at start-up.
    from llmlab.evals._calibration import judge_summary

    return judge_summary(suite, default_model, store=store)


def _new_run_id(store: Store, name: str, now: datetime, fingerprint: str) -> str:
    run_id = base_id = f"{_slug(name)}-{now:%Y%m%d-%H%M%S}-{fingerprint[:6]}"
    n = 1
    while get_eval_run(store, run_id) is not None:  # the same suite twice in a second
        n += 1
        run_id = f"{base_id}-{n}"
    return run_id


def _work(
    items: list[_Item], epochs: int, done: set[tuple[str, int]]
) -> Generator[tuple[_Item, int]]:
    # A generator, not a list: nothing per (case, epoch) is held beyond the one in flight.
    for epoch in range(1, epochs + 1):
        for item in items:
            if (item.case.id, epoch) not in done:
                yield item, epoch


async def run_eval(
    suite: EvalSuite,
    *,
    model: str | Model | None = None,
    concurrency: int = 10,
    epochs: int | None = None,
    cache: bool = True,
    store: Store | None = None,
    resume: bool = True,
    model_options: Mapping[str, object] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> EvalRun:
    """Run ``suite`` (resuming the newest unfinished identical run); returns its summary.

    Args:
        model: ``"provider/model"`` or a model from ``llmlab.models.get_model()``;
            default the suite's, else LLMLAB_MODEL.
        concurrency: most cases in flight (the adaptive limiter may lower it on 429s).
        epochs: trials per case (default: the suite's).
        cache: answer repeated identical requests from the response cache.
        store: the store for the run, its results and its calls (default: the default
            handle).
        resume: continue the newest unfinished run with the same fingerprint.
        model_options: options for ``get_model`` (``base_url``, ``max_retries`` ...).
        progress: called when the run starts and after each result.

    Raises:
        InputError: a bad argument, a suite without cases, or a model that is not a
            name or a managed model.
    """
    check_model(model)
    check_count("concurrency", concurrency, MAX_CONCURRENCY)
    n_epochs = epochs or suite.epochs
    check_count("epochs", n_epochs, MAX_EPOCHS)
    if not suite.cases:
        raise InputError(f"suite {suite.name!r} has no cases", path=suite.path)
    given = model if isinstance(model, Model) else None
    model_name = (
        given.full_name
        if given is not None
        else (model if isinstance(model, str) else None) or suite.model or default_model_name()
    )
    # Rendered up front: a template error fails here, before any call.
    items = [_Item(case, *suite.render(case)) for case in suite.cases]
    suite.check_templates()
    for item in items:
        if item.case.source is None:  # made in Python, so not checked as a dataset row was
            _check_case(item)
    db = resolve_store(store)
    # The model first: a bad key or option fails before a run is made, and the endpoint
    # it resolved is part of the run's identity (another server is another run).
    limiter = AdaptiveLimiter(initial=concurrency, max_limit=concurrency)
    target = (
        given.configured(cache=cache, limiter=limiter)
        if given is not None
        else _resolve_model(model_name, db, cache, limiter, dict(model_options or {}))
    )
    extra = {
        "reducer": suite.reducer,
        "k": suite.k,
        "cache": cache,
        "min_pass_rate": suite.min_pass_rate,
        "max_errors": suite.max_errors,
        "endpoint": target.endpoint,
        "model_options": cache_options(model_options or {}),
    }
    fingerprint = suite.fingerprint(model=model_name, epochs=n_epochs, extra=extra)
    existing = latest_unfinished_eval_run(db, fingerprint) if resume else None
    if existing is not None:
        run = existing
        done = eval_result_keys(db, run.id)
    else:
        now = datetime.now(UTC)
        done = set()
        run = create_eval_run(
            db,
            id=_new_run_id(db, suite.name, now, fingerprint),
            name=suite.name,
            fingerprint=fingerprint,
            model=model_name,
            started_at=now,
            n_cases=len(suite.cases),
            epochs=n_epochs,
            threshold=suite.threshold,
            suite_path=str(suite.path) if suite.path else None,
            suite=suite.spec or {"name": suite.name},
            options={**extra, "concurrency": concurrency},
        )
    run_id = run.id
    reused = len(done)
    total = len(items) * n_epochs - reused
    judge: str | Model = suite.judge_model or target
    if isinstance(judge, str):
        judge = _resolve_model(judge, db, cache, limiter, {})
    state = Progress(total=total, run_id=run_id, reused=reused)
    if progress is not None:
        progress(state)
    started = time.monotonic()
    writer = _ResultWriter(db)
    work = _work(items, n_epochs, done)

    async def worker() -> None:
        for item, epoch in work:
            row = await _one(target, suite, run_id, item, epoch)
            _update(state, row)
            await writer.add(row)
            if progress is not None:
                progress(state)

    token = default_judge_model.set(judge)
    status = "interrupted"
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, total)):
                group.create_task(worker())
        status = "finished"
    finally:
        default_judge_model.reset(token)
        # What the run held per case is no longer needed: free it before the summary.
        work.close()
        done.clear()
        items.clear()
        suite.release()
        await asyncio.shield(writer.close())
        await writer.call(flush, db)
        if given is None:
            await target.aclose()
        if judge is not target and suite.judge_model:
            await judge.aclose()
        summary = await writer.call(_retrying, summarize_run, db, run)
        summary["judges"] = (
            await writer.call(_judges, suite, suite.judge_model or model_name, db)
            if _graded(suite)
            else {}
        )
        await writer.call(_retrying, finish_eval_run, db, run_id, status=status, summary=summary)
        writer.shutdown()
    return EvalRun(
        id=run_id,
        name=suite.name,
        model=model_name,
        status=status,
        summary=summary,
        resumed=existing is not None,
        reused_results=reused,
        elapsed_s=time.monotonic() - started,
    )


def run_eval_sync(suite: EvalSuite, **options: Any) -> EvalRun:
    """``run_eval`` for scripts (not inside a running event loop)."""
    return asyncio.run(run_eval(suite, **options))
