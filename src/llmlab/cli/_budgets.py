"""``llmlab budgets``: spending limits by scope and period."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._store import cli_store
from llmlab.monitor import budget_status, remove_budget, set_budget
from llmlab.pricing import dollars, plain_decimal

__all__ = ["budgets"]

budgets = typer.Typer(help="Spending limits: hard (refuse calls) or soft (alert).")
app.add_typer(budgets, name="budgets", no_args_is_help=True)

_console = stdout_console()


@budgets.command("set")
def set_command(
    name: Annotated[str, typer.Argument(help="The budget's name.")],
    limit: Annotated[str, typer.Argument(help="Dollars per period, more than 0.")],
    scope: Annotated[str, typer.Option(help="all, model, provider, prompt or tag.")] = "all",
    value: Annotated[
        str | None,
        typer.Option(help="What the scope matches: a model, provider, prompt, or KEY=VALUE."),
    ] = None,
    period: Annotated[
        str, typer.Option(help="hour, day, month, run (each eval run apart) or total.")
    ] = "month",
    soft: Annotated[bool, typer.Option("--soft", help="Only alert; never refuse calls.")] = False,
    threshold: Annotated[
        list[float] | None,
        typer.Option(help="Alert at this fraction of the limit (repeat). Default 0.8 and 1.0."),
    ] = None,
) -> None:
    """Create or replace a budget."""
    budget = set_budget(
        name,
        limit,
        scope=scope,
        value=value,
        period=period,
        hard=not soft,
        thresholds=tuple(threshold) if threshold else (0.8, 1.0),
        store=cli_store(),
    )
    kind = "hard" if budget.hard else "soft"
    typer.echo(
        f"budget {budget.name!r}: {kind}, {dollars(budget.limit)} per {budget.period}, "
        f"scope {budget.scope_label}"
    )


@budgets.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every budget with its spend in the current period."""
    found = budget_status(store=cli_store())
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": s.budget.name,
                        "scope": s.budget.scope,
                        "scope_key": s.budget.scope_key,
                        "scope_value": s.budget.scope_value,
                        "period": s.budget.period,
                        "period_key": s.period_key,
                        "limit": plain_decimal(s.budget.limit),
                        "hard": s.budget.hard,
                        "thresholds": list(s.budget.thresholds),
                        "spent": plain_decimal(s.spent),
                        "reserved": plain_decimal(s.reserved),
                        "used": round(s.used_fraction, 6),
                    }
                    for s in found
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"{len(found)} budget(s)" if found else "no budgets set")
    for name in ("name", "scope", "period", "kind", "limit", "spent", "reserved", "used"):
        table.add_column(
            name, justify="right" if name in ("limit", "spent", "reserved", "used") else "left"
        )
    for s in found:
        table.add_row(
            s.budget.name,
            s.budget.scope_label,
            f"{s.budget.period} ({s.period_key})",
            "hard" if s.budget.hard else "soft",
            _dollars(s.budget.limit),
            _dollars(s.spent),
            _dollars(s.reserved),
            f"{s.used_fraction:.0%}",
            style="red" if s.used_fraction >= 1 else None,
        )
    _console.print(table)


@budgets.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The budget's name.")]) -> None:
    """Delete a budget and its ledger."""
    remove_budget(name, store=cli_store())
    typer.echo(f"removed budget {name!r}")


def _dollars(value: Decimal) -> str:
    return dollars(value)
