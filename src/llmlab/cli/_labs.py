"""``llmlab labs``: the hands-on curriculum (list, start, check, hint, watch, ...)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from llmlab._errors import InputError
from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._options import print_json
from llmlab.cli._store import cli_store
from llmlab.labs import (
    TRACKS,
    Lab,
    LabStatus,
    check_lab,
    copy_starter,
    find_lab,
    find_workspace,
    lab_in_folder,
    lab_statuses,
    learner_files,
    load_labs,
    next_lab,
    progress_of,
    record_attempt,
    report_lines,
    reset_starter,
    reveal_solution,
    show_hint,
    solution_files,
    start_progress,
    verify_labs,
    watch_files,
)

__all__ = ["labs"]

labs = typer.Typer(
    help="Hands-on labs: edit real files, `llmlab labs check`, get measured feedback."
)
app.add_typer(labs, name="labs")

_console = stdout_console()

_Number = Annotated[str, typer.Argument(help="The lab: its number or slug.")]
_OptionalNumber = Annotated[
    str | None,
    typer.Argument(help="The lab (default: the lab folder you are in, else the current lab)."),
]
_Model = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Grade with this model (default: local/smollm2)."),
]


def _workspace() -> Path:
    return find_workspace(Path.cwd())


def _lab_dir(workspace: Path, lab: Lab) -> Path:
    row = progress_of(workspace, lab)
    return Path(row.lab_dir) if row is not None else workspace / lab.name


def _current(number: str | None) -> tuple[Lab, Path, Path]:
    """The lab a command is about, the learner's folder for it, and the workspace."""
    cli_store()
    here = lab_in_folder(Path.cwd())
    if here is not None and (number is None or find_lab(number) is here[0]):
        return here
    workspace = _workspace()
    if number is not None:
        lab = find_lab(number)
        return lab, _lab_dir(workspace, lab), workspace
    status = next_lab(lab_statuses(workspace))
    if status is None or status.status != "in progress" or status.progress is None:
        raise InputError("say which lab (`llmlab labs check 1`), or run it inside a lab folder")
    return status.lab, Path(status.progress.lab_dir), workspace


def _status_table(statuses: list[LabStatus]) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("#", "lab", "track", "model", "status", "checks"):
        table.add_column(column)
    marks = {"done": "✔ done", "in progress": "… in progress", "not started": "· not started"}
    for status in statuses:
        lab = status.lab
        table.add_row(
            f"{lab.number:2d}",
            f"{lab.title} ({lab.slug})",
            lab.track,
            "yes" if lab.uses_model else "no",
            marks[status.status],
            str(status.progress.attempts) if status.progress else "",
        )
    return table


def _overview(as_json: bool) -> None:
    cli_store()
    workspace = _workspace()
    statuses = lab_statuses(workspace)
    done = sum(s.status == "done" for s in statuses)
    upcoming = next_lab(statuses)
    if as_json:
        print_json(
            {
                "workspace": str(workspace),
                "done": done,
                "total": len(statuses),
                "next": upcoming.lab.number if upcoming else None,
                "labs": [s.to_dict() for s in statuses],
            }
        )
        return
    _console.print(_status_table(statuses))
    _console.print(f"\nprogress: {done}/{len(statuses)} labs done · workspace {workspace}")
    if upcoming is not None:
        verb = "check" if upcoming.status == "in progress" else "start"
        _console.print(
            f"next: lab {upcoming.lab.number}, {upcoming.lab.title} → "
            f"`llmlab labs {verb} {upcoming.lab.number}`"
        )
    else:
        _console.print("every lab is done.")


@labs.callback(invoke_without_command=True)
def labs_root(ctx: typer.Context) -> None:
    """Without a command: the labs, their status, the next lab and your progress."""
    if ctx.invoked_subcommand is None:
        _overview(as_json=False)


@labs.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The labs with their status, the next lab and overall progress."""
    _overview(as_json)


@labs.command("start")
def start_command(
    number: _Number,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to put the lab's files.")
    ] = None,
) -> None:
    """Copy a lab's starter files into your workspace and show its brief."""
    cli_store()
    lab = find_lab(number)
    workspace = _workspace()
    lab_dir = (directory or _lab_dir(workspace, lab)).resolve()
    copied = copy_starter(lab, lab_dir, workspace)
    start_progress(workspace, lab, lab_dir)
    _console.print(lab.brief, markup=False)
    _console.print(f"files in {lab_dir}: {', '.join(copied.copied) or 'none new'}")
    for name in copied.kept:
        _console.print(f"kept your edited {name} (not overwritten; `labs reset {lab.number}`)")
    _console.print(f"\nnext: edit {', '.join(lab.files)}, then `llmlab labs check {lab.number}`")


