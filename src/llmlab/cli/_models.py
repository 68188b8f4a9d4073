"""``llmlab models``: the providers llmlab knows and whether their keys are set."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from llmlab.cli._app import app
from llmlab.cli._console import stdout_console
from llmlab.cli._options import print_json
from llmlab.models import default_model_name, provider_infos

__all__ = ["models"]

models = typer.Typer(help="Model providers and models.", no_args_is_help=True)
app.add_typer(models, name="models")

_console = stdout_console()


@models.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Known providers, example models, and whether each provider's key is set."""
    infos = provider_infos()
    default = default_model_name()
    if as_json:
        print_json({"default_model": default, "providers": [i.to_dict() for i in infos]})
        return
    table = Table(title=f"providers (default model: {default})")
    table.add_column("provider", no_wrap=True)
    table.add_column("key")
    table.add_column("example models")
    for info in infos:
        key = info.key_state()
        if info.key_env_vars:
            key = f"{key} ({' / '.join(info.key_env_vars)})"
        examples = "\n".join(f"{info.name}/{m}" for m in info.example_models)
        table.add_row(info.name, key, examples)
    _console.print(table)
    _console.print("`llmlab models list --json` adds each provider's description.", style="dim")
