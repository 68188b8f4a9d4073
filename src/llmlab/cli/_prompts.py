"""``llmlab prompts``: versions, labels, diff, archive, files, offline A/B."""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import Progress, TaskID
from rich.table import Table

from llmlab._errors import InputError
from llmlab._limits import MAX_CONCURRENCY, MAX_EPOCHS
from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._options import parse_key_values, print_json
from llmlab.cli._store import cli_store
from llmlab.evals import Progress as RunProgress
from llmlab.evals import load_suite
from llmlab.models import option_error_text
from llmlab.pricing import plain_number
from llmlab.prompts import (
    ABComparison,
    CallMetrics,
    MeanEstimate,
    PromptRef,
    PromptRegistry,
    PromptVersion,
    QualityMetrics,
    compare_prompt_versions,
    prompt_registry,
    pull_prompts,
    push_prompts,
    read_prompt_file,
    version_metrics,
)
from llmlab.prompts._files import SUFFIXES

__all__ = ["prompts"]

prompts = typer.Typer(
    help="Prompt versions, labels, diffs and A/B comparisons.", no_args_is_help=True
)
app.add_typer(prompts, name="prompts")

_console = stdout_console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
VarOption = Annotated[
    list[str] | None, typer.Option("--var", help="KEY=VALUE (repeatable).", show_default=False)
]


def _registry() -> PromptRegistry:
    """The registry of the command's store (opened once, closed when the command ends)."""
    return prompt_registry(store=cli_store())


@prompts.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    template: Annotated[str | None, typer.Option("--template", "-t", help="Template text.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Template file (.yaml/.md prompt files too)."),
    ] = None,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Declare KEY[=DEFAULT] (repeatable).")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", "-l", help="Point LABEL at it.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="What changed.")] = None,
    model: Annotated[str | None, typer.Option(help="Model configuration: provider/model.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Model temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Model max tokens.")] = None,
    syntax: Annotated[str, typer.Option(help="auto, jinja or format ({var}).")] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Register a new version (identical content returns the existing one)."""
    if (template is None) == (file is None):
        raise InputError("give exactly one of --template TEXT or --file F")
    if syntax not in ("auto", "jinja", "format"):
        raise InputError(f"--syntax {syntax!r}: expected auto, jinja or format")
    config = {
        k: v
        for k, v in (("model", model), ("temperature", temperature), ("max_tokens", max_tokens))
        if v is not None
    }
    if file is not None and file.suffix in SUFFIXES:
        if var or config or syntax != "auto":
            raise InputError(
                "--var, --model, --temperature, --max-tokens and --syntax do not apply to a "
                "prompt file; set them in the file",
                path=file,
            )
        version = read_prompt_file(file).version
    else:
        text = template
        if file is not None:
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror}", path=file) from None
        try:
            version = PromptVersion(
                text or "",
                parse_key_values(var, "--var", allow_bare=True),
                config=config,
                message=message,
                syntax=syntax,  # type: ignore[arg-type]
                name=name,
            )
        except ValidationError as exc:  # the model configuration (--temperature ...)
            raise InputError(f"prompt {name!r}: {option_error_text(exc)}") from None
    stored, created = _registry().add(name, version, label=label, message=message)
    if as_json:
        print_json(
            {
                "name": name,
                "version": stored.version,
                "hash": stored.version_hash,
                "created": created,
            }
        )
        return
    state = "new" if created else "unchanged: identical to an existing version"
    typer.echo(f"{name}:{stored.version} #{stored.version_hash} ({state})")


@prompts.command("list")
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Include archived prompts.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List prompts with their newest version and labels."""
    items = _registry().list_prompts(include_archived=all_)
    if as_json:
        print_json([s.to_dict() for s in items])
        return
    table = Table(title=f"{len(items)} prompt(s)" if items else "no prompts yet")
    for col in ("name", "versions", "labels", "updated (UTC)"):
        table.add_column(col)
    for s in items:
        labels = ", ".join(f"{k}→{v}" for k, v in sorted(s.labels.items()))
        table.add_row(s.name, str(s.versions), labels, f"{s.updated_at:%Y-%m-%d %H:%M}")
    _console.print(table)


