"""The eval gate: did a run pass, and did it regress against a baseline?

The one place that decides; the CLI and the pytest plugin only print the verdict and
turn it into an exit code or an assertion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmlab._json import JsonObject
from llmlab.evals._run_summary import RunSummary
from llmlab.evals._runner import EvalRun
from llmlab.store import Store

if TYPE_CHECKING:  # loads the statistics (numpy, SQLAlchemy): only a gate with a baseline
    from llmlab.evals._history import Comparison

__all__ = ["EvalGate", "gate_run"]


@dataclass(frozen=True, slots=True)
class EvalGate:
    """The verdict on one run.

    ``passed`` is False when the run is incomplete, has no scored case, its pass rate is
    below ``min_pass_rate``, more results errored than the suite's ``max_errors``, or
    (with ``fail_on_regression``) it is significantly worse than the baseline.
    ``reasons`` says which, one line each.
    """

    run_id: str
    passed: bool
    pass_rate: float
    min_pass_rate: float
    complete: bool
    threshold_met: bool
    regression: bool
    reasons: tuple[str, ...]
    baseline: Comparison | None = None

    @property
    def status(self) -> str:
        """One word for reports: ``passed``, ``regression`` or ``failed`` (matching the
        exit code: only ``passed`` is 0)."""
        if self.passed:
            return "passed"
        return "regression" if self.threshold_met and self.regression else "failed"

    def to_dict(self) -> JsonObject:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "min_pass_rate": self.min_pass_rate,
            "complete": self.complete,
            "threshold_met": self.threshold_met,
            "regression": self.regression,
            "reasons": list(self.reasons),
            "baseline": self.baseline.to_dict() if self.baseline is not None else None,
        }


def gate_run(
    run: EvalRun,
    *,
    min_pass_rate: float | None = None,
    baseline: str | None = None,
    fail_on_regression: bool = False,
    store: Store | None = None,
) -> EvalGate:
    """Judge ``run``: its pass rate against ``min_pass_rate`` (default: the one the run
    was made with) and, given a ``baseline`` run, the paired comparison with it.

    Raises:
        NotFoundError: the baseline run does not exist.
    """
    s = RunSummary.from_dict(run.summary)
    minimum = s.min_pass_rate if min_pass_rate is None else min_pass_rate
    complete = s.complete
    cases = s.scored_cases
    errored = s.errored_results
    max_errors = s.max_errors
    pass_rate = run.pass_rate
    reasons: list[str] = []
    if not complete:
        got = s.results if run.summary else None  # a run still going has no summary yet
        reasons.append(f"incomplete: {got} of {s.expected_results} results")
    if cases == 0:
        reasons.append("no case has a scored result")
    if pass_rate < minimum:
        reasons.append(f"pass rate {pass_rate:.1%} is below the required {minimum:.1%}")
    if errored > max_errors:
        # An errored result is not a fail (the pass rate leaves it out): it fails the run
        # here instead of hiding in the pass rate.
        reasons.append(
            f"{errored} result(s) could not be scored, more than max_errors {max_errors}"
        )
    threshold_met = complete and cases > 0 and pass_rate >= minimum and errored <= max_errors
    comparison = None
    if baseline is not None:
        from llmlab.evals._history import compare_runs

        comparison = compare_runs(baseline, run.id, store=store)
    regression = comparison is not None and comparison.regression
    if regression and fail_on_regression and comparison is not None:
        reasons.append(f"regression against baseline {comparison.run_a}: {comparison.verdict()}")
    return EvalGate(
        run_id=run.id,
        passed=threshold_met and not (regression and fail_on_regression),
        pass_rate=pass_rate,
        min_pass_rate=minimum,
        complete=complete,
        threshold_met=threshold_met,
        regression=regression,
        reasons=tuple(reasons),
        baseline=comparison,
    )
