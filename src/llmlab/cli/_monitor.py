"""``llmlab monitor``: recorded calls, stats, budgets."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.table import Table

from llmlab._errors import InputError
from llmlab._limits import MAX_LISTED
from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._store import cli_store
from llmlab.monitor import (
    CallStatus,
    GroupStats,
    call_stats,
    export_calls,
    parse_window,
    reprice_calls,
)
from llmlab.pricing import dollars, plain_decimal
from llmlab.store import CallFilter, CallRow, recent_calls

__all__ = ["monitor"]

monitor = typer.Typer(help="Recorded calls: cost, latency, tokens.", no_args_is_help=True)
app.add_typer(monitor, name="monitor")

_console = stdout_console()
CALL_STATUSES: tuple[str, ...] = get_args(CallStatus)

_Since = Annotated[
    str | None, typer.Option(help="Start: 1h, 24h, 7d, or an ISO date/time. Default: all.")
]
_Until = Annotated[str | None, typer.Option(help="End (exclusive), same forms. Default: now.")]
_Output = Annotated[Path | None, typer.Option("--output", "-o", help="File (default stdout).")]


@monitor.command("calls")
def calls_command(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LISTED, help="How many calls.")
    ] = 20,
    model: Annotated[str | None, typer.Option(help="Only this model (or provider/model).")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status: ok, error ...")] = None,
    prompt: Annotated[str | None, typer.Option(help="Only this prompt (name or name@N).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only calls tagged KEY=VALUE.")] = None,
    min_cost: Annotated[
        str | None, typer.Option("--min-cost", help="Only calls costing at least this (USD).")
    ] = None,
    min_latency: Annotated[
        float | None, typer.Option("--min-latency", help="Only calls this slow or slower (s).")
    ] = None,
    since: _Since = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines' array.")] = False,
) -> None:
    """List the most recent calls, newest first."""
    tags: dict[str, str] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--tag {item!r}: expected KEY=VALUE")
        tags[key] = value
    _check_calls_filters(status, prompt)
    query = CallFilter(
        model=model,
        status=status,
        prompt=prompt,
        tags=tags,
        min_cost=_decimal_option("--min-cost", min_cost),
        min_latency_s=min_latency,
        since=parse_window(since)[0] if since else None,
    )
    rows = recent_calls(cli_store(), query, limit=limit)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], default=_json_default, indent=2))
        return
    _console.print(_table(rows))


def _check_calls_filters(status: str | None, prompt: str | None) -> None:
    """Refuse filters that can match nothing because they are misspelt."""
    if status is not None and status not in CALL_STATUSES:
        raise InputError(f"--status {status!r}: use one of: {', '.join(CALL_STATUSES)}")
    if prompt is not None:
        name, sep, version = prompt.partition("@")
        if not name or (sep and not version.isdigit()):
            raise InputError(f"--prompt {prompt!r}: expected NAME or NAME@VERSION, e.g. greet@2")


def _table(rows: list[CallRow]) -> Table:
    table = Table(title=f"{len(rows)} most recent call(s)" if rows else "no calls recorded yet")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("model")
    table.add_column("status")
    table.add_column("tokens in/out", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("TTFT", justify="right", no_wrap=True)
    for row in rows:
        status = row.status if not row.error_type else f"{row.status} ({row.error_type})"
        table.add_row(
            row.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{row.provider}/{row.resolved_model or row.requested_model}",
            status,
            f"{row.input_tokens}/{row.output_tokens}",
            _cost(row),
            f"{row.duration_s:.2f} s",
            f"{row.ttft_s:.2f} s" if row.ttft_s is not None else "-",
        )
    return table


def _cost(row: CallRow) -> str:
    if row.cost_status == "local":
        return "local"
    cost = row.cost
    if cost is None:
        return "unpriced"
    if row.cost_status == "estimated":
        return f"~{dollars(cost)} (estimated)"
    return dollars(cost)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_decimal(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


# --- stats, reprice, export (issue 5) ---------------------------------------------------


@monitor.command("stats")
def stats_command(
    since: Annotated[
        str | None, typer.Option(help="Start: 1h, 24h, 7d, or an ISO date/time. Default: all.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End (exclusive), same forms. Default: now.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Group by model, provider, prompt, arm, eval_run, tag:KEY, hour or day."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Calls, errors, tokens, cost, latency and TTFT percentiles over a window."""
    report = call_stats(since, until, by=by, store=cli_store())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    window = f"{report.since:%Y-%m-%d %H:%M} .. " if report.since else "all calls .. "
    title = f"{window}{report.until:%Y-%m-%d %H:%M} UTC" + (f", by {by}" if by else "")
    rows = [*report.groups, report.total] if report.groups else [report.total]
    for table in _stats_tables(title, rows, by):
        _console.print(table)
    _console.print(
        f"percentiles within ±{report.percentile_relative_error:.1%} (log-scale histograms)",
        style="dim",
    )


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _money(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return dollars(value)


def _stats_tables(title: str, rows: list[GroupStats], by: str | None) -> list[Table]:
    """Volume and cost, latency, and tokens by kind in three tables, so each fits a terminal."""
    key = by or "window"
    volume = Table(title=title)
    for name in (key, "calls", "errors", "tokens in/out", "cost", "$/call", "$/1k tok",
                 "unpriced", "cache hits", "cache saved"):  # fmt: skip
        volume.add_column(name, justify="left" if name == key else "right", overflow="fold")
    latency = Table(title="latency and time to first token (TTFT), cache hits left out")
    for name in (key, "p50", "p95", "p99", "TTFT p50", "TTFT p95", "TTFT p99", "out tok/s"):
        latency.add_column(name, justify="left" if name == key else "right", overflow="fold")
    tokens = Table(title="tokens by kind (input includes cache read and write)")
    for name in (key, "input", "output", "cache read", "cache write", "reasoning"):
        tokens.add_column(name, justify="left" if name == key else "right", overflow="fold")
    for g in rows:
        style = "bold" if g.key == "total" else None
        volume.add_row(
            g.key,
            str(g.calls),
            f"{g.errors} ({g.error_rate:.1%})" if g.calls else "0",
            f"{g.input_tokens}/{g.output_tokens}",
            _money(g.cost) if g.cost or not g.unpriced else "unpriced",
            _money(g.cost_per_call),
            _money(g.cost_per_1k_tokens),
            str(g.unpriced),
            str(g.cache_hits),
            _money(g.cache_savings),
            style=style,
        )
        latency.add_row(
            g.key,
            _secs(g.latency_p50_s),
            _secs(g.latency_p95_s),
            _secs(g.latency_p99_s),
            _secs(g.ttft_p50_s),
            _secs(g.ttft_p95_s),
            _secs(g.ttft_p99_s),
            f"{g.output_tokens_per_s:.1f}" if g.output_tokens_per_s is not None else "-",
            style=style,
        )
        tokens.add_row(
            g.key,
            str(g.input_tokens),
            str(g.output_tokens),
            str(g.cache_read_tokens),
            str(g.cache_write_tokens),
            str(g.reasoning_tokens),
            style=style,
        )
    return [volume, latency, tokens]


@monitor.command("reprice")
def reprice_command(
    since: Annotated[
        str | None, typer.Option(help="Start: 7d, an ISO date ... Default: all.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End (exclusive). Default: now.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, do not write.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute recorded costs with the current prices and overrides."""
    report = reprice_calls(since, until, dry_run=dry_run, store=cli_store())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    table = Table(title=f"{report.changed} of {report.examined} call(s) change price")
    for name in ("model", "calls", "old cost", "new cost", "difference", "newly priced",
                 "now unpriced"):  # fmt: skip
        table.add_column(name, justify="left" if name == "model" else "right")
    for m in report.models.values():
        table.add_row(
            m.model,
            str(m.calls),
            _money(m.old_cost),
            _money(m.new_cost),
            _money(m.new_cost - m.old_cost),
            str(m.newly_priced),
            str(m.now_unpriced),
        )
    _console.print(table)
    if dry_run:
        _console.print("dry run: nothing written", style="dim")
    elif report.changed:
        _console.print(f"updated {report.changed} call(s) and the rollups of their days")


@monitor.command("export")
def export_command(
    format: Annotated[str, typer.Option("--format", "-f", help="csv or jsonl.")] = "jsonl",
    since: Annotated[
        str | None, typer.Option(help="Start: 7d, an ISO date ... Default: all.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End (exclusive). Default: now.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    content: Annotated[bool, typer.Option(help="Include request and response text.")] = True,
) -> None:
    """Stream recorded calls as CSV or JSON lines (oldest first)."""
    if output is None:
        export_calls(
            sys.stdout, format=format, since=since, until=until, content=content, store=cli_store()
        )
        return
    with output.open("w", encoding="utf-8", newline="") as out:
        count = export_calls(
            out, format=format, since=since, until=until, content=content, store=cli_store()
        )
    typer.echo(f"wrote {count} call(s) to {output}", err=True)


def _decimal_option(option: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise InputError(f"{option} {value!r} is not a number of dollars, e.g. 0.01") from None
    if not amount.is_finite():
        raise InputError(f"{option} {value!r} is not a number of dollars, e.g. 0.01")
    return amount
