"""``llmlab run``: one call to a model, streamed to stdout and recorded."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console

from llmlab.cli._app import app
from llmlab.cli._console import end_partial_line, stream_text
from llmlab.cli._store import cli_store
from llmlab.models import Model, Request, Response, TextDelta, get_model
from llmlab.monitor import flush
from llmlab.pricing import dollars, plain_decimal

__all__ = ["run_command"]

_stderr = Console(stderr=True, highlight=False)


async def _call(model: Model, request: Request, *, echo: bool) -> Response:
    try:
        response: Response | None = None
        async for item in model.stream(request):
            if isinstance(item, TextDelta):
                if echo:
                    stream_text(item.text)
            else:
                response = item
        assert response is not None
        return response
    finally:
        await model.close_loop_clients()


def response_json(model: Model, response: Response) -> dict[str, Any]:
    """What ``llmlab run --json`` prints."""
    return {
        "call_id": response.call_id,
        "model": model.full_name,
        "resolved_model": response.model,
        "text": response.text,
        "finish_reason": response.finish_reason,
        "usage": response.usage.model_dump(),
        "usage_reported": response.usage_reported,
        "cost": plain_decimal(response.cost) if response.cost is not None else None,
        "cost_status": response.cost_status,
        "duration_s": round(response.duration_s, 6),
        "ttft_s": round(response.ttft_s, 6) if response.ttft_s is not None else None,
        "cache_hit": response.cache_hit,
    }


def _summary(model: Model, response: Response) -> str:
    usage = response.usage
    if response.cost_status == "unpriced":
        cost = "unpriced"
    elif response.cost_status == "local":
        cost = "local"
    else:
        cost = dollars(response.cost or Decimal(0))
    ttft = f" · first token {response.ttft_s:.2f} s" if response.ttft_s is not None else ""
    tokens = f"{usage.input_tokens} in / {usage.output_tokens} out"
    if not response.usage_reported:
        tokens = "usage not reported"
    return (
        f"{model.full_name} · {tokens} · {cost} · {response.duration_s:.2f} s{ttft}"
        f" · call {response.call_id}"
    )


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
    request = Request.of(prompt, system=system, temperature=temperature, max_tokens=max_tokens)
    store = cli_store()
    managed = get_model(model, store=store)
    try:
        response = asyncio.run(_call(managed, request, echo=not as_json))
    finally:
        flush(store)
    if as_json:
        typer.echo(json.dumps(response_json(managed, response), indent=2))
        return
    if not response.text.endswith("\n"):
        stream_text("\n")
    end_partial_line()
    _stderr.print(_summary(managed, response), style="dim", soft_wrap=True)
