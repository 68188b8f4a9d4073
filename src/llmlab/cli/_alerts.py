"""``llmlab alerts``: what crossed a budget threshold or a latency / error-rate rule."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from llmlab._limits import MAX_LISTED
from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._store import cli_store
from llmlab.monitor import (
    check_alert_rules,
    flush_alerts,
    list_rules,
    recent_alerts,
    remove_alert_rule,
    set_alert_rule,
)
from llmlab.store import AlertRow

__all__ = ["alerts"]

alerts = typer.Typer(help="Alerts from budgets and latency / error-rate rules.")
app.add_typer(alerts, name="alerts", no_args_is_help=True)

_console = stdout_console()
_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@alerts.command("list")
def list_command(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LISTED, help="How many.")
    ] = 50,
    as_json: _Json = False,
) -> None:
    """The newest alerts first."""
    found = recent_alerts(limit=limit, store=cli_store())
    if as_json:
        typer.echo(json.dumps([a.to_dict() for a in found], indent=2))
        return
    table = Table(title=f"{len(found)} alert(s)" if found else "no alerts")
    for name in ("time (UTC)", "kind", "source", "message", "webhook delivery"):
        table.add_column(name)
    for a in found:
        table.add_row(
            a.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            a.kind,
            a.source,
            a.message,
            _delivery(a),
        )
    _console.print(table)


def _delivery(a: AlertRow) -> str:
    """The true state of an alert's webhook delivery."""
    if a.delivery != "webhook":
        return "log only"
    if a.delivery_state == "delivered":
        return f"delivered (attempt {a.attempts})"
    if a.delivery_state == "failed":
        return f"failed: {a.last_error} (after {a.attempts} attempt(s))"
    tried = f", {a.attempts} failed: {a.last_error}" if a.attempts else ""
    return f"pending{tried}"


@alerts.command("flush")
def flush_command(
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait at most.")] = 30.0,
) -> None:
    """Send the pending webhook alerts now (those of processes that were killed)."""
    done = flush_alerts(wait, store=cli_store())
    typer.echo("no alert pending" if done else "some alerts are still pending")


@alerts.command("rules")
def rules_command(as_json: _Json = False) -> None:
    """Every latency / error-rate rule."""
    found = list_rules(store=cli_store())
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in found], indent=2))
        return
    table = Table(title=f"{len(found)} rule(s)" if found else "no alert rules")
    for name in ("name", "metric", "limit", "window", "min calls", "firing"):
        table.add_column(name)
    for r in found:
        table.add_row(
            r.name,
            r.metric,
            f"{r.limit:g} s" if r.metric == "p95_latency" else f"{r.limit:.1%}",
            f"{r.window_s // 60} min",
            str(r.min_calls),
            "yes" if r.firing else "no",
        )
    _console.print(table)


@alerts.command("add-rule")
def add_rule_command(
    name: Annotated[str, typer.Argument(help="The rule's name.")],
    metric: Annotated[str, typer.Option(help="p95_latency (seconds) or error_rate (0..1).")],
    limit: Annotated[float, typer.Option(help="Alert when the metric is above this.")],
    window: Annotated[str, typer.Option(help="How far back: 5m, 15m, 1h ...")] = "15m",
    min_calls: Annotated[int, typer.Option(help="Ignore windows with fewer calls.")] = 10,
) -> None:
    """Create or replace a rule."""
    rule = set_alert_rule(
        name, metric, limit, window=window, min_calls=min_calls, store=cli_store()
    )
    typer.echo(f"rule {rule.name!r}: {rule.metric} > {rule.limit:g} over {rule.window_s} s")


@alerts.command("remove-rule")
def remove_rule_command(name: Annotated[str, typer.Argument(help="The rule's name.")]) -> None:
    """Delete a rule."""
    remove_alert_rule(name, store=cli_store())
    typer.echo(f"removed rule {name!r}")


@alerts.command("check")
def check_command(as_json: _Json = False) -> None:
    """Evaluate every rule now (recording does this every few seconds by itself)."""
    raised = check_alert_rules(store=cli_store())
    if as_json:
        typer.echo(json.dumps([a.to_dict() for a in raised], indent=2))
        return
    for alert in raised:
        typer.echo(alert.message)
    if not raised:
        typer.echo("no new alerts")
