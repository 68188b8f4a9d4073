"""``llmlab eval``: run suites, list and show runs, compare two runs, re-score outputs.

Exit codes: 0 the threshold was met, 1 it was missed (or ``--gate`` found a significant
regression against ``--baseline``), 2 input or usage error.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from llmlab._errors import InputError
from llmlab._limits import MAX_CONCURRENCY, MAX_EPOCHS, MAX_LISTED
from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._options import parse_key_values, print_json
from llmlab.cli._store import cli_store

if TYPE_CHECKING:  # the commands import what they use: `eval run` loads no statistics
    from llmlab.evals import EvalGate, EvalRun
    from llmlab.evals import Progress as RunProgress
    from llmlab.store import Store

__all__ = ["eval_app"]

eval_app = typer.Typer(help="Eval suites: run, list, show, compare, rescore.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

_console = stdout_console()
_stderr = Console(stderr=True, highlight=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class _RunWatch:
    """Follows a run's progress: says when a run resumes, remembers where it stands for
    the line Ctrl-C prints, and drives the progress bar (when there is one)."""

    def __init__(self, bar: Callable[[RunProgress], None] | None) -> None:
        self.bar = bar
        self.state: RunProgress | None = None

    def __call__(self, state: RunProgress) -> None:
        if self.state is None and state.reused:
            _stderr.print(
                f"resuming {state.run_id}: {state.results} of {state.expected} done",
                soft_wrap=True,
            )
        self.state = state
        if self.bar is not None:
            self.bar(state)

    def interrupted(self) -> str:
        if self.state is None:
            return "interrupted before the run started; run the same command to start it"
        return (
            f"interrupted: {self.state.results} of {self.state.expected} done; "
            "run the same command to resume"
        )


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[RunProgress], None] | None]:
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pass {task.fields[rate]}  ${task.fields[cost]}"),
        TimeRemainingColumn(),
        console=_console,
        transient=True,
    )
    task = bar.add_task("eval", total=None, rate="-", cost="0")

    def update(state: RunProgress) -> None:
        bar.update(
            task,
            total=state.total,
            completed=state.done,
            rate=f"{state.pass_rate:.0%}",
            cost=f"{state.cost + state.judge_cost:.4f}",
        )

    with bar:
        yield update


def _write_reports(
    store: Store, run: EvalRun, gate: EvalGate, junit: Path | None, markdown: Path | None
) -> None:
    if junit is None and markdown is None:
        return
    from llmlab.evals import show_run, to_junit, to_markdown

    results = show_run(run.id, store=store).results
    if junit is not None:
        junit.write_text(to_junit(run, results), encoding="utf-8")
    if markdown is not None:
        failures = [r for r in results if not r.passed]
        markdown.write_text(to_markdown(run, failures, gate=gate), encoding="utf-8")


@eval_app.command("run")
def run_command(
    suite_file: Annotated[Path, typer.Argument(metavar="SUITE", help="Suite YAML file.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="provider/model.")] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=MAX_CONCURRENCY, help="Cases in flight at most.")
    ] = 10,
    epochs: Annotated[
        int | None, typer.Option(min=1, max=MAX_EPOCHS, help="Trials per case.")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the cache.")] = False,
    new: Annotated[bool, typer.Option("--new", help="Start afresh; do not resume.")] = False,
    min_pass_rate: Annotated[
        float | None, typer.Option(min=0, max=1, help="Override the suite's min_pass_rate.")
    ] = None,
    model_option: Annotated[
        list[str] | None, typer.Option(help="Model option KEY=VALUE (base_url ...).")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown report here.")] = None,
    baseline: Annotated[str | None, typer.Option(help="Run to compare with.")] = None,
    gate: Annotated[
        bool, typer.Option("--gate", help="Exit 1 on a significant regression vs --baseline.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run an eval suite; re-running the same command resumes an interrupted run."""
    from llmlab.evals import gate_run, load_suite, run_eval
    from llmlab.evals._report import summary_lines

    if gate and baseline is None:
        raise InputError("--gate needs --baseline RUN")
    options = parse_key_values(model_option, "--model-option", typed=True)
    suite = load_suite(suite_file)
    store = cli_store()
    if baseline is not None:  # a mistyped baseline fails now, not after the whole run
        from llmlab.evals import resolve_run

        baseline = resolve_run(baseline, store=store).id
    if min_pass_rate is not None:
        suite.min_pass_rate = min_pass_rate
    show_bar = sys.stdout.isatty() and not as_json
    # Ctrl-C is handled here: Typer turns KeyboardInterrupt into a bare exit 130 before
    # any outer handler sees it. The runner has written what it had and marked the run
    # interrupted by the time asyncio.run raises it.
    watch = _RunWatch(None)
    try:
        with _progress_bar(show_bar) as bar:
            watch.bar = bar
            run = asyncio.run(
                run_eval(
                    suite,
                    model=model,
                    concurrency=concurrency,
                    epochs=epochs,
                    cache=not no_cache,
                    store=store,
                    resume=not new,
                    model_options=options,
                    progress=watch,
                )
            )
    except KeyboardInterrupt:
        _stderr.print(watch.interrupted(), soft_wrap=True)
        raise typer.Exit(130) from None
    verdict = gate_run(run, baseline=baseline, fail_on_regression=gate, store=store)
    _write_reports(store, run, verdict, junit, markdown)
    if as_json:
        data = run.to_dict()
        if verdict.baseline is not None:
            data["baseline"] = verdict.baseline.to_dict()
        data["gate"] = verdict.to_dict() | {"baseline": None}
        print_json(data)
    else:
        for line in summary_lines(run):
            _console.print(line, soft_wrap=True)
        if verdict.baseline is not None:
            regressed = "regression: " if verdict.regression else ""
            _console.print(f"vs baseline {baseline}: {regressed}{verdict.baseline.verdict()}")
        for reason in verdict.reasons:
            _console.print(f"gate: {reason}", soft_wrap=True)
    if not verdict.passed:
        raise typer.Exit(1)


