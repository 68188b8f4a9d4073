"""``llmlab run``: one call to a model, streamed to stdout and recorded.

The typer command (help, one-line usage errors); a well-formed command line skips typer
altogether (``_run_call.py``) and runs the same :func:`run_call`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab.cli._app import app
from llmlab.cli._run_call import RunArgs, response_json, run_call
from llmlab.cli._store import cli_store

__all__ = ["response_json", "run_command"]


@app.command("run")
def run_command(
    prompt: Annotated[str, typer.Argument(help="What to ask.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="provider/model (default: LLMLAB_MODEL or local/smollm2)."
        ),
    ] = None,
    system: Annotated[str | None, typer.Option(help="A system prompt.")] = None,
    temperature: Annotated[
        float | None, typer.Option(min=0.0, help="Sampling temperature.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Most output tokens.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the response as JSON instead of streaming.")
    ] = False,
) -> None:
    """One call to a model: streams the reply to stdout and records the call."""
    args = RunArgs(prompt, model, system, temperature, max_tokens, as_json)
    run_call(args, cli_store())
