"""The dashboard's queries on PostgreSQL: every JSON twin over a store seeded the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from llmlab.testing import WireServer
from llmlab.web import create_app

from .conftest import seeding

pytestmark = pytest.mark.postgres


def test_every_api_answers_on_postgres(
    pg_url: str, tmp_path: Path, _llmlab_wire_server_session: WireServer
) -> None:
    with seeding(pg_url, tmp_path, _llmlab_wire_server_session) as s:
        client = TestClient(create_app(s.store))
        paths = [
            "/api/overview",
            "/api/runs?suite=qa&q=qa",
            f"/api/runs/{s.run_a}?failed=true&sort=score&desc=true&q=case",
            f"/api/runs/{s.run_a}/cases/case-05",
            f"/api/compare?a={s.run_a}&b={s.run_b}&differing=true",
            "/api/prompts",
            "/api/prompts/greet?a=1&b=2",
            "/api/experiments",
            "/api/experiments/greet-ab",
            "/api/monitor?grain=hour&by=tag:user",
            "/api/calls?model=openai/gpt-4o-mini&prompt=greet@1&window=24h",
            "/api/labs",
        ]
        for path in paths:
            reply = client.get(path)
            assert reply.status_code == 200, (path, reply.text)
        assert client.get("/api/overview").json()["total"]["calls"] == 66
        failed = client.get(f"/api/runs/{s.run_a}?failed=true").json()["cases"]["rows"]
        assert [r["case_id"] for r in failed] == ["case-00", "case-05", "case-10"]
        first = client.get("/api/calls?limit=30").json()
        rest = client.get(f"/api/calls?limit=100&cursor={first['next_cursor']}").json()
        assert len(first["calls"]) + len(rest["calls"]) == 66
        differing = client.get(f"/api/compare?a={s.run_a}&b={s.run_b}&differing=true").json()
        assert differing["matrix_total"] == 7
