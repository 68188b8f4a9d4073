"""Token rules, CSRF on the label form, label moves recorded like the CLI's, no keys shown."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import llmlab
from llmlab.prompts import prompt_registry
from llmlab.web import check_bind, create_app

from .conftest import Seeded, cli

TOKEN = "s3cret-token-value"


@pytest.fixture
def guarded(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.store, token=TOKEN), follow_redirects=False) as c:
        yield c


def test_without_or_with_a_wrong_token_every_path_is_401(guarded: TestClient) -> None:
    for path in ("/", "/api/runs", "/api/openapi.json", "/static/app.js", "/calls"):
        assert guarded.get(path).status_code == 401
        assert guarded.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        guarded.cookies.set("llmlab_token", "nope")
        assert guarded.get(path).status_code == 401
        guarded.cookies.clear()
    reply = guarded.get("/runs", params={"token": "wrong"})
    assert reply.status_code == 401 and "token" in reply.json()["detail"]


def test_token_once_in_the_url_then_a_cookie(guarded: TestClient) -> None:
    reply = guarded.get("/runs", params={"token": TOKEN, "suite": "qa"})
    assert reply.status_code == 303
    assert reply.headers["location"] == "/runs?suite=qa"  # the token leaves the address
    assert "httponly" in reply.headers["set-cookie"].lower()
    assert guarded.get("/runs?suite=qa").status_code == 200  # the client kept the cookie
    assert guarded.get("/api/runs").status_code == 200


def test_bearer_header_for_scripts(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.store, token=TOKEN)) as c:
        reply = c.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 200 and reply.json()["runs"]


def test_other_addresses_need_a_token() -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("0.0.0.0", "t")
    with pytest.raises(Exception, match="--token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(Exception, match="LLMLAB_TOKEN"):
        check_bind("192.168.1.20", "")


def test_serve_refuses_a_public_address_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMLAB_TOKEN", raising=False)
    code, _ = cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert code == 2


def test_serve_without_the_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name)
    )
    code, _ = cli("serve")
    assert code == 2


def _csrf(client: TestClient, name: str) -> str:
    page = client.get(f"/prompts/{name}").text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


def test_label_moves_need_csrf_and_confirmation(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.store), follow_redirects=False) as c:
        form = {"label": "staging", "version": "2"}
        assert c.post("/prompts/greet/labels", data=form).status_code == 403
        assert c.post("/prompts/greet/labels", data=form | {"csrf": "0" * 64}).status_code == 403
        token = _csrf(c, "greet")
        evil = c.post(
            "/prompts/greet/labels",
            data=form | {"csrf": token, "confirm": "1"},
            headers={"Origin": "http://evil.example"},
        )
        assert evil.status_code == 422
        asked = c.post("/prompts/greet/labels", data=form | {"csrf": token})
        assert (
            asked.status_code == 200 and "staging" in asked.text and 'name="confirm"' in asked.text
        )
        assert "staging" not in prompt_registry(store=seeded.store).labels("greet")
        done = c.post("/prompts/greet/labels", data=form | {"csrf": token, "confirm": "1"})
        assert done.status_code == 303 and done.headers["location"] == "/prompts/greet#history"
        assert prompt_registry(store=seeded.store).labels("greet")["staging"] == 2
        history = c.get("/api/prompts/greet").json()["history"]
        assert history[0]["label"] == "staging" and history[0]["to_version"] == 2
        assert "dashboard" in history[0]["actor"]
        again = c.post(
            "/prompts/greet/labels",
            data={"label": "staging", "version": "1", "csrf": token, "confirm": "1"},
        )
        assert again.status_code == 303
        back = c.post(
            "/api/prompts/greet/labels",
            data={"label": "staging", "rollback": "1", "csrf": token, "confirm": "1"},
        )
        assert back.status_code == 200 and back.json()["move"]["kind"] == "rollback"
        moves = prompt_registry(store=seeded.store).history("greet", "staging")
        assert [m.kind for m in moves] == ["move", "move", "rollback"]
        assert prompt_registry(store=seeded.store).labels("greet")["staging"] == 2


def test_api_keys_never_appear(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.store)) as c:
        calls = c.get("/api/calls", params={"limit": 500}).json()["calls"]
        pages = [c.get(f"/calls/{x['id']}").text for x in calls[:10]]
        pages += [c.get(f"/api/calls/{x['id']}").text for x in calls[:10]]
        pages += [c.get(p).text for p in ("/", "/monitor", "/calls", "/runs", "/prompts")]
    for page in pages:
        assert "sk-test-web" not in page


def test_label_move_of_an_unknown_prompt_is_404(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.store), follow_redirects=False) as c:
        token = _csrf(c, "greet")
        for confirm in ("0", "1"):
            reply = c.post(
                "/api/prompts/nope/labels",
                data={"label": "production", "version": "1", "csrf": token, "confirm": confirm},
            )
            assert reply.status_code == 404 and "nope" in reply.json()["detail"]


def test_nothing_is_loaded_from_elsewhere(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.store)) as c:
        assert c.get("/api/docs").status_code == 404  # Swagger UI would load a CDN script
        page = c.get("/").text
    assert "http://" not in page.replace("http://localhost", "")
    assert "https://" not in page


@pytest.mark.slow
def test_llmlab_serve_with_a_token_end_to_end(seeded: Seeded, tmp_path: Path) -> None:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LLMLAB_DB=seeded.url, LLMLAB_TOKEN=TOKEN)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(llmlab.__file__).parents[1]), *sys.path])
    server = subprocess.Popen(
        [sys.executable, "-m", "llmlab", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                first = httpx.get(base + "/api/runs")
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert first.status_code == 401
        with httpx.Client(base_url=base, follow_redirects=True) as client:
            reply = client.get("/runs", params={"token": TOKEN})
            assert reply.status_code == 200 and str(reply.url) == base + "/runs"
            assert seeded.run_a in reply.text
            assert client.get("/api/runs").json()["runs"]
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
    assert f"http://localhost:{port}/" in out
