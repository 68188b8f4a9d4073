"""Access rules: the optional access token, and CSRF tokens for the forms that write.

Without a token the app is meant for 127.0.0.1 only (``serve`` refuses any other address
without one). With a token, every request must carry it: ``?token=`` once (the reply sets a
cookie and redirects to the same URL without it), then the cookie, or an
``Authorization: Bearer`` header for scripts. Anything else gets 401.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

__all__ = ["COOKIE", "TokenGuard", "csrf_token", "csrf_valid", "new_secret"]

COOKIE = "llmlab_token"


def new_secret() -> bytes:
    """A random secret for this server process (CSRF tokens die with it)."""
    return secrets.token_bytes(32)


def csrf_token(secret: bytes) -> str:
    """The CSRF token forms of this server carry."""
    return hmac.new(secret, b"llmlab-csrf", hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, given: str | None) -> bool:
    """Whether ``given`` is this server's CSRF token."""
    return given is not None and hmac.compare_digest(csrf_token(secret), given)


class TokenGuard:
    """HTTP middleware that lets a request through only with the access token."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def _ok(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self._token)

    async def __call__(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.query_params.get("token")
        if given is not None:
            if not self._ok(given):
                return _denied()
            # Drop the token from the address so that it stays out of history and logs.
            rest = urlencode([(k, v) for k, v in parse_qsl(request.url.query) if k != "token"])
            target = request.url.path + (f"?{rest}" if rest else "")
            reply = RedirectResponse(target, status_code=303)
            reply.set_cookie(
                COOKIE,
                given,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return reply
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        if self._ok(request.cookies.get(COOKIE)) or self._ok(bearer):
            return await call_next(request)
        return _denied()


def _denied() -> Response:
    return JSONResponse(
        {"detail": "missing or wrong access token: open the address with ?token=TOKEN once"},
        status_code=401,
    )
