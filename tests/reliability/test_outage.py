"""Item 7: a PostgreSQL outage in the middle of an eval run loses nothing and pays nothing
twice. The test runs its own throw-away server (scripts/start-postgres.sh) and stops it
for about 6 s and then 16 s while the run is going, never the shared test server."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from llmlab.evals import EvalRun, load_suite, run_eval
from llmlab.store import Store, get_eval_results, get_eval_run
from llmlab.store._tables_calls import calls
from llmlab.testing import WireServer

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "start-postgres.sh"
N_CASES = 240


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ThrowAwayPostgres:
    """A PostgreSQL server of this test only, stopped and started at will."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.url = ""

    def start(self) -> None:
        out = subprocess.run(
            [str(SCRIPT), str(self.data), str(self.port)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.url = out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(
            [str(SCRIPT), "--stop", str(self.data)], check=True, capture_output=True, timeout=120
        )


@pytest.fixture
def throwaway_pg(tmp_path: Path) -> Iterator[ThrowAwayPostgres]:
    if shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob("*/bin")):
        pytest.skip("PostgreSQL server binaries not installed")
    # Not under tmp_path: the server may run as the OS user postgres, who must reach it.
    parent = Path(tempfile.mkdtemp(prefix="llmlab-outage-"))
    parent.chmod(0o755)
    server = ThrowAwayPostgres(parent / "pg")
    try:
        server.start()
        yield server
    finally:
        subprocess.run([str(SCRIPT), "--stop", str(server.data)], capture_output=True, timeout=120)
        shutil.rmtree(parent, ignore_errors=True)


def _suite(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "samples.jsonl").open("w") as handle:
        for i in range(N_CASES):
            handle.write(json.dumps({"id": str(i), "input": f"say w{i}", "target": f"w{i}"}) + "\n")
    suite = folder / "suite.yaml"
    suite.write_text(
        'name: outage\nprompt: "{{ input }}"\ndataset: samples.jsonl\n'
        'scorers:\n  - includes: "{{ target }}"\n'
    )
    return suite


def test_eval_run_survives_postgres_outages(
    throwaway_pg: ThrowAwayPostgres,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-outage")
    suite = load_suite(_suite(tmp_path / "suite"))
    with WireServer(latency_ms=150) as wire:
        monkeypatch.setenv("OPENAI_BASE_URL", wire.openai_base_url)
        store = Store(throwaway_pg.url)
        outcome: list[EvalRun | BaseException] = []

        def run() -> None:
            try:
                outcome.append(
                    asyncio.run(
                        run_eval(suite, model="openai/gpt-4o-mini", concurrency=4, store=store)
                    )
                )
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                outcome.append(exc)

        runner = threading.Thread(target=run)
        runner.start()
        for outage_s in (6, 16):
            time.sleep(1.5)
            throwaway_pg.stop()
            time.sleep(outage_s)
            throwaway_pg.start()
        runner.join(300)
        assert not runner.is_alive()
        store.close()
        paid = wire.count("/v1/chat/completions")
        counts = wire.counts
    [result] = outcome
    assert isinstance(result, EvalRun), result
    assert paid == N_CASES, (counts, result.summary)  # every case paid once, none twice
    with Store(throwaway_pg.url) as again:  # replays whatever was spilled
        run_row = get_eval_run(again, result.id)
        assert run_row is not None and run_row.status == "finished"
        results = get_eval_results(again, result.id, brief=True)
        assert len(results) == N_CASES
        assert len({(r.case_id, r.epoch) for r in results}) == N_CASES
        with again.read() as conn:
            recorded = conn.execute(
                select(func.count()).select_from(calls).where(calls.c.eval_run == result.id)
            ).scalar_one()
        assert recorded == N_CASES
