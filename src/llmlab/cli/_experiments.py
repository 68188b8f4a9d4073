"""``llmlab experiments``: online traffic splits between prompt versions."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.table import Table

from llmlab._errors import InputError
from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._options import parse_key_values, print_json
from llmlab.cli._store import cli_store
from llmlab.evals import Interval
from llmlab.pricing import plain_number
from llmlab.prompts import Experiments, MeanEstimate, experiment_report, experiments

__all__ = ["experiments_group"]

experiments_group = typer.Typer(
    help="Online experiments: sticky, weighted traffic splits between prompt versions.",
    no_args_is_help=True,
)
app.add_typer(experiments_group, name="experiments")

_console = stdout_console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _experiments() -> Experiments:
    """The experiments of the command's store (opened once, closed when it ends)."""
    return experiments(store=cli_store())


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    """``NAME=VALUE`` options whose value may not be empty (an arm, a weight)."""
    out: dict[str, str] = {}
    for key, value in parse_key_values(items, option).items():
        if not str(value).strip():
            raise InputError(f"{option} {key + '='!r}: expected NAME=VALUE")
        out[key] = str(value).strip()
    return out


def _weights(items: list[str] | None) -> dict[str, float] | None:
    raw = _pairs(items, "--weight")
    if not raw:
        return None
    try:
        return {k: float(v) for k, v in raw.items()}
    except ValueError:
        raise InputError("--weight: expected ARM=NUMBER, such as --weight control=90") from None


@experiments_group.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="Prompt name.")],
    arm: Annotated[
        list[str],
        typer.Option("--arm", help="ARM=VERSION (N, #hash or @label); the first is the control."),
    ],
    weight: Annotated[
        list[str] | None, typer.Option("--weight", help="ARM=WEIGHT (default: equal).")
    ] = None,
    salt: Annotated[str | None, typer.Option(help="Assignment salt (default: random).")] = None,
    description: Annotated[str | None, typer.Option(help="What is being tested.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Start an experiment splitting PROMPT's traffic between versions."""
    arms: dict[str, int | str] = dict(_pairs(arm, "--arm"))
    exp = _experiments().create(
        name, prompt, arms, _weights(weight), salt=salt, description=description
    )
    if as_json:
        print_json(exp.to_dict())
        return
    fractions = exp.allocation.fractions()
    split = ", ".join(f"{a.name}=v{a.version} ({fractions.get(a.name, 0.0):.0%})" for a in exp.arms)
    typer.echo(f"experiment {name} on {prompt}: {split}")


@experiments_group.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """List experiments."""
    items = _experiments().list()
    if as_json:
        print_json([e.to_dict() for e in items])
        return
    table = Table(title=f"{len(items)} experiment(s)" if items else "no experiments yet")
    for col in ("name", "prompt", "status", "arms", "created (UTC)"):
        table.add_column(col)
    for e in items:
        fractions = e.allocation.fractions()
        arms = ", ".join(f"{a.name}=v{a.version} {fractions.get(a.name, 0.0):.0%}" for a in e.arms)
        status = e.status + (f" (winner {e.winner})" if e.winner else "")
        table.add_row(e.name, e.prompt, status, arms, f"{e.created_at:%Y-%m-%d %H:%M}")
    _console.print(table)


@experiments_group.command("ramp")
def ramp_command(
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    weight: Annotated[list[str], typer.Option("--weight", help="ARM=WEIGHT (repeatable).")],
) -> None:
    """Change arm weights; units stay in their arm unless it shrank."""
    exp = _experiments().ramp(name, _weights(weight) or {})
    fractions = exp.allocation.fractions()
    typer.echo(f"{name}: " + ", ".join(f"{a}={f:.1%}" for a, f in sorted(fractions.items())))


@experiments_group.command("stop")
def stop_command(
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    winner: Annotated[
        str | None, typer.Option(help="Arm every unit gets from now on (default: the control).")
    ] = None,
) -> None:
    """Stop an experiment: every unit gets the winner (or the control) from now on."""
    exp = _experiments().stop(name, winner=winner)
    typer.echo(f"{name} stopped; all units now get {exp.winner or exp.arms[0].name}")


def _ci(m: MeanEstimate, digits: int = 3) -> str:
    """``mean [low, high]`` in plain decimals to ``digits`` significant digits (never
    ``7.5e-06``; 0: whole numbers); the mean alone without an interval; ``-`` without one."""
    if not math.isfinite(m.mean):
        return "-"

    def text(x: float) -> str:  # digits 0: a whole count (tokens)
        return f"{x:.0f}" if digits == 0 else plain_number(x, digits)

    if not (math.isfinite(m.low) and math.isfinite(m.high)):
        return text(m.mean)
    return f"{text(m.mean)} [{text(m.low)}, {text(m.high)}]"


def _diff(d: tuple[Interval, float] | None) -> str:
    if d is None:
        return "-"
    i = d[0]
    low, high = (plain_number(x, 3, sign=True) for x in (i.low, i.high))
    return f"{plain_number(i.estimate, 3, sign=True)} [{low}, {high}]"


@experiments_group.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    as_json: JsonOption = False,
) -> None:
    """Per arm: exposures, calls, quality (feedback), cost and latency, with a verdict."""
    report = experiment_report(name, store=cli_store())
    if as_json:
        print_json(report.to_dict())
        return
    exp = report.experiment
    table = Table(title=f"experiment {exp.name} on {exp.prompt} ({exp.status})")
    for col in (
        "arm",
        "ver",
        "units",
        "exposures",
        "calls",
        "errors",
        "quality [95% CI]",
        "vs control",
        "latency s [95% CI]",
        "cost/call",
        "tokens out",
    ):
        table.add_column(col)
    for arm in report.arms:
        m = arm.metrics
        table.add_row(
            arm.arm,
            str(arm.version),
            str(arm.units),
            str(arm.exposures),
            str(m.calls),
            str(m.errors),
            _ci(arm.quality),
            _diff(arm.quality_diff),
            _ci(m.latency_s),
            _ci(m.cost, 2),
            _ci(m.output_tokens, 0),
        )
    _console.print(table)
    _console.print(f"verdict: {report.verdict}", markup=False)
