"""``llmlab monitor``: recorded calls, stats, budgets."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from llmlab._errors import InputError
from llmlab.cli._app import app
from llmlab.store import CallFilter, get_engine, recent_calls

__all__ = ["monitor"]

monitor = typer.Typer(help="Recorded calls: cost, latency, tokens.", no_args_is_help=True)
app.add_typer(monitor, name="monitor")

_console = Console(highlight=False)


@monitor.command("calls")
def calls_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many calls.")] = 20,
    model: Annotated[str | None, typer.Option(help="Only this model (or provider/model).")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status: ok, error ...")] = None,
    prompt: Annotated[str | None, typer.Option(help="Only this prompt (name or name@N).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only calls tagged KEY=VALUE.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines' array.")] = False,
) -> None:
    """List the most recent calls, newest first."""
    tags: dict[str, str] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--tag {item!r}: expected KEY=VALUE")
        tags[key] = value
    query = CallFilter(model=model, status=status, prompt=prompt, tags=tags)
    rows = recent_calls(get_engine(), query, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, default=_json_default, indent=2))
        return
    _console.print(_table(rows))


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} most recent call(s)" if rows else "no calls recorded yet")
    table.add_column("time (UTC)")
    table.add_column("model")
    table.add_column("status")
    table.add_column("tokens in/out", justify="right")
    table.add_column("cost", justify="right")
    table.add_column("latency", justify="right")
    table.add_column("TTFT", justify="right")
    for row in rows:
        status = (
            row["status"] if not row["error_type"] else f"{row['status']} ({row['error_type']})"
        )
        table.add_row(
            row["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
            f"{row['provider']}/{row['resolved_model'] or row['requested_model']}",
            status,
            f"{row['input_tokens']}/{row['output_tokens']}",
            _cost(row),
            f"{row['duration_s']:.2f} s",
            f"{row['ttft_s']:.2f} s" if row["ttft_s"] is not None else "-",
        )
    return table


def _cost(row: dict[str, Any]) -> str:
    if row["cost_status"] == "local":
        return "local"
    cost = row["cost"]
    if cost is None:
        return "unpriced"
    return f"${cost.normalize():f}" if cost else "$0"


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value else "0"
    raise TypeError(f"cannot serialize {type(value).__name__}")
