"""The FastAPI application: pages (Jinja2 + htmx) and their JSON twins under ``/api``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from llmlab._errors import InputError, LlmlabError, NotFoundError
from llmlab.store import Store
from llmlab.web import _pages_evals, _pages_monitor, _pages_prompts
from llmlab.web._render import install_filters, render, wants_json
from llmlab.web._security import TokenGuard, new_secret

__all__ = ["create_app"]

_HERE = Path(str(resources.files("llmlab.web")))


def _error(request: Request, status: int, message: str) -> Response:
    if wants_json(request) or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> Response:
        return _error(request, 422, str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(LlmlabError)
    async def failed(request: Request, exc: LlmlabError) -> Response:
        return _error(request, 500, str(exc))


async def _server_timing(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The time the app spent on a request, as a ``Server-Timing`` header (the browser's
    developer tools and bench/bench_web.py read it)."""
    start = time.perf_counter()
    response = await call_next(request)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.2f}"
    return response


def create_app(store: Store, *, token: str | None = None) -> FastAPI:
    """The dashboard over ``store``; with ``token``, every request must carry it.

    Args:
        store: the database to show (the app does not close it).
        token: the access token; None for a server bound to 127.0.0.1 only.
    """
    app = FastAPI(
        title="llmlab dashboard",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads its script from a CDN: nothing is fetched here
        redoc_url=None,
    )
    app.state.store = store
    app.state.store_label = store.safe_url
    app.state.secret = new_secret()
    app.state.compared = OrderedDict()
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    install_filters(templates.env)
    app.state.templates = templates
    app.middleware("http")(_server_timing)
    if token:
        app.middleware("http")(TokenGuard(token))
    _install_errors(app)
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.include_router(_pages_monitor.router)
    app.include_router(_pages_evals.router)
    app.include_router(_pages_prompts.router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app
