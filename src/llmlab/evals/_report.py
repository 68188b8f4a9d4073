"""Reports of a run: JUnit XML, Markdown, and Rich tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from rich.table import Table

from llmlab.evals._run_summary import RunSummary
from llmlab.evals._runner import EvalRun

if TYPE_CHECKING:  # `eval run` prints its summary without loading the run history
    from llmlab.evals._gate import EvalGate
    from llmlab.evals._history import Comparison, RunListing
    from llmlab.store import EvalResultRow

__all__ = [
    "comparison_table",
    "results_table",
    "runs_table",
    "summary_lines",
    "to_junit",
    "to_markdown",
]


def _pct(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "-"


def _num(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cost(cost: str | None, unpriced: int, of: int | None = None) -> str:
    """``$X``, saying how many results have no price: an unpriced call is not $0."""
    share = f"{unpriced} of {of}" if of is not None else str(unpriced)
    if cost is None:
        return f"unpriced ({share} results)" if unpriced else "-"
    return f"${cost}" + (f" ({share} results unpriced)" if unpriced else "")


def summary_lines(run: EvalRun) -> list[str]:
    """A run summary as a few lines of text."""
    s = RunSummary.from_dict(run.summary)
    low, high = s.pass_rate_ci
    lines = [
        f"run {run.id}  ({run.name}, {run.model}, {run.status})",
        f"pass rate {_pct(s.pass_rate)}  [95% CI {_pct(low)}-{_pct(high)}]  "
        f"{s.passed}/{s.scored_cases} scored cases passed, "
        f"{s.errored_cases} errored; "
        f"needed {_pct(s.min_pass_rate)}: {'met' if s.threshold_met else 'MISSED'}",
        f"mean score {s.mean_score:.3f}  [95% CI {s.mean_score_ci[0]:.3f}-"
        f"{s.mean_score_ci[1]:.3f}]  SE {s.standard_error:.3f}",
    ]
    lines += errored_lines(s)
    trials = s.trials
    if trials.epochs > 1:
        extra = "  ".join(f"{k} {v:.3f}" for k, v in trials.pass_k.items())
        lines.append(
            f"{trials.epochs} trials per case ({s.reducer}): consistency "
            f"{_pct(trials.consistency)}, mean flip rate {trials.mean_flip_rate:.3f}  {extra}"
        )
    judge = s.judge
    cost = _cost(s.cost, s.unpriced_results, s.results)
    judge_cost = _cost(judge.cost, judge.unpriced_results)
    lines.append(
        f"cost {cost}, {s.input_tokens} in / {s.output_tokens} out tokens, "
        f"{s.cache_hits} cache hits"
        + (
            f"; judge: {judge.calls} calls, {judge_cost}, "
            f"{judge.input_tokens} in / {judge.output_tokens} out tokens"
            if judge.calls
            else ""
        )
    )
    if s.errors.results:
        lines.append(f"{s.errors.results} result(s) errored: {dict(s.errors.kinds)}")
    if len(s.scorers) > 1:
        lines.append("scorers: " + ", ".join(f"{k} {v:.3f}" for k, v in s.scorers.items()))
    for tag, figures in s.tags.items():
        lines.append(f"  tag {tag}: {_pct(figures.pass_rate)} of {figures.n}")
    if not s.complete:
        lines.append(
            f"incomplete: {s.results} of {s.expected_results} results; "
            "re-run the same command to resume"
        )
    return lines


def errored_lines(s: RunSummary) -> list[str]:
    """The errored-results gate and each model-graded scorer's calibration, as text."""
    lines = []
    if not s.errors_within_limit:
        lines.append(
            f"{s.errored_results} result(s) could not be scored, more than max_errors "
            f"{s.max_errors}: the run fails (see llmlab eval show RUN --failed)"
        )
    for name, judge in (s.judges or {}).items():
        if judge.calibrated:
            lines.append(
                f"judge {name} ({judge.model}): calibrated on {judge.labels} labels, "
                f"TPR {_num(judge.tpr)} TNR {_num(judge.tnr)} "
                f"kappa {_num(judge.kappa)}"
            )
        else:
            lines.append(
                f"judge {name} ({judge.model}): NOT calibrated against human labels; "
                "treat its scores with care (llmlab eval label RUN, llmlab eval agreement RUN)"
            )
    return lines


