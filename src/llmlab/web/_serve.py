"""Running the dashboard under uvicorn, with the address and token rules."""

from __future__ import annotations

import ipaddress

from llmlab._errors import InputError
from llmlab.store import Store, set_default_store

__all__ = ["check_bind", "serve"]

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _is_loopback(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse an address other than loopback without an access token.

    Raises:
        InputError: ``host`` is reachable from other machines and no token was given.
    """
    if not _is_loopback(host) and not token:
        raise InputError(
            f"refusing to serve on {host} without an access token: anyone who can reach "
            "it could read every prompt and call; pass --token TOKEN or set LLMLAB_TOKEN"
        )


def serve(
    store: Store,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the dashboard over ``store`` until interrupted.

    Raises:
        InputError: a non-loopback ``host`` without ``token``.
    """
    check_bind(host, token)
    import uvicorn

    from llmlab.web._app import create_app

    # The served store is the process's default handle while serving.
    previous = set_default_store(store)
    try:
        uvicorn.run(create_app(store, token=token), host=host, port=port, log_level=log_level)
    finally:
        set_default_store(previous)
