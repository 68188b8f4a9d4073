"""``llmlab eval label | agreement | frontier``: trust the judge, then choose by quality
and cost.

Exit codes: ``label`` 0 stored (2 a bad labels file, ``file:line``); ``agreement`` 0 every
scorer's pass rate could be corrected, 1 not (too few labels, a judge no better than
chance), 2 input error (no labels, unknown scorer); ``frontier`` 0, 2 input error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer
from rich.table import Table

from llmlab._errors import InputError
from llmlab._json import JsonObject
from llmlab._limits import MAX_EPOCHS, MAX_LISTED
from llmlab.cli._console import stdout_console
from llmlab.cli._eval import eval_app
from llmlab.cli._options import print_json
from llmlab.cli._store import cli_store

if TYPE_CHECKING:  # imported by the commands that use them (see cli/_eval.py)
    from llmlab.evals import Agreement, AgreementReport, Frontier, JudgeConsistency
    from llmlab.store import EvalResultRow

__all__: list[str] = []

_console = stdout_console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RunArg = Annotated[str, typer.Argument(metavar="RUN", help="Run id, prefix or 'latest'.")]

_KEYS = {"p": "pass", "f": "fail", "s": "skip", "n": "note", "q": "quit"}


def _show_result(result: EvalResultRow, index: int, total: int) -> None:
    verdict = (
        f"[red]errored[/]: {result.error}"
        if result.errored
        else f"{'[green]pass' if result.passed else '[red]fail'}[/] (score {result.score:.2f})"
    )
    _console.rule(f"case {result.case_id}  epoch {result.epoch}  ({index} of {total})")
    _console.print("[bold]prompt[/]", soft_wrap=True)
    _console.print(result.prompt or "", markup=False, soft_wrap=True)
    _console.print("[bold]output[/]", soft_wrap=True)
    _console.print(result.output or "", markup=False, soft_wrap=True)
    _console.print(f"[bold]judge[/]: {verdict}", soft_wrap=True)
    if result.explanation and not result.errored:
        _console.print(f"  {result.explanation}", markup=False, soft_wrap=True)


class _LabelSession(TypedDict):
    run_id: str
    labelled: int
    skipped: int
    left: int


def _label_interactively(run_ref: str, labeller: str) -> _LabelSession:
    store = cli_store()
    from llmlab.evals import HumanLabel, attach_labels, resolve_run, unlabelled_results

    run_id = resolve_run(run_ref, store=store).id
    todo = unlabelled_results(run_id, store=store)
    counts: _LabelSession = {"run_id": run_id, "labelled": 0, "skipped": 0, "left": len(todo)}
    if not todo:
        _console.print(f"every result of {run_id} with an output is labelled")
        return counts
    _console.print(
        f"{len(todo)} result(s) of {run_id} to label: "
        "[p]ass [f]ail [s]kip [n]ote [q]uit (each label is saved at once; run again to resume)"
    )
    for index, result in enumerate(todo, start=1):
        _show_result(result, index, len(todo))
        note: str | None = None
        while True:
            key = str(typer.prompt("label [p/f/s/n/q]")).strip().lower()[:1]
            if key == "n":
                note = str(typer.prompt("note", default="", show_default=False)).strip() or None
                continue
            if key in _KEYS:
                break
            _console.print("press p (pass), f (fail), s (skip), n (note) or q (quit)")
        if key == "q":
            break
        if key == "s":
            counts["skipped"] += 1
        else:
            label = HumanLabel(result.case_id, result.epoch, passed=key == "p", note=note)
            attach_labels(run_id, [label], labeller=labeller, source="interactive", store=store)
            counts["labelled"] += 1
        counts["left"] -= 1
    return counts


@eval_app.command("label")
def label_command(
    run_id: RunArg,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Labels file (.csv or .jsonl).")
    ] = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Label results one by one here.")
    ] = False,
    labeller: Annotated[
        str | None, typer.Option(help="Who labels (default LLMLAB_USER or the login).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach human pass/fail labels to a run's results (from a file, or interactively)."""
    if (file is None) == (not interactive):
        raise InputError("give --file LABELS.csv or --interactive (one of the two)")
    from llmlab.evals import attach_labels
    from llmlab.evals._labels import default_labeller

    who = labeller or default_labeller()
    if file is not None:
        stored = attach_labels(run_id, file, labeller=who, store=cli_store())
        data: JsonObject | _LabelSession = {
            "run_id": stored.run_id,
            "stored": stored.stored,
            "replaced": stored.replaced,
            "passed": stored.passed,
            "failed": stored.failed,
        }
        message = (
            f"stored {stored.stored} label(s) on {stored.run_id} ({stored.passed} pass, "
            f"{stored.failed} fail; {stored.replaced} replaced)"
        )
    else:
        data = session = _label_interactively(run_id, who)
        message = (
            f"labelled {session['labelled']}, skipped {session['skipped']}, "
            f"{session['left']} left on {session['run_id']}"
        )
    if as_json:
        print_json(data)
    else:
        _console.print(message)


def _figure(name: str, value: Any) -> str:
    if value is None:
        return f"{name} -"
    return f"{name} {value.estimate:.3f} [{value.low:.3f}, {value.high:.3f}]"


def _agreement_lines(title: str, a: Agreement) -> list[str]:
    c = a.confusion
    return [
        f"  {title}: {c.n} labelled  TP {c.tp}  FN {c.fn}  FP {c.fp}  TN {c.tn}",
        "    "
        + "  ".join(
            _figure(name, value)
            for name, value in (
                ("TPR", a.tpr),
                ("TNR", a.tnr),
                ("precision", a.precision),
                ("accuracy", a.accuracy),
                ("kappa", a.kappa),
            )
        ),
    ]