def _fmt(estimate: MeanEstimate | None, digits: int = 3, *, interval: bool = True) -> str:
    """``mean [low, high]`` to ``digits`` significant digits, plain decimals (never
    ``7.5e-06``); the mean alone without an interval; ``-`` without a mean."""
    if estimate is None or estimate.n == 0:
        return "-"
    mean = plain_number(estimate.mean, digits)
    if not interval or not (math.isfinite(estimate.low) and math.isfinite(estimate.high)):
        return mean
    return f"{mean} [{plain_number(estimate.low, digits)}, {plain_number(estimate.high, digits)}]"


def _percentiles(p50: float | None, p95: float | None) -> str:
    """``p50/p95`` in plain decimals; ``-`` when no call succeeded."""
    if p50 is None or p95 is None:
        return "-"
    return f"{plain_number(p50, 3)}/{plain_number(p95, 3)}"


def _count(estimate: MeanEstimate | None) -> str:
    """A mean count of tokens, whole; ``-`` without a mean."""
    return "-" if estimate is None or estimate.n == 0 else f"{estimate.mean:.0f}"


@prompts.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@label or NAME:N.")],
    all_: Annotated[bool, typer.Option("--all", help="Include archived versions.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show versions with measured quality (evals), tokens, cost and latency (calls)."""
    registry = _registry()
    parsed = PromptRef.parse(ref)
    if parsed.label is None and parsed.version is None and parsed.hash is None:
        versions = registry.versions(parsed.name, include_archived=all_)
    else:
        versions = [registry.get(ref)]
    labels = registry.labels(parsed.name)
    metrics = version_metrics(parsed.name, store=registry.store)
    rows = [
        _ShownVersion(
            v,
            sorted(k for k, n in labels.items() if n == v.version),
            *metrics.get(v.version or 0, (None, None)),
        )
        for v in versions
    ]
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    _show_table(parsed.name, rows)
    if len(versions) == 1:
        _console.print(versions[0].template_text(), markup=False)


@dataclass(frozen=True, slots=True)
class _ShownVersion:
    """One row of ``prompts show``: a version, its labels and its measured numbers."""

    version: PromptVersion
    labels: list[str]
    calls: CallMetrics | None
    quality: QualityMetrics | None

    def to_dict(self) -> dict[str, object]:
        return {
            **self.version.to_dict(),
            "labels": self.labels,
            "calls": self.calls.to_dict() if self.calls else None,
            "quality": self.quality.to_dict() if self.quality else None,
        }


def _show_table(name: str, rows: list[_ShownVersion]) -> None:
    table = Table(title=f"prompt {name}")
    for col in (
        "ver",
        "hash",
        "labels",
        "message",
        "eval score [95% CI]",
        "pass",
        "calls",
        "tokens in/out",
        "cost/call",
        "latency s p50/p95",
    ):
        table.add_column(col)
    for r in rows:
        v, q, c = r.version, r.quality, r.calls
        table.add_row(
            f"{v.version}{' (archived)' if v.archived else ''}",
            v.version_hash,
            ", ".join(r.labels),
            (v.message or "")[:40],
            _fmt(q.score) if q else "-",
            format(q.pass_rate, ".0%") if q and q.pass_rate is not None else "-",
            str(c.calls) if c else "0",
            f"{_count(c.input_tokens)}/{_count(c.output_tokens)}" if c else "-",
            _fmt(c.cost, 2, interval=False) if c else "-",
            _percentiles(c.latency_p50_s, c.latency_p95_s) if c else "-",
        )
    _console.print(table)


@prompts.command("render")
def render_command(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@label, NAME:N or NAME#hash.")],
    var: VarOption = None,
) -> None:
    """Render a version with --var KEY=VALUE (missing variables are an error)."""
    version = _registry().get(ref)
    typer.echo(version.render(**parse_key_values(var, "--var")))


@prompts.command("diff")
def diff_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    a: Annotated[str, typer.Argument(help="Version A (N, @label or #hash).")],
    b: Annotated[str, typer.Argument(help="Version B.")],
    as_json: JsonOption = False,
) -> None:
    """Show what changed from A to B: template, variables, model configuration."""
    diff = _registry().diff(name, a, b)
    if as_json:
        print_json(diff.to_dict())
        return
    typer.echo(diff.to_text(), nl=False)


@prompts.command("label")
def label_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    label: Annotated[str, typer.Argument(help="Label: production, staging, any name.")],
    version: Annotated[str, typer.Argument(help="Version: N, #hash or @other-label.")],
) -> None:
    """Point LABEL at VERSION (recorded in the label history)."""
    move = _registry().set_label(name, label, version)
    if move is None:
        typer.echo(f"{name}@{label} already points there; nothing changed")
    else:
        before = f"{move.from_version}" if move.from_version is not None else "(unset)"
        typer.echo(f"{name}@{label}: {before} -> {move.to_version}")


