"""``assert_eval``: let an eval suite gate a test suite.

Use the pytest fixture of the same name (it runs in the test's own store)::

    def test_answers_are_good(assert_eval):
        run = assert_eval("evals/suite.yaml", min_pass_rate=0.9, model="scripted/bot")
        assert run.summary["trials"]["consistency"] == 1.0

or call it directly (``from llmlab.testing._eval_plugin import assert_eval``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from llmlab.evals import (
    EvalRun,
    EvalSuite,
    RunSummary,
    gate_run,
    load_suite,
    result_input,
    run_eval,
    show_run,
)
from llmlab.store import Store, resolve_store

__all__ = ["EvalAssertionError", "assert_eval", "assert_eval_async"]


class EvalAssertionError(AssertionError):
    """The suite's pass rate was below the minimum; the message lists failed cases."""

    def __init__(self, message: str, run: EvalRun) -> None:
        super().__init__(message)
        self.run = run


def _message(run: EvalRun, minimum: float, store: Store, show: int) -> str:
    s = RunSummary.from_dict(run.summary)
    lines = [
        f"eval {run.name!r} ({run.model}) passed {s.passed}/{s.cases} cases = "
        f"{s.pass_rate:.1%}, below the required {minimum:.1%} (run {run.id})"
    ]
    if not s.complete:
        lines.append(f"only {s.results} of {s.expected_results} results")
    failures = show_run(run.id, failed_only=True, store=store).results
    for r in failures[:show]:
        why = r.error or r.explanation or ""
        score = "error" if r.errored or r.score is None else f"{r.score:.2f}"
        lines.append(
            f"  case {r.case_id}#{r.epoch}: score {score}; "
            f"input {str(result_input(r))[:60]!r}; output {str(r.output)[:60]!r} {why}".rstrip()
        )
    if len(failures) > show:
        lines.append(f"  ... and {len(failures) - show} more (llmlab eval show {run.id} --failed)")
    return "\n".join(lines)


async def assert_eval_async(
    suite: EvalSuite | str | Path,
    *,
    min_pass_rate: float | None = None,
    store: Store | None = None,
    show_failures: int = 10,
    **options: Any,
) -> EvalRun:
    """Run ``suite`` and raise ``EvalAssertionError`` when its pass rate is too low.

    ``min_pass_rate`` defaults to the suite's; ``store`` to the default handle;
    ``options`` go to ``run_eval`` (model, epochs, concurrency, cache ...). Returns the run.
    """
    loaded = suite if isinstance(suite, EvalSuite) else load_suite(suite)
    minimum = loaded.min_pass_rate if min_pass_rate is None else min_pass_rate
    db = resolve_store(store)
    run = await run_eval(loaded, store=db, **options)
    if not gate_run(run, min_pass_rate=minimum, store=db).passed:
        raise EvalAssertionError(_message(run, minimum, db, show_failures), run)
    return run


def assert_eval(
    suite: EvalSuite | str | Path,
    *,
    min_pass_rate: float | None = None,
    store: Store | None = None,
    show_failures: int = 10,
    **options: Any,
) -> EvalRun:
    """``assert_eval_async`` for synchronous tests (not inside a running event loop)."""
    return asyncio.run(
        assert_eval_async(
            suite, min_pass_rate=min_pass_rate, store=store, show_failures=show_failures, **options
        )
    )
