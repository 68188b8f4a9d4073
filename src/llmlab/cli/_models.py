"""``llmlab models``: the providers llmlab knows and whether their keys are set."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.table import Table

from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.models import ProviderInfo, default_model_name, provider_infos

__all__ = ["models"]

models = typer.Typer(help="Model providers and models.", no_args_is_help=True)
app.add_typer(models, name="models")

_console = stdout_console()


def _key_state(info: ProviderInfo) -> str:
    """ "set", "missing" or "not needed"; never the key itself."""
    if any(os.environ.get(name) for name in info.key_env_vars):
        return "set"
    return "missing" if info.key_required else "not needed"


def provider_rows() -> list[dict[str, Any]]:
    """One dict per provider: what ``llmlab models list --json`` prints."""
    return [
        {
            "provider": info.name,
            "description": info.description,
            "key_env_vars": list(info.key_env_vars),
            "key": _key_state(info),
            "example_models": [f"{info.name}/{m}" for m in info.example_models],
            "extra": info.extra,
        }
        for info in provider_infos()
    ]


@models.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Known providers, example models, and whether each provider's key is set."""
    rows = provider_rows()
    default = default_model_name()
    if as_json:
        typer.echo(json.dumps({"default_model": default, "providers": rows}, indent=2))
        return
    table = Table(title=f"providers (default model: {default})")
    table.add_column("provider", no_wrap=True)
    table.add_column("key")
    table.add_column("example models")
    for row in rows:
        key = row["key"]
        if row["key_env_vars"]:
            key = f"{key} ({' / '.join(row['key_env_vars'])})"
        table.add_row(row["provider"], key, "\n".join(row["example_models"]))
    _console.print(table)
    _console.print("`llmlab models list --json` adds each provider's description.", style="dim")
