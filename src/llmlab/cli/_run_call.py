"""``llmlab run`` without typer: its body, and the plain command lines it takes directly.

typer and rich cost about 0.06 s of CPU to import and set up, a fifth of what the command
may add to the model call (issue 8). ``llmlab run PROMPT [-m MODEL] [--system TEXT]
[--temperature T] [--max-tokens N] [--json]`` with well-formed values is therefore parsed
here and run without them; anything else (``--help``, an unknown option, a bad value,
options given twice ...) goes through the typer command in ``_run.py``, which prints the
usual help and one-line errors and then runs the same :func:`run_call`.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from llmlab.cli._console import end_partial_line, stream_text

if TYPE_CHECKING:
    from llmlab.models import CostStatus, Model, Request, Response
    from llmlab.store import Store

__all__ = [
    "RunArgs",
    "RunJson",
    "parse_run_args",
    "response_json",
    "run_call",
    "run_with_own_store",
]


@dataclass(frozen=True, slots=True)
class RunArgs:
    """What ``llmlab run`` was asked to do."""

    prompt: str
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    as_json: bool = False


_VALUED = {
    "--model": "model",
    "-m": "model",
    "--system": "system",
    "--temperature": "temperature",
    "--max-tokens": "max_tokens",
}


def parse_run_args(args: list[str]) -> RunArgs | None:
    """``args`` (after ``run``) as :class:`RunArgs`, or None when typer must handle them."""
    texts: dict[str, str] = {}  # model, system
    temperature: float | None = None
    max_tokens: int | None = None
    as_json = False
    seen: set[str] = set()
    prompt: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--json" and not as_json:
            as_json = True
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        key = _VALUED.get(name)
        if key is not None and key not in seen:
            seen.add(key)
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            if key == "temperature":
                try:
                    temperature = float(value)
                except ValueError:
                    return None
                if not (math.isfinite(temperature) and temperature >= 0):
                    return None
            elif key == "max_tokens":
                try:
                    max_tokens = int(value)
                except ValueError:
                    return None
                if max_tokens < 1:
                    return None
            else:
                texts[key] = value
            continue
        if arg.startswith("-") or prompt is not None:
            return None  # --help, an unknown option, a second argument: typer says what
        prompt = arg
    if prompt is None:
        return None
    return RunArgs(
        prompt,
        model=texts.get("model"),
        system=texts.get("system"),
        temperature=temperature,
        max_tokens=max_tokens,
        as_json=as_json,
    )


async def _call(model: Model, request: Request, *, echo: bool) -> Response:
    from llmlab.models import TextDelta

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


class RunJson(TypedDict):
    """What ``llmlab run --json`` prints (in this order)."""

    call_id: str | None
    model: str
    resolved_model: str
    text: str
    finish_reason: str | None
    usage: dict[str, int]
    usage_reported: bool
    cost: str | None
    cost_status: CostStatus
    duration_s: float
    ttft_s: float | None
    cache_hit: bool


def response_json(model: Model, response: Response) -> RunJson:
    """What ``llmlab run --json`` prints."""
    from llmlab.pricing import plain_decimal

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


def summary_line(model: Model, response: Response) -> str:
    """The line ``llmlab run`` prints on stderr after the reply."""
    from llmlab.pricing import dollars

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


def _dim(text: str) -> str:
    # What rich prints for style="dim": the attribute on a terminal, plain text elsewhere.
    tty = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    return f"\x1b[2m{text}\x1b[0m" if tty and os.environ.get("TERM") != "dumb" else text


def run_call(args: RunArgs, store: Store) -> None:
    """One call to a model: streams the reply to stdout, records the call, and prints a
    summary line on stderr (or the response as JSON with ``--json``)."""
    from llmlab.models import Request, get_model
    from llmlab.monitor import flush

    request = Request.of(
        args.prompt, system=args.system, temperature=args.temperature, max_tokens=args.max_tokens
    )
    managed = get_model(args.model, store=store)
    try:
        response = asyncio.run(_call(managed, request, echo=not args.as_json))
    finally:
        flush(store)
    if args.as_json:
        sys.stdout.write(json.dumps(response_json(managed, response), indent=2) + "\n")
        return
    if not response.text.endswith("\n"):
        stream_text("\n")
    end_partial_line()
    sys.stderr.write(_dim(summary_line(managed, response)) + "\n")
    sys.stderr.flush()


def run_with_own_store(args: RunArgs) -> None:
    """:func:`run_call` on the store of ``LLMLAB_DB`` (as ``cli_store()`` opens it), made
    the default handle while the command runs and closed (flushed) at the end."""
    import llmlab
    from llmlab.store import current_default_store, database_url, set_default_store

    default = current_default_store()
    if default is not None and default.url == database_url():
        run_call(args, default)
        return
    store = llmlab.open()
    previous = set_default_store(store)
    try:
        run_call(args, store)
    finally:
        set_default_store(previous)
        store.close()