@prompts.command("rollback")
def rollback_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    label: Annotated[str, typer.Argument(help="Label to move back.")] = "production",
) -> None:
    """Move LABEL back to the version it pointed at before its last move."""
    move = _registry().rollback(name, label)
    typer.echo(f"{name}@{label}: {move.from_version} -> {move.to_version} (rollback)")


@prompts.command("history")
def history_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    label: Annotated[str | None, typer.Option(help="Only this label.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The audit history of label moves: who, when, from, to."""
    moves = _registry().history(name, label)
    if as_json:
        print_json([m.to_dict() for m in moves])
        return
    table = Table(title=f"label history of {name}" if moves else "no label moves yet")
    for col in ("time (UTC)", "label", "from", "to", "kind", "who"):
        table.add_column(col)
    for m in moves:
        table.add_row(
            f"{m.at:%Y-%m-%d %H:%M:%S}",
            m.label,
            "-" if m.from_version is None else str(m.from_version),
            str(m.to_version),
            m.kind,
            m.actor or "",
        )
    _console.print(table)


@prompts.command("archive")
def archive_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    version: Annotated[str, typer.Argument(help="Version: N or #hash.")],
    undo: Annotated[bool, typer.Option("--undo", help="Restore it instead.")] = False,
) -> None:
    """Hide a version from listings (still resolvable by number or hash, with a warning)."""
    v = _registry().archive(name, version, archived=not undo)
    typer.echo(f"{name}:{v.version} {'restored' if undo else 'archived'}")


@prompts.command("push")
def push_command(
    folder: Annotated[Path, typer.Argument(help="Folder (or file) of prompt files.")] = Path(
        "prompts"
    ),
    as_json: JsonOption = False,
) -> None:
    """Register new versions from YAML / Markdown prompt files (unchanged files add none)."""
    results = push_prompts(folder, _registry())
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        state = "new" if r.created else "unchanged"
        moved = f", labels moved: {', '.join(r.labels_moved)}" if r.labels_moved else ""
        typer.echo(f"{r.name}:{r.version} #{r.hash} ({state}{moved})  {r.path}")
    if not results:
        typer.echo(f"no prompt files (*.yaml, *.yml, *.md) under {folder}")


@prompts.command("pull")
def pull_command(
    folder: Annotated[Path, typer.Argument(help="Folder to write prompt files to.")] = Path(
        "prompts"
    ),
    name: Annotated[list[str] | None, typer.Option("--name", help="Only these prompts.")] = None,
    label: Annotated[str | None, typer.Option(help="Write this label's version.")] = None,
) -> None:
    """Write prompts from the registry as files (production, else latest, or --label)."""
    try:
        paths = list(pull_prompts(folder, _registry(), name, label=label))
    except OSError as exc:  # the folder is a file, or cannot be written
        where = exc.filename or folder
        raise InputError(f"cannot write prompt files: {exc.strerror or exc}", path=where) from None
    for path in paths:
        typer.echo(str(path))


def _fraction(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InputError(
            f"{option} {text!r}: expected a fraction (0.1) or a percentage (10%)"
        ) from None


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, RunProgress], None] | None]:
    """A Rich bar per version while stdout is a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    tasks: dict[str, TaskID] = {}
    with Progress(*Progress.get_default_columns(), transient=True) as bar:

        def update(label: str, state: RunProgress) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=state.total)
            bar.update(tasks[label], completed=state.done)

        yield update


@prompts.command("compare")
def compare_command(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    a: Annotated[str, typer.Argument(help="Version A, the baseline (N, @label, #hash).")],
    b: Annotated[str, typer.Argument(help="Version B, the candidate.")],
    suite: Annotated[Path, typer.Option("--suite", "-s", help="Eval suite file (YAML).")],
    epochs: Annotated[
        int | None, typer.Option(min=1, max=MAX_EPOCHS, help="Trials per case.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="provider/model.")] = None,
    promote: Annotated[str | None, typer.Option(help="Move LABEL to B if it wins.")] = None,
    max_cost_increase: Annotated[
        str | None, typer.Option(help="Largest cost rise per case for --promote (10% or 0.1).")
    ] = None,
    max_latency_increase: Annotated[
        str | None, typer.Option(help="Largest latency rise per case for --promote.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=MAX_CONCURRENCY, help="Cases in flight.")
    ] = 10,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache", help="Reuse cached answers (cost and latency deltas then mean little)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run A and B on the suite's cases and give the paired verdict.

    With --promote, exit 1 when B did not pass the gate (the label stays).
    """
    loaded = load_suite(suite)
    with _progress(sys.stdout.isatty() and not as_json) as progress:
        result = asyncio.run(
            compare_prompt_versions(
                name,
                a,
                b,
                loaded,
                epochs=epochs,
                model=model,
                promote=promote,
                max_cost_increase=_fraction(max_cost_increase, "--max-cost-increase"),
                max_latency_increase=_fraction(max_latency_increase, "--max-latency-increase"),
                concurrency=concurrency,
                cache=cache,
                registry=_registry(),
                progress=progress,
            )
        )
    if as_json:
        print_json(result.to_dict())
    else:
        _print_comparison(result)
    if promote is not None and not result.gate_passed:
        raise typer.Exit(1)


