"""Issue 9 item 18: Ctrl-C during ``eval run`` says where the run stands and how to resume;
the resumed run says so too. A real subprocess, a real SIGINT."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import llmlab
from llmlab.testing import WireServer

from .conftest import write_suite


def _results(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("select count(*) from eval_results").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


def test_ctrl_c_says_n_of_m_done_and_the_rerun_says_resuming(
    openai_env: WireServer, tmp_path: Path, llmlab_db: str
) -> None:
    n = 40
    suite = write_suite(tmp_path, n)
    db = Path(llmlab_db.removeprefix("sqlite:///"))
    openai_env.config.latency_ms = 100
    source = Path(llmlab.__file__).parents[1]  # the child runs the code this test imports
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), *sys.path])}
    command = [
        sys.executable,
        "-m",
        "llmlab",
        "eval",
        "run",
        str(suite),
        "--model",
        "openai/gpt-4o-mini",
        "--concurrency",
        "4",
        "--no-cache",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while _results(db) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
    finally:
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    kept = _results(db)
    assert 8 <= kept < n
    assert "Traceback" not in err
    assert f"interrupted: {kept} of {n} done; run the same command to resume" in err, err
    with sqlite3.connect(db) as conn:
        ((run_id, status),) = conn.execute("select id, status from eval_runs").fetchall()
    assert status == "interrupted"

    openai_env.config.latency_ms = 0
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"resuming {run_id}: {kept} of {n} done" in again.stderr, again.stderr
    assert re.search(rf"run {re.escape(run_id)}\b", again.stdout)
    assert _results(db) == n


def _judge_rule(prompt: str) -> str | None:
    return '{"reasoning": "ok", "score": 1}' if prompt.startswith("You are grading") else None


def test_ctrl_c_during_rescore_says_so(
    openai_env: WireServer, tmp_path: Path, llmlab_db: str
) -> None:
    suite = write_suite(tmp_path, 40)
    source = Path(llmlab.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), *sys.path])}
    base = [sys.executable, "-m", "llmlab", "eval"]
    first = subprocess.run(
        [*base, "run", str(suite), "--model", "openai/gpt-4o-mini", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    openai_env.replies.set(_judge_rule)
    openai_env.config.latency_ms = 300
    process = subprocess.Popen(
        [*base, "rescore", run_id, "--scorer", 'judge: "Is it right?"'],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while openai_env.count() < 45 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
    finally:
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert f"interrupted: the rescore of {run_id} was not finished" in err, err
    assert "Traceback" not in err