def to_markdown(
    run: EvalRun, failures: Sequence[EvalResultRow] = (), *, gate: EvalGate | None = None
) -> str:
    """A Markdown report (for a CI job summary or a pull request comment).

    With ``gate`` (the verdict the exit code follows, baseline included) its status and
    reasons head the report; without it, the run's own threshold decides.
    """
    s = RunSummary.from_dict(run.summary)
    own = "passed" if s.threshold_met else "failed"
    verdict = gate.status if gate is not None else own
    out = [f"## Eval `{run.name}`: {verdict}", ""]
    if gate is not None and gate.reasons:
        out += [f"- {reason}" for reason in gate.reasons] + [""]
    out += [
        f"Run `{run.id}`, model `{run.model}`.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| pass rate | {_pct(s.pass_rate)} (95% CI {_pct(s.pass_rate_ci[0])}"
        f"–{_pct(s.pass_rate_ci[1])}) |",
        f"| cases | {s.passed} passed / {s.cases} ({s.errored_cases} errored) |",
        f"| mean score | {s.mean_score:.3f} ± {s.standard_error:.3f} SE |",
        f"| required pass rate | {_pct(s.min_pass_rate)} |",
        f"| cost | {_cost(s.cost, s.unpriced_results, s.results)} |",
        f"| judge cost | {_cost(s.judge.cost, s.judge.unpriced_results)} |",
    ]
    if s.trials.epochs > 1:
        out.append(f"| consistency | {_pct(s.trials.consistency)} |")
    if failures:
        out += ["", "### Failed cases", "", "| case | epoch | score | why |", "|---|---|---|---|"]
        for r in failures[:50]:
            why = (r.error or r.explanation or "").replace("|", "\\|")[:120]
            out.append(f"| `{r.case_id}` | {r.epoch} | {_score(r)} | {why} |")
    return "\n".join(out) + "\n"


def to_junit(run: EvalRun, results: Sequence[EvalResultRow]) -> str:
    """JUnit XML: one test case per (case, epoch); errored results as errors."""
    s = RunSummary.from_dict(run.summary)
    suite = ET.Element(
        "testsuite",
        name=run.name,
        tests=str(len(results)),
        failures=str(sum(1 for r in results if not r.passed and not r.errored)),
        errors=str(sum(1 for r in results if r.errored)),
        time=f"{sum(r.duration_s or 0.0 for r in results):.3f}",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="run_id", value=run.id)
    ET.SubElement(props, "property", name="model", value=run.model)
    ET.SubElement(props, "property", name="pass_rate", value=f"{s.pass_rate:.6f}")
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=run.name,
            name=f"{r.case_id}#{r.epoch}",
            time=f"{r.duration_s or 0.0:.3f}",
        )
        if r.errored:
            ET.SubElement(case, "error", message=(r.error or "errored")[:500])
        elif not r.passed:
            failure = ET.SubElement(
                case, "failure", message=f"score {r.score or 0.0:.3f} below {s.threshold}"
            )
            failure.text = f"output: {(r.output or '')[:2000]}\n{r.explanation or ''}"
    testsuites = ET.Element("testsuites")
    testsuites.append(suite)
    ET.indent(testsuites)
    return ET.tostring(testsuites, encoding="unicode", xml_declaration=True) + "\n"


def runs_table(runs: Sequence[RunListing]) -> Table:
    """The ``eval list`` table."""
    table = Table("name", "model", "status", "cases", "results", "pass rate", "cost", "judge")
    table.add_column("run", overflow="fold")
    for listing in runs:
        r = listing.run
        table.add_row(
            r.name,
            r.model,
            r.status,
            f"{r.n_cases}×{r.epochs}",
            str(r.n_results),
            _pct(listing.pass_rate),
            _cost(listing.cost, listing.unpriced, r.n_results),
            f"${listing.judge_cost}" if listing.judge_cost is not None else "-",
            r.id,
        )
    return table


def _score(r: EvalResultRow) -> str:
    return "error" if r.errored or r.score is None else f"{r.score:.2f}"


def results_table(results: Sequence[EvalResultRow], *, limit: int = 200) -> Table:
    """The ``eval show`` table."""
    from llmlab.evals._history import result_input

    table = Table("case", "epoch", "score", "passed", "input", "output / error")
    for r in results[:limit]:
        # An errored score shows why it could not be scored (a judge's error), not the output.
        shown = r.error if r.status == "error" or r.errored else r.output
        table.add_row(
            r.case_id,
            str(r.epoch),
            _score(r),
            "yes" if r.passed else "no",
            str(result_input(r) or "")[:40],
            (shown or "")[: 160 if r.errored else 60].replace("\n", " "),
        )
    return table


def comparison_table(comparison: Comparison) -> Table:
    """The ``eval compare`` table: each paired test, then the side-by-side figures."""
    table = Table("metric", "A", "B", "B - A [95% CI]", "p (Holm)", "verdict")
    for t in comparison.tests:
        table.add_row(
            t.metric,
            f"{t.a_mean:.3f}",
            f"{t.b_mean:.3f}",
            f"{t.difference.estimate:+.3f} [{t.difference.low:+.3f}, {t.difference.high:+.3f}]",
            f"{t.p_adjusted:.3g}",
            t.verdict(),
        )
    side = comparison.side_by_side
    for key in ("cost", "judge_cost", "output_tokens", "latency_p50_s", "latency_p95_s"):
        a, b = side["a"].get(key), side["b"].get(key)
        delta = side["delta"].get(key)
        table.add_row(key, _num(a), _num(b), _num(delta), "", "")
    return table
