"""User price overrides: a YAML or JSON file of per-million-token prices per model.

The file is ``LLMLAB_PRICES`` if set, else ``.llmlab/prices.yaml`` in the working folder
when it exists::

    version: 1
    prices:
      openai-compatible/llama-3.1-8b:   # provider/model; "provider/*" matches any model
        input: 0.10          # USD per million uncached input tokens
        output: 0.20         # USD per million output tokens
        cache_read: 0.01     # optional, defaults to input
        cache_write: 0.125   # optional, defaults to input
        currency: USD        # optional

A bare mapping of ``provider/model`` keys (without ``version`` and ``prices``) is accepted
too. An override wins over the genai-prices data.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from llmlab._errors import PricingError

__all__ = [
    "DEFAULT_PRICES_PATH",
    "RECHECK_S",
    "OverridePrice",
    "find_override",
    "forget_overrides",
    "prices_path",
]

DEFAULT_PRICES_PATH = Path(".llmlab") / "prices.yaml"
_PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
_ALLOWED_KEYS = frozenset((*_PRICE_KEYS, "currency"))


@dataclass(frozen=True, slots=True)
class OverridePrice:
    """Prices per million tokens for one model, from an override file."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    currency: str
    source: str
    """``override: <file>`` for provenance."""


def prices_path() -> Path | None:
    """The override file in effect, or None."""
    configured = os.environ.get("LLMLAB_PRICES", "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise PricingError(
                f"{path}: price file not found (LLMLAB_PRICES); create it or unset the variable"
            )
        return path
    return DEFAULT_PRICES_PATH if DEFAULT_PRICES_PATH.is_file() else None


RECHECK_S = 1.0
"""How long the override table is used without looking at the file again: an edit (or a
new file) takes effect within this time, and a call costs no filesystem lookup."""
_current: tuple[str, float, dict[str, OverridePrice]] | None = None


def find_override(provider: str, model: str) -> OverridePrice | None:
    """The override price for ``provider/model`` (or ``provider/*``), if the file has one."""
    table = _current_table()
    if not table:
        return None
    return table.get(f"{provider}/{model}") or table.get(f"{provider}/*")


def forget_overrides() -> None:
    """Look at the override file again on the next call (tests, after editing it)."""
    global _current
    _current = None


def _current_table() -> dict[str, OverridePrice]:
    global _current
    setting = os.environ.get("LLMLAB_PRICES", "")
    now = time.monotonic()
    current = _current
    if current is not None and current[0] == setting and now - current[1] < RECHECK_S:
        return current[2]
    path = prices_path()
    table: dict[str, OverridePrice] = {}
    if path is not None:
        stat = path.stat()
        table = _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    # Only a good file is remembered: a malformed one raises again on every call.
    _current = (setting, now, table)
    return table


@lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> dict[str, OverridePrice]:
    # Keyed on mtime and size too, so an edited file is read again.
    text = _read_text(path)
    # Lazy: PyYAML is needed only when a price file exists; every priced call loads this module.
    import yaml

    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise PricingError(_syntax_error(path, exc)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PricingError(f"{path}: expected a mapping of 'provider/model' to prices")
    if "prices" in data:
        version = data.get("version", 1)
        if version != 1:
            raise PricingError(f"{path}: key 'version': unsupported version {version!r} (use 1)")
        extra = set(data) - {"version", "prices"}
        if extra:
            raise PricingError(f"{path}: key {sorted(extra)[0]!r}: unknown top-level key")
        data = data["prices"]
        if not isinstance(data, dict):
            raise PricingError(f"{path}: key 'prices': expected a mapping of 'provider/model'")
    return {str(key): _parse_entry(path, str(key), value) for key, value in data.items()}


def _read_text(path: str) -> str:
    """The file's text; unreadable or non-UTF-8 content is a one-line ``PricingError``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PricingError(
            f"{path}: cannot read the price file ({exc.strerror or exc}); fix its "
            "permissions or unset LLMLAB_PRICES"
        ) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PricingError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the price "
            "file as UTF-8"
        ) from exc


def _syntax_error(path: str, exc: Exception) -> str:
    """One line: ``file:line: not valid YAML: what``, from a JSON or YAML parser's error."""
    kind = "JSON" if path.endswith(".json") else "YAML"
    if isinstance(exc, json.JSONDecodeError):
        return f"{path}:{exc.lineno}: not valid {kind}: {exc.msg} (column {exc.colno})"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    if mark is not None:
        return f"{path}:{mark.line + 1}: not valid {kind}: {problem} (column {mark.column + 1})"
    return f"{path}: not valid {kind}: {problem}"


def _parse_entry(path: str, key: str, value: Any) -> OverridePrice:
    if "/" not in key:
        raise PricingError(f"{path}: key {key!r}: expected 'provider/model' (or 'provider/*')")
    if not isinstance(value, dict):
        raise PricingError(f"{path}: key {key!r}: expected a mapping with input and output")
    unknown = set(value) - _ALLOWED_KEYS
    if unknown:
        raise PricingError(
            f"{path}: key {key!r}: unknown field {sorted(unknown)[0]!r} "
            f"(allowed: {', '.join(sorted(_ALLOWED_KEYS))})"
        )
    for required in ("input", "output"):
        if required not in value:
            raise PricingError(f"{path}: key {key!r}: missing {required!r} (USD per million)")
    prices = {name: _money(path, key, name, value[name]) for name in _PRICE_KEYS if name in value}
    currency = value.get("currency", "USD")
    if not isinstance(currency, str) or not currency:
        raise PricingError(f"{path}: key {key!r}.currency: expected a currency code like USD")
    return OverridePrice(
        input=prices["input"],
        output=prices["output"],
        cache_read=prices.get("cache_read", prices["input"]),
        cache_write=prices.get("cache_write", prices["input"]),
        currency=currency,
        source=f"override: {path}",
    )


def _money(path: str, key: str, name: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise PricingError(f"{path}: key {key!r}.{name}: expected a number, got {raw!r}")
    try:
        # str() first so that a YAML float such as 0.1 becomes Decimal("0.1") exactly.
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise PricingError(f"{path}: key {key!r}.{name}: not a number: {raw!r}") from None
    if not amount.is_finite() or amount < 0:
        raise PricingError(f"{path}: key {key!r}.{name}: expected a price >= 0, got {raw!r}")
    return amount
