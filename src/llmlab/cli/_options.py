"""Parsing of repeatable ``KEY=VALUE`` options, the one way for every command."""

from __future__ import annotations

import json
from typing import Any, Literal, overload

from llmlab._errors import InputError

__all__ = ["parse_key_values", "print_json"]


@overload
def parse_key_values(
    items: list[str] | None, option: str, *, typed: Literal[False] = ..., allow_bare: bool = ...
) -> dict[str, str | None]: ...


@overload
def parse_key_values(
    items: list[str] | None, option: str, *, typed: Literal[True], allow_bare: bool = ...
) -> dict[str, object]: ...


def parse_key_values(
    items: list[str] | None, option: str, *, typed: bool = False, allow_bare: bool = False
) -> dict[str, str | None] | dict[str, object]:
    """``["a=1", "b=x"]`` as a dict; ``option`` names the flag in errors.

    ``typed`` reads each value as YAML (``3`` an int, ``true`` a bool, ``[1, 2]`` a list);
    otherwise values stay text. ``allow_bare`` accepts ``KEY`` alone (value None).

    Raises:
        InputError: an item has no ``=`` (and bare keys are not allowed) or an empty key, or
            a typed value is not valid YAML.
    """
    out: dict[str, object] = {}  # free-form values: text, or YAML with typed
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key or (not sep and not allow_bare):
            raise InputError(f"{option} {item!r}: expected KEY=VALUE")
        if not sep:
            out[key] = None
        elif typed:
            out[key] = _yaml_value(value, option, item)
        else:
            out[key] = value
    return out


def _yaml_value(value: str, option: str, item: str) -> Any:
    import yaml  # only the commands with typed options pay for it

    if not value:
        return ""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "bad value"
        raise InputError(f"{option} {item!r}: cannot read the value ({first})") from exc


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (Decimals and dates as text), the ``--json`` format."""
    import typer

    typer.echo(json.dumps(data, indent=2, default=str, allow_nan=False))
