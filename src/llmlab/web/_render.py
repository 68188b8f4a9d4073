"""Shared by the pages: the store of the app, JSON encoding, rendering a page or its twin."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment

from llmlab.store import Store
from llmlab.web._security import csrf_token

__all__ = ["install_filters", "render", "store_of", "to_json", "wants_json"]


def to_json(value: Any) -> Any:
    """JSON-ready data: dataclasses as dicts, money as exact strings, times as ISO text,
    NaN and infinities as null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def store_of(request: Request) -> Store:
    """The store this app serves."""
    store: Store = request.app.state.store
    return store


def wants_json(request: Request) -> bool:
    """Whether the request is for the JSON twin of a page."""
    return request.url.path.startswith("/api/")


def render(request: Request, template: str, data: Any, status_code: int = 200) -> Response:
    """A page (HTML) or its JSON twin, from the same data."""
    if wants_json(request):
        return JSONResponse(to_json(data), status_code=status_code)
    templates: Jinja2Templates = request.app.state.templates
    context = {
        "d": data,
        "csrf": csrf_token(request.app.state.secret),
        "nav": request.url.path.split("/")[1] if request.url.path != "/" else "",
        "store_url": request.app.state.store_label,
    }
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def install_filters(env: Environment) -> None:
    """The number, money and time formats the templates use."""
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["money"] = _money
    env.filters["when"] = _when


def _pct(value: Any, digits: int = 1) -> str:
    if not isinstance(value, int | float) or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f}%"


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):.{digits}g}" if abs(float(value)) < 1 else f"{float(value):,.2f}"


def _money(value: Any) -> str:
    if value is None or value == "":
        return "–"
    amount = Decimal(str(value))
    if amount == 0:
        return "$0"
    if abs(amount) >= 1:
        text = f"{abs(amount):,.2f}"
    else:
        text = f"{abs(amount):.8f}".rstrip("0").rstrip(".")
    return f"-${text}" if amount < 0 else f"${text}"


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "–"
