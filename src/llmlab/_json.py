"""JSON types: what a free-form JSON value may hold, so mypy can see what leaks into one.

``JsonValue`` is strict JSON: a ``datetime``, a ``Decimal`` or a ``set`` is an error where
one is expected. ``JsonReady`` is what llmlab's own JSON writers accept (the CLI's
``--json``, the dashboard's ``/api``): JSON plus ``Decimal`` (written as exact text) and
``datetime`` / ``date`` (ISO text), for the ``to_dict()`` of objects that carry money or
times. Containers are read-only (``Sequence``, ``Mapping``) so a ``list[str]`` or a
``dict[str, int]`` is a JSON value as it is; a JSON *document* built here is a
``JsonObject`` (a ``dict``). Fixed shapes are not typed with these: they are dataclasses
or ``TypedDict`` s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeAlias

__all__ = ["JsonObject", "JsonReady", "JsonReadyObject", "JsonScalar", "JsonValue"]

JsonScalar: TypeAlias = None | bool | int | float | str
"""A JSON leaf."""

JsonValue: TypeAlias = JsonScalar | Sequence["JsonValue"] | Mapping[str, "JsonValue"]
"""Any JSON value (tuples are written as arrays)."""

JsonObject: TypeAlias = dict[str, JsonValue]
"""A JSON object of free-form shape (metadata, tags, options, a parsed payload)."""

JsonReady: TypeAlias = (
    JsonScalar | Decimal | datetime | date | Sequence["JsonReady"] | Mapping[str, "JsonReady"]
)
"""A value llmlab's JSON writers take: JSON, money as ``Decimal``, times as ``datetime``."""

JsonReadyObject: TypeAlias = dict[str, JsonReady]
"""The ``to_dict()`` of an object that carries money or times."""
