"""Several processes record into one store at once: nothing lost, nothing doubled.

Also: rows queued when a script exits normally or by Ctrl-C are written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from llmlab.store import Store

SRC = str(Path(__file__).resolve().parents[2] / "src")

# Each worker makes its calls through the model call path (scripted: no network), half
# of them streamed; every call carries its number as the sample id.
WORKER = textwrap.dedent(
    """
    import asyncio, sys
    import llmlab
    from llmlab.models import Request, call_links, get_model, scripted
    from llmlab.monitor import flush

    url, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = llmlab.open(url)
    scripted(
        f"worker-{worker}",
        function=lambda request: "ok " + request.messages[-1].content,
        store=store,
    )
    model = get_model(f"scripted/worker-{worker}", store=store)

    async def main():
        for n in range(count):
            with call_links(sample_id=str(n)):
                if n % 2:
                    [item async for item in model.stream(Request.of(f"question {n}"))]
                else:
                    await model.generate(Request.of(f"question {n}"))

    asyncio.run(main())
    assert flush(store)
    store.close()
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_workers(url: str, processes: int, count: int) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(i), str(count)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(processes)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out


def _count(url: str) -> list[tuple[str, int, int]]:
    with Store(url) as store, store.read() as conn:
        query = text(
            "SELECT requested_model, count(*), count(DISTINCT sample_id) FROM calls "
            "WHERE status = 'ok' GROUP BY requested_model ORDER BY requested_model"
        )
        return [(r[0], r[1], r[2]) for r in conn.execute(query)]


EXPECTED = [(f"worker-{i}", 2_000, 2_000) for i in range(4)]


def _total(url: str) -> int:
    with Store(url) as store, store.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM calls")).scalar_one())


def test_four_processes_into_one_fresh_sqlite_file(tmp_path: Path) -> None:
    url = str(tmp_path / "shared.db")  # not created yet: the processes race to migrate it
    _run_workers(url, 4, 2_000)
    assert _count(url) == EXPECTED
    assert _total(url) == 8_000


@pytest.mark.postgres
def test_four_processes_into_postgres(pg_url: str) -> None:
    _run_workers(pg_url, 4, 2_000)
    assert _count(pg_url) == EXPECTED
    assert _total(pg_url) == 8_000


EXITING = textwrap.dedent(
    """
    import os, signal, sys, time
    from datetime import UTC, datetime
    import llmlab
    from llmlab.monitor import CallRecord, new_call_id, record

    url, how = sys.argv[1], sys.argv[2]
    store = llmlab.open(url)  # never closed by the script: exit must flush it
    for n in range(300):
        record(CallRecord(id=new_call_id(), started_at=datetime.now(UTC), provider="scripted",
                          requested_model="m", input_tokens=n), store)
    if how == "ctrl-c":
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    """
)


@pytest.mark.parametrize("how", ["exit", "ctrl-c"])
def test_queued_rows_are_written_at_exit(tmp_path: Path, how: str) -> None:
    url = str(tmp_path / "exit.db")
    proc = subprocess.run(
        [sys.executable, "-c", EXITING, url, how],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if how == "ctrl-c":
        assert proc.returncode != 0
        assert "KeyboardInterrupt" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
    with Store(url) as store, store.read() as conn:
        query = text("SELECT count(*), count(DISTINCT input_tokens) FROM calls")
        assert tuple(conn.execute(query).one()) == (300, 300)