def _difference(estimate: float, low: float, high: float, digits: int) -> str:
    """``+0.0000021 [-0.000001, +0.0000052]``: signed plain decimals (costs are tiny)."""
    low_text, high_text = (plain_number(x, digits, sign=True) for x in (low, high))
    return f"{plain_number(estimate, digits, sign=True)} [{low_text}, {high_text}]"


def _print_comparison(result: ABComparison) -> None:
    _console.print(
        f"[bold]{result.name}[/]: A = v{result.a.version} (run {result.run_a.id}), "
        f"B = v{result.b.version} (run {result.run_b.id})"
    )
    table = Table(title="paired tests (B - A)")
    for col in ("metric", "n", "A", "B", "B - A [95% CI]", "p (Holm)"):
        table.add_column(col)
    for t in result.comparison.tests:
        d = t.difference
        table.add_row(
            t.metric,
            str(t.n),
            plain_number(t.a_mean, 3),
            plain_number(t.b_mean, 3),
            _difference(d.estimate, d.low, d.high, 3),
            plain_number(t.p_adjusted, 3),
        )
    _console.print(table)
    deltas = Table(title="per-case means (B - A)")
    for col in ("metric", "A", "B", "B - A [95% CI]", "relative"):
        deltas.add_column(col)
    for metric, m in result.deltas.items():
        d = m.difference
        rel = "-" if math.isinf(m.relative) else f"{m.relative:+.1%}"
        deltas.add_row(
            metric,
            plain_number(m.a, 4),
            plain_number(m.b, 4),
            _difference(d.estimate, d.low, d.high, 4),
            rel,
        )
    _console.print(deltas)
    _console.print(f"verdict: {result.verdict}", markup=False)
    _console.print(f"gate: {result.gate}", markup=False)
