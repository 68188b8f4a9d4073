"""The JSON twins of the pages, over a store seeded through the CLI and the wire server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmlab.evals import compare_runs
from llmlab.store import Store, add_lab_attempt, mark_lab_started
from llmlab.web import create_app

from .conftest import Seeded


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.store)) as c:
        yield c


def get(client: TestClient, path: str, **params: Any) -> Any:
    reply = client.get(path, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_overview_counts_the_seeded_calls(client: TestClient, seeded: Seeded) -> None:
    data = get(client, "/api/overview", window="7d")
    # 24 + 24 + 6 eval cases, 1 `llmlab run`, 3 prompt calls, 8 experiment calls
    assert data["total"]["calls"] == 66
    assert data["total"]["errors"] == 0
    assert sum(data["series"]["calls"]) == 66
    assert {r["id"] for r in data["runs"]} == {seeded.run_a, seeded.run_b, seeded.other_run}
    assert [b["name"] for b in data["budgets"]] == ["monthly"]
    assert data["grain"] == "day"


def test_runs_filter_search_and_keyset_pages(client: TestClient, seeded: Seeded) -> None:
    assert {r["id"] for r in get(client, "/api/runs", suite="qa")["runs"]} == {
        seeded.run_a,
        seeded.run_b,
    }
    assert [r["id"] for r in get(client, "/api/runs", q="summar")["runs"]] == [seeded.other_run]
    assert get(client, "/api/runs", model="nope/nothing")["runs"] == []
    first = get(client, "/api/runs", limit=2)
    assert len(first["runs"]) == 2 and first["next_cursor"]
    rest = get(client, "/api/runs", limit=2, cursor=first["next_cursor"])
    assert len(rest["runs"]) == 1 and rest["next_cursor"] is None
    seen = [r["id"] for r in first["runs"] + rest["runs"]]
    assert sorted(seen) == sorted({seeded.run_a, seeded.run_b, seeded.other_run})
    assert get(client, "/api/runs")["facets"]["names"] == ["qa", "summaries"]


def test_run_page_summary_and_case_table(client: TestClient, seeded: Seeded) -> None:
    data = get(client, f"/api/runs/{seeded.run_a}")
    summary = data["summary"]
    assert summary["cases"] == 24 and summary["passed"] == 21
    low, high = summary["pass_rate_ci"]
    assert low < 21 / 24 < high
    assert set(summary["tags"]) == {"even", "odd"}
    assert summary["cost"] is not None
    assert data["cases"]["total"] == 24 and len(data["cases"]["rows"]) == 24
    failed = get(client, f"/api/runs/{seeded.run_a}", failed="true")["cases"]
    assert [r["case_id"] for r in failed["rows"]] == ["case-00", "case-05", "case-10"]
    found = get(client, f"/api/runs/{seeded.run_a}", q="w13")["cases"]["rows"]
    assert [r["case_id"] for r in found] == ["case-13"]
    by_score = get(client, f"/api/runs/{seeded.run_a}", sort="score", limit=3)["cases"]
    assert [r["passed"] for r in by_score["rows"]] == [False, False, False]
    page2 = get(client, f"/api/runs/{seeded.run_a}", limit=10, offset=20)["cases"]
    assert [r["case_id"] for r in page2["rows"]] == ["case-20", "case-21", "case-22", "case-23"]


def test_case_page_has_prompt_output_scores_and_call(client: TestClient, seeded: Seeded) -> None:
    data = get(client, f"/api/runs/{seeded.run_a}/cases/case-05")
    result = data["result"]
    assert result["prompt"] == "say w5" and "say w5" in result["output"]
    assert result["passed"] is False and result["scores"]
    call = data["call"]
    assert call["model"] == "openai/gpt-4o-mini" and call["input_tokens"] > 0
    linked = get(client, f"/api/calls/{call['id']}")["call"]
    assert linked["eval_run"] == seeded.run_a and linked["sample_id"] == "case-05"


def test_compare_uses_the_evals_statistics(client: TestClient, seeded: Seeded) -> None:
    data = get(client, "/api/compare", a=seeded.run_a, b=seeded.run_b)
    expected = compare_runs(seeded.run_a, seeded.run_b, store=seeded.store).to_dict()
    got = data["comparison"]
    assert got["verdict"] == expected["verdict"]
    assert [t["p_adjusted"] for t in got["tests"]] == [t["p_adjusted"] for t in expected["tests"]]
    assert data["matrix_total"] == 24
    differing = get(client, "/api/compare", a=seeded.run_a, b=seeded.run_b, differing="true")
    ids = {m["case_id"] for m in differing["matrix"]}
    # failing in A: 0, 5, 10; in B: 0, 3, 7, 11, 15, 19
    assert ids == {f"case-{i:02d}" for i in (3, 5, 7, 10, 11, 15, 19)}
    assert all(m["differs"] for m in differing["matrix"])


def test_prompt_versions_metrics_history_and_diff(client: TestClient, seeded: Seeded) -> None:
    names = {p["name"]: p for p in get(client, "/api/prompts")["prompts"]}
    assert names["greet"]["versions"] == 2 and names["greet"]["labels"]["production"] == 1
    data = get(client, "/api/prompts/greet", a="1", b="2")
    assert [v["version"] for v in data["versions"]] == [2, 1]
    assert data["metrics"]["1"]["calls"]["calls"] >= 3  # the production calls
    assert data["diff"]["has_changes"] and "+Hi there, {{ name }}!" in data["diff"]["text"]
    assert any(h["label"] == "production" and h["to_version"] == 1 for h in data["history"])
    diff = get(client, "/api/prompts/greet/diff", a="1", b="1")
    assert diff["has_changes"] is False


def test_experiment_report(client: TestClient, seeded: Seeded) -> None:
    listed = get(client, "/api/experiments")["experiments"]
    assert [e["name"] for e in listed] == ["greet-ab"]
    report = get(client, "/api/experiments/greet-ab")
    arms = {a["arm"]: a for a in report["arms"]}
    assert set(arms) == {"control", "friendly"}
    assert sum(a["calls"] for a in arms.values()) == 8
    assert sum(a["quality"]["n"] for a in arms.values()) == 8  # the seeded feedback
    assert report["verdict"]


def test_monitor_by_dimension_and_over_time(client: TestClient) -> None:
    data = get(client, "/api/monitor", window="7d", grain="hour", by="tag:user")
    assert {g["key"] for g in data["groups"]} >= {"alice", "bob", "carol"}
    assert sum(data["series"]["calls"]) == data["total"]["calls"] == 66
    assert data["series"]["p95"][-1] is not None
    by_prompt = get(client, "/api/monitor", by="prompt")["groups"]
    assert any(g["key"].startswith("greet@") for g in by_prompt)
    points = data["cost_quality"]["points"]
    assert len(points) == 3 and data["cost_quality"]["frontier"]


def test_calls_filters_and_keyset_pages(client: TestClient, seeded: Seeded) -> None:
    all_calls = get(client, "/api/calls", limit=500)["calls"]
    assert len(all_calls) == 66
    pages, cursor = [], None
    while True:
        page = get(client, "/api/calls", limit=20, **({"cursor": cursor} if cursor else {}))
        pages.extend(c["id"] for c in page["calls"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == [c["id"] for c in all_calls]
    greet = get(client, "/api/calls", prompt="greet@1")["calls"]
    assert len(greet) >= 3 and {c["prompt_version"] for c in greet} == {1}
    exp = get(client, "/api/calls", experiment="greet-ab")["calls"]
    assert len(exp) == 8
    assert len(get(client, "/api/calls", eval_run=seeded.other_run)["calls"]) == 6
    assert get(client, "/api/calls", status="error")["calls"] == []
    assert len(get(client, "/api/calls", model="openai/gpt-4o-mini", limit=500)["calls"]) == 66
    assert get(client, "/api/calls", model="anthropic/gpt-4o-mini")["calls"] == []
    # The listing carries the calls' rows without their content; a call's page has it.
    assert all(c["request"] is None and c["response_text"] is None for c in all_calls)
    one = get(client, f"/api/calls/{all_calls[0]['id']}")["call"]
    assert one["request"] is not None and one["response_text"]


def test_labs_page_shows_the_labs_tables(client: TestClient) -> None:
    # The labs' tables are part of the schema (issue 12); empty until a lab is attempted.
    data = get(client, "/api/labs")
    assert data["available"] is True
    assert [t["table"] for t in data["tables"]] == ["lab_progress", "lab_attempts"]
    assert all(t["rows"] == [] for t in data["tables"])
    assert "labs not available" not in client.get("/labs").text


def test_openapi_lists_the_api(client: TestClient) -> None:
    paths = get(client, "/api/openapi.json")["paths"]
    for path in ("/api/overview", "/api/runs", "/api/runs/{run_id}", "/api/compare",
                 "/api/prompts/{name}", "/api/calls", "/api/monitor", "/api/labs"):  # fmt: skip
        assert path in paths
    assert not any(not p.startswith("/api/") for p in paths)


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs?limit=0",
        "/api/runs?limit=abc",
        "/api/runs?cursor=%%%",
        "/api/runs/RUN?sort=bogus",
        "/api/runs/RUN?offset=-1",
        "/api/runs/RUN?failed=maybe",
        "/api/compare?a=RUN",
        "/api/calls?window=7x",
        "/api/calls?status=weird",
        "/api/calls?prompt=greet@x",
        "/api/calls?cursor=bm90LWEtY3Vyc29y",
        "/api/monitor?grain=week",
        "/api/monitor?by=nothing",
        "/api/overview?window=-3d",
        "/runs?limit=99999",
    ],
)
def test_malformed_parameters_are_422_with_a_message(
    client: TestClient, seeded: Seeded, path: str
) -> None:
    reply = client.get(path.replace("RUN", seeded.run_a))
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 10


def test_unknown_things_are_404(client: TestClient) -> None:
    for path in ("/api/runs/nope", "/api/calls/nope", "/api/prompts/nope",
                 "/api/runs/nope/cases/x", "/api/experiments/nope"):  # fmt: skip
        reply = client.get(path)
        assert reply.status_code == 404, (path, reply.text)
        assert "nope" in reply.json()["detail"]


def test_a_browser_gets_the_422_message_as_a_page(client: TestClient) -> None:
    reply = client.get("/runs?limit=0", headers={"accept": "text/html"})
    assert reply.status_code == 422 and "text/html" in reply.headers["content-type"]
    assert "limit" in reply.text and "greater than or equal to 1" in reply.text


def test_static_files_ship_with_the_package(client: TestClient) -> None:
    for name in ("uPlot-1.6.32.iife.min.js", "htmx-2.0.11.min.js", "app.js", "app.css"):
        reply = client.get(f"/static/{name}")
        assert reply.status_code == 200 and len(reply.content) > 500


def test_labs_tables_are_shown_newest_first_once_they_exist(tmp_path: Path) -> None:
    # Two attempts recorded the way `llmlab labs check` records them.
    with Store(f"sqlite:///{tmp_path / 'labs.db'}") as store:
        mark_lab_started(
            store, "/ws", "first-eval-suite", "/ws/01", datetime(2026, 11, 30, 9, tzinfo=UTC)
        )
        for hour, passed in ((10, False), (11, True)):
            add_lab_attempt(
                store,
                workspace="/ws",
                lab="first-eval-suite",
                at=datetime(2026, 11, 30, hour, tzinfo=UTC),
                passed=passed,
                outcome="passed" if passed else "failed",
                model=None,
                duration_s=0.1,
                criteria=[],
            )
        with TestClient(create_app(store)) as c:
            data = c.get("/api/labs").json()
            page = c.get("/labs").text
    assert data["available"] is True
    progress, attempts = data["tables"]
    assert attempts["table"] == "lab_attempts" and attempts["columns"][:2] == ["id", "workspace"]
    checked = attempts["columns"].index("checked_at")
    hours = [str(row[checked]).replace("T", " ")[:13] for row in attempts["rows"]]
    assert hours == ["2026-11-30 11", "2026-11-30 10"]
    assert progress["rows"][0][progress["columns"].index("attempts")] == 2
    assert "labs not available" not in page and "first-eval-suite" in page