def _print_report(report: AgreementReport, consistency: list[JudgeConsistency]) -> None:
    split = (
        f", split dev {report.split[0]:.0%} / test {report.split[1]:.0%} (seed {report.seed})"
        if report.split
        else ""
    )
    _console.print(f"run {report.run_id}: {report.labels} human label(s){split}")
    for s in report.scorers:
        kind = "model-graded" if s.model_graded else "scorer"
        _console.print(
            f"{kind} {s.scorer}: {s.labelled} labelled result(s) with a verdict, "
            f"{s.errored} errored, {s.unlabelled} unlabelled"
        )
        lines = _agreement_lines("all labels", s.overall)
        if s.dev is not None and s.test is not None:
            lines += _agreement_lines("dev", s.dev) + _agreement_lines("test (held out)", s.test)
        for line in lines:
            _console.print(line, soft_wrap=True)
        if s.corrected is not None:
            r = s.corrected
            _console.print(
                f"  pass rate observed {r.observed:.1%} of {r.n}, corrected {r.estimate:.1%} "
                f"[95% CI {r.low:.1%}-{r.high:.1%}] (Rogan-Gladen, TPR {r.tpr:.3f}, "
                f"TNR {r.tnr:.3f})",
                soft_wrap=True,
            )
        else:
            _console.print(f"  [yellow]no corrected pass rate[/]: {s.problem}", soft_wrap=True)
    for c in consistency:
        _console.print(
            f"judge {c.scorer} judged {c.epochs} times on {c.outputs} output(s): flip rate "
            f"{c.mean_flip_rate:.3f}, consistent on {c.consistency:.1%}"
            + (f", {c.errored} errored" if c.errored else ""),
            soft_wrap=True,
        )


@eval_app.command("agreement")
def agreement_command(
    run_id: RunArg,
    scorer: Annotated[str | None, typer.Option(help="Only this scorer.")] = None,
    split: Annotated[
        str | None, typer.Option(help="Held-out split of labelled cases, e.g. dev=0.4,test=0.6.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and the bootstrap.")] = 0,
    epochs: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=MAX_EPOCHS,
            help="Also judge each output this many times: the judge's flip rate.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_LISTED, help="With --epochs: judge only this many outputs."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Agreement of a run's scorers with its human labels, and the corrected pass rate."""
    store = cli_store()
    from llmlab.evals import judge_consistency, measure_agreement

    report = measure_agreement(run_id, scorer=scorer, split=split, seed=seed, store=store)
    consistency = (
        asyncio.run(
            judge_consistency(report.run_id, epochs=epochs, scorer=scorer, limit=limit, store=store)
        )
        if epochs
        else []
    )
    if as_json:
        print_json(report.to_dict() | {"judge_consistency": [c.to_dict() for c in consistency]})
    else:
        _print_report(report, consistency)
    if not report.ok:
        raise typer.Exit(1)


def _frontier_table(frontier: Frontier) -> Table:
    from llmlab.pricing import plain_decimal

    table = Table("option", "pass rate [95% CI]", "cost/case", "p50 s", "p95 s", "tokens in/out")
    table.add_column("frontier")
    table.add_column("run", overflow="fold")
    for o in frontier.options:
        q = o.quality
        table.add_row(
            o.label,
            f"{q.estimate:.1%} [{q.low:.1%}-{q.high:.1%}]",
            f"${plain_decimal(o.cost_per_case)}" if o.cost_per_case is not None else "unpriced",
            f"{o.latency_p50_s:.3f}" if o.latency_p50_s is not None else "-",
            f"{o.latency_p95_s:.3f}" if o.latency_p95_s is not None else "-",
            f"{o.input_tokens_per_case:.0f}/{o.output_tokens_per_case:.0f}",
            "yes" if o.on_frontier else "no",
            o.run_id,
        )
    return table


@eval_app.command("frontier")
def frontier_command(
    runs: Annotated[
        list[str] | None, typer.Argument(metavar="[RUN]...", help="Runs to compare.")
    ] = None,
    suite: Annotated[str | None, typer.Option(help="Every finished run of this suite.")] = None,
    since: Annotated[
        str | None, typer.Option(help="With --suite: runs of the last 7d, 12h.")
    ] = None,
    margin: Annotated[
        float, typer.Option(min=0, max=1, help="Cheapest option within this of the best.")
    ] = 0.02,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The cost-quality frontier of models and prompt versions run on the same cases."""
    from llmlab.evals import cost_quality_frontier
    from llmlab.pricing import plain_decimal

    frontier = cost_quality_frontier(
        runs or [], suite=suite, since=since, margin=margin, store=cli_store()
    )
    if as_json:
        print_json(frontier.to_dict())
        return
    if markdown:
        typer.echo(frontier.to_markdown(), nl=False)
        return
    _console.print(f"{frontier.common_cases} case(s) common to every run")
    _console.print(_frontier_table(frontier))
    _console.print(f"best pass rate: {frontier.best}")
    if frontier.cheapest_within_margin is not None:
        choice = frontier.option(frontier.cheapest_within_margin)
        cost = plain_decimal(choice.cost_per_case) if choice.cost_per_case is not None else "-"
        _console.print(
            f"cheapest within {margin:.1%} of the best: {choice.run_id} ({choice.label}, "
            f"${cost}/case)",
            soft_wrap=True,
        )
    for run, n in frontier.not_shared.items():
        if n:
            _console.print(f"{n} case(s) of {run} not scored by every run: left out")