@labs.command("check")
def check_command(
    number: _OptionalNumber = None,
    model: _Model = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Grade your files: exit 0 passed, 1 not yet, 2 a file is wrong (file:line)."""
    lab, lab_dir, workspace = _current(number)
    if progress_of(workspace, lab) is None:
        start_progress(workspace, lab, lab_dir)
    if lab.uses_model and not as_json and lab.seconds >= 10:
        print(f"checking lab {lab.number} (about {lab.seconds} s) ...", file=sys.stderr)
    started = time.monotonic()
    try:
        report = check_lab(lab, lab_dir, model=model, store=cli_store())
    except InputError as exc:
        record_attempt(workspace, lab, None, error=exc, duration_s=time.monotonic() - started)
        raise
    record_attempt(workspace, lab, report)
    if as_json:
        print_json(report.to_dict())
    else:
        for line in report_lines(report, number=lab.number):
            _console.print(line, markup=False)
    if not report.passed:
        raise typer.Exit(1)


@labs.command("hint")
def hint_command(number: _OptionalNumber = None) -> None:
    """The lab's hints so far, and one more each time."""
    lab, _, workspace = _current(number)
    hints = show_hint(workspace, lab)
    for index, hint in enumerate(hints, 1):
        _console.print(f"hint {index}/{len(lab.hints)}: {hint}", markup=False)
    if len(hints) == len(lab.hints):
        _console.print("(that is every hint)")


@labs.command("watch")
def watch_command(
    number: _OptionalNumber = None,
    model: _Model = None,
    interval: Annotated[float, typer.Option(help="Seconds between looks at the files.")] = 0.5,
    max_checks: Annotated[
        int | None, typer.Option(help="Stop after this many checks (default: until q).")
    ] = None,
) -> None:
    """Check now and again on every save; Enter re-checks, q quits."""
    lab, lab_dir, workspace = _current(number)

    def check() -> None:
        started = time.monotonic()
        _console.rule(f"lab {lab.number} · {time.strftime('%H:%M:%S')}")
        try:
            report = check_lab(lab, lab_dir, model=model, store=cli_store())
        except InputError as exc:
            record_attempt(workspace, lab, None, error=exc, duration_s=time.monotonic() - started)
            _console.print(f"error: {exc}", markup=False)
            return
        record_attempt(workspace, lab, report)
        for line in report_lines(report, number=lab.number):
            _console.print(line, markup=False)

    def waiting() -> None:
        _console.print("watching for changes (Enter: check again, q: quit) ...")

    watch_files(
        learner_files(lab, lab_dir),
        check,
        interval=interval,
        max_checks=max_checks,
        keys=sys.stdin,
        waiting=waiting,
    )


@labs.command("reset")
def reset_command(
    number: _Number,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Put the starter files back (your edits to them are lost)."""
    lab, lab_dir, workspace = _current(number)
    if not yes:
        typer.confirm(f"Overwrite your files in {lab_dir} with the starter?", abort=True)
    restored = reset_starter(lab, lab_dir, workspace)
    _console.print(f"restored {', '.join(restored)} in {lab_dir}")


@labs.command("solution")
def solution_command(
    number: _Number,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show it before passing (asks first).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """The reference solution: once the lab passes, or with --reveal."""
    lab, _, workspace = _current(number)
    row = progress_of(workspace, lab)
    if row is None or row.passed_at is None:
        if not reveal:
            raise InputError(
                f"lab {lab.number} has not passed yet; try `llmlab labs hint {lab.number}`, "
                f"or `llmlab labs solution {lab.number} --reveal`"
            )
        if not yes:
            typer.confirm("Show the solution before you have passed?", abort=True)
    reveal_solution(workspace, lab)
    for name in solution_files(lab):
        _console.rule(name)
        _console.print((lab.solution / name).read_text(encoding="utf-8"), markup=False)


@labs.command("progress")
def progress_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Labs done per track, and overall."""
    cli_store()
    workspace = _workspace()
    statuses = lab_statuses(workspace)
    tracks = {
        track: [s for s in statuses if s.lab.track == track]
        for track in TRACKS
        if any(s.lab.track == track for s in statuses)
    }
    done = sum(s.status == "done" for s in statuses)
    if as_json:
        print_json(
            {
                "workspace": str(workspace),
                "done": done,
                "total": len(statuses),
                "tracks": {
                    track: {"done": sum(s.status == "done" for s in items), "total": len(items)}
                    for track, items in tracks.items()
                },
                "labs": [s.to_dict() for s in statuses],
            }
        )
        return
    for track, items in tracks.items():
        finished = sum(s.status == "done" for s in items)
        bar = "█" * finished + "░" * (len(items) - finished)
        _console.print(f"{track:<22} {bar} {finished}/{len(items)}")
    _console.print(f"{'all labs':<22} {done}/{len(statuses)} done")


@labs.command("verify")
def verify_command(
    number: Annotated[list[str] | None, typer.Argument(help="Labs (default: all).")] = None,
    alternates: Annotated[
        Path | None,
        typer.Option(help="Folder of second solutions (default: tests/labs/solutions)."),
    ] = None,
    model: _Model = None,
) -> None:
    """Curriculum CI: each starter fails, each reference and second solution passes."""
    store = cli_store()
    chosen = [find_lab(n) for n in number] if number else list(load_labs())
    folder = alternates or Path("tests/labs/solutions")
    if not folder.is_dir():
        _console.print(f"no second solutions in {folder}: checking starters and references only")
    results = verify_labs(
        chosen,
        alternates=folder if folder.is_dir() else None,
        model=model,
        store=store,
        on_result=lambda r: _console.print(
            f"{'✔' if r.ok else '✘'} {r.lab} {r.stage}: {r.detail} ({r.seconds:.1f} s)",
            markup=False,
        ),
    )
    bad = [r for r in results if not r.ok]
    _console.print(f"{len(results) - len(bad)}/{len(results)} stages as expected")
    if bad:
        raise typer.Exit(1)
