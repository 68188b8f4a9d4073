"""``llmlab serve``: the dashboard over the store (needs the ``llmlab[web]`` extra)."""

from __future__ import annotations

import importlib.util
import os
from typing import Annotated

import typer

from llmlab._errors import ConfigError
from llmlab.cli._app import app
from llmlab.cli._store import cli_store

__all__ = ["serve_command"]

TOKEN_ENV = "LLMLAB_TOKEN"


@app.command("serve")
def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(help=f"Access token every request must carry (default: ${TOKEN_ENV})."),
    ] = None,
) -> None:
    """The dashboard: runs, prompts, experiments, spend and latency, in the browser."""
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"llmlab serve needs {' and '.join(missing)}: pip install 'llmlab[web]'")
    from llmlab.web import check_bind, serve

    token = token or os.environ.get(TOKEN_ENV) or None
    check_bind(host, token)  # before opening the store: a refused start touches nothing
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    typer.echo(f"llmlab dashboard on http://{shown}:{port}/" + ("?token=…" if token else ""))
    serve(cli_store(), host=host, port=port, token=token)