@eval_app.command("list")
def list_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=MAX_LISTED)] = 20,
    name: Annotated[str | None, typer.Option(help="Only runs of this suite.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest eval runs."""
    from llmlab.evals import list_runs
    from llmlab.evals._report import runs_table

    runs = list_runs(limit=limit, name=name, store=cli_store())
    if as_json:
        print_json([r.to_dict() for r in runs])
    elif not runs:
        _console.print("no eval runs yet: llmlab eval run SUITE")
    else:
        _console.print(runs_table(runs))


@eval_app.command("show")
def show_command(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id, prefix or 'latest'.")],
    failed: Annotated[bool, typer.Option("--failed", help="Only failed results.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """One run: its summary and a table of results."""
    from llmlab.evals import EvalRun, calibration_status, show_run
    from llmlab.evals._report import results_table, summary_lines

    store = cli_store()
    shown = show_run(run_id, failed_only=failed, store=store)
    summary = shown.run.summary
    judges = summary.get("judges") if summary else None
    if summary is not None and judges:  # calibrated since the run ended? say so now
        summary["judges"] = calibration_status(judges, store=store)
    if as_json:
        print_json(shown.to_dict())
        return
    if shown.run.summary:
        for line in summary_lines(EvalRun.from_row(shown.run)):
            _console.print(line, soft_wrap=True)
    _console.print(results_table(shown.results))


@eval_app.command("compare")
def compare_command(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="Baseline run.")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="Candidate run.")],
    as_json: JsonOpt = False,
) -> None:
    """Paired comparison of two runs on their common cases."""
    from llmlab.evals import compare_runs
    from llmlab.evals._report import comparison_table

    comparison = compare_runs(run_a, run_b, store=cli_store())
    if as_json:
        print_json(comparison.to_dict())
        return
    _console.print(
        f"A = {comparison.run_a}  B = {comparison.run_b}  ({comparison.n} cases in common)"
    )
    _console.print(comparison_table(comparison))
    _console.print(f"verdict: {comparison.verdict()}")


@eval_app.command("rescore")
def rescore_command(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run whose outputs to score.")],
    suite_file: Annotated[
        Path | None, typer.Option("--suite", help="Take the scorers from this suite.")
    ] = None,
    scorer: Annotated[
        list[str] | None,
        typer.Option("--scorer", help="A scorer as YAML, e.g. 'regex: \"^yes\"' (repeatable)."),
    ] = None,
    threshold: Annotated[float | None, typer.Option(min=0, max=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a run's stored outputs again (no model calls); makes a new run."""
    from llmlab.evals import gate_run, load_suite, rescore_run, scorers_from_spec
    from llmlab.evals._report import summary_lines

    suite = load_suite(suite_file) if suite_file is not None else None
    combined = None
    if scorer:
        specs = []
        for text in scorer:
            try:
                specs.append(yaml.safe_load(text))
            except yaml.YAMLError as exc:
                raise InputError(f"--scorer {text!r} is not YAML: {exc}") from None
        combined = scorers_from_spec(specs, base_dir=Path.cwd())
    store = cli_store()
    try:
        run = asyncio.run(
            rescore_run(run_id, suite=suite, scorer=combined, threshold=threshold, store=store)
        )
    except KeyboardInterrupt:  # see run_command: Typer would exit 130 without a word
        _stderr.print(
            f"interrupted: the rescore of {run_id} was not finished (its run is marked "
            "interrupted); run the same command to score again",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    verdict = gate_run(run, store=store)
    if as_json:
        print_json(run.to_dict())
    else:
        for line in summary_lines(run):
            _console.print(line, soft_wrap=True)
    if not verdict.passed:
        raise typer.Exit(1)


import llmlab.cli._eval_quality  # noqa: E402, F401  (registers label, agreement, frontier)
