"""``llmlab eval ...`` end to end: JSON, reports, exit codes, gate, resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from llmlab.cli import main
from llmlab.testing import WireServer

from .conftest import write_suite

MODEL = ["--model", "openai/gpt-4o-mini"]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code, out, err = cli(capsys, *args, "--json")
    assert out, err
    return code, json.loads(out)


def test_run_json_reports_and_exit_codes(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = str(write_suite(tmp_path, 20, fail_every=5))
    junit, markdown = tmp_path / "junit.xml", tmp_path / "report.md"
    code, data = cli_json(
        capsys,
        "eval",
        "run",
        suite,
        *MODEL,
        "--concurrency",
        "100",
        "--no-cache",
        "--junit",
        str(junit),
        "--markdown",
        str(markdown),
    )
    assert code == 1  # 80% < the default min_pass_rate of 100%
    assert data["pass_rate"] == 0.8 and data["run_id"] and data["status"] == "finished"
    tree = ET.parse(junit).getroot().find("testsuite")
    assert tree is not None and tree.get("tests") == "20" and tree.get("failures") == "4"
    assert "## Eval `bench`: failed" in markdown.read_text()
    assert "| `5` | 1 | 0.00 |" in markdown.read_text()

    code, data = cli_json(capsys, "eval", "run", suite, *MODEL, "--min-pass-rate", "0.8")
    assert code == 0 and data["threshold_met"]

    code, runs = cli_json(capsys, "eval", "list")
    assert code == 0 and [r["pass_rate"] for r in runs] == [0.8, 0.8]
    code, shown = cli_json(capsys, "eval", "show", runs[0]["run_id"], "--failed")
    assert [r["case_id"] for r in shown["results"]] == ["0", "10", "15", "5"]
    code, text, _ = cli(capsys, "eval", "show", "latest")
    assert code == 0 and "pass rate 80.0%" in text


def test_input_errors_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], llmlab_db: str
) -> None:
    suite = write_suite(tmp_path, 2)
    (tmp_path / "samples.jsonl").write_text('{"id": "1", "input": "a", "target": "a"}\nnope\n')
    code, _, err = cli(capsys, "eval", "run", str(suite), "--model", "scripted/x")
    assert code == 2
    assert f"{tmp_path / 'samples.jsonl'}:2: not valid JSON" in err
    code, _, err = cli(capsys, "eval", "show", "no-such-run")
    assert code == 2 and "unknown eval run 'no-such-run'" in err
    code, _, err = cli(capsys, "eval", "run", str(suite), "--model-option", "max_retries")
    assert code == 2 and "--model-option 'max_retries': expected KEY=VALUE" in err


def test_model_options_are_typed(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = str(write_suite(tmp_path, 4))
    openai_env.faults.add("500", 1)
    # max_retries=0 is read as the number 0: the one injected 500 errors its case.
    code, data = cli_json(
        capsys, "eval", "run", suite, *MODEL, "--no-cache", "--model-option", "max_retries=0"
    )
    assert code == 1 and data["summary"]["errors"]["results"] == 1
    # the errored case is not a fail: 3 of 3 scored cases passed, and 1 error > max_errors 0
    assert data["summary"]["pass_rate"] == 1.0
    assert data["gate"]["reasons"] == ["1 result(s) could not be scored, more than max_errors 0"]


def test_unknown_baseline_fails_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], llmlab_db: str
) -> None:
    from llmlab.models import scripted

    bot = scripted("baseline", function=lambda request: "echo: " + request.messages[-1].content)
    bot.history.clear()
    suite = str(write_suite(tmp_path, 3))
    code, _, err = cli(
        capsys, "eval", "run", suite, "-m", "scripted/baseline", "--baseline", "nope", "--gate"
    )
    assert code == 2 and "unknown eval run 'nope'" in err
    assert bot.history == []


def test_gate_fails_on_a_significant_regression(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = str(write_suite(tmp_path, 24))
    code, baseline = cli_json(capsys, "eval", "run", suite, *MODEL, "--no-cache")
    assert code == 0
    # The candidate answers half of the cases wrongly.
    openai_env.replies.set(lambda prompt: "no idea" if int(prompt[5:]) % 2 else f"echo: {prompt}")
    code, data = cli_json(
        capsys,
        "eval",
        "run",
        suite,
        *MODEL,
        "--no-cache",
        "--min-pass-rate",
        "0.4",
        "--baseline",
        baseline["run_id"],
        "--gate",
    )
    assert code == 1
    assert data["threshold_met"] and data["baseline"]["regression"]
    assert data["baseline"]["verdict"].startswith("A better on pass rate")
    assert not data["gate"]["passed"] and data["gate"]["regression"]
    assert data["gate"]["reasons"][0].startswith(
        f"regression against baseline {baseline['run_id']}"
    )
    assert data["gate"]["status"] == "regression"
    code, comparison = cli_json(capsys, "eval", "compare", baseline["run_id"], data["run_id"])
    assert comparison["tests"][0]["a_only_passed"] == 12
    assert comparison["tests"][0]["p_adjusted"] < 0.001

    code, rescored = cli_json(
        capsys, "eval", "rescore", data["run_id"], "--scorer", 'regex: "^(echo|no idea)"'
    )
    assert code == 0 and rescored["pass_rate"] == 1.0
    assert openai_env.count("/v1/chat/completions") == 48  # rescoring called no model


def test_gate_failure_says_regression_and_the_markdown_agrees_with_the_exit_code(
    openai_env: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = str(write_suite(tmp_path, 24))
    code, baseline = cli_json(capsys, "eval", "run", suite, *MODEL, "--no-cache")
    assert code == 0
    openai_env.replies.set(lambda prompt: "no idea" if int(prompt[5:]) % 2 else f"echo: {prompt}")
    markdown = tmp_path / "report.md"
    args = [*MODEL, "--no-cache", "--min-pass-rate", "0.4", "--baseline", baseline["run_id"]]
    code, out, err = cli(capsys, "eval", "run", suite, *args, "--gate", "--markdown", str(markdown))
    assert code == 1
    assert f"vs baseline {baseline['run_id']}: regression: A better on pass rate" in out
    assert f"gate: regression against baseline {baseline['run_id']}" in out
    report = markdown.read_text()
    assert (
        report.startswith("## Eval `bench`: regression\n") and "passed" not in report.split("\n")[0]
    )
    assert f"- regression against baseline {baseline['run_id']}" in report
    # Without --gate the same regression is reported but does not fail: exit 0, "passed".
    code, out, _ = cli(capsys, "eval", "run", suite, *args, "--markdown", str(markdown))
    assert code == 0 and "regression: A better" in out
    assert markdown.read_text().startswith("## Eval `bench`: passed\n")


def _results(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("select count(*) from eval_results").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


def _interrupt_after(
    command: list[str], env: dict[str, str], db: Path, results: int, sig: int
) -> int:
    """Start the command, send ``sig`` once ``results`` results are stored; its exit code."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while _results(db) < results and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(sig)
    finally:
        process.communicate(timeout=30)
    return process.returncode


def test_kill_9_and_ctrl_c_then_rerun_gives_exactly_n_results(
    openai_env: WireServer, tmp_path: Path, llmlab_db: str
) -> None:
    n = 60
    suite = write_suite(tmp_path, n)
    db = Path(llmlab_db.removeprefix("sqlite:///"))
    openai_env.config.latency_ms = 100
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd() / "src"), *sys.path])}
    command = [
        sys.executable,
        "-c",
        "from llmlab.cli import main; main()",
        "eval",
        "run",
        str(suite),
        *MODEL,
        "--concurrency",
        "4",
        "--no-cache",
        "--json",
    ]
    assert _interrupt_after(command, env, db, 8, signal.SIGKILL) == -signal.SIGKILL
    after_kill = _results(db)
    assert 8 <= after_kill < n
    # Ctrl-C: the results so far are written and the run is marked interrupted.
    assert _interrupt_after(command, env, db, after_kill + 8, signal.SIGINT) == 130
    kept = _results(db)
    assert after_kill + 8 <= kept < n
    with sqlite3.connect(db) as conn:
        assert conn.execute("select status from eval_runs").fetchall() == [("interrupted",)]
    requests_before = openai_env.count("/v1/chat/completions")
    openai_env.config.latency_ms = 0
    last = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert last.returncode == 0, last.stderr
    data = json.loads(last.stdout)
    assert data["resumed"] and data["reused_results"] == kept
    assert data["summary"]["results"] == n and data["summary"]["passed"] == n
    assert _results(db) == n
    with sqlite3.connect(db) as conn:
        (runs,) = conn.execute("select count(*) from eval_runs").fetchone()
        distinct = conn.execute("select count(distinct case_id || '#' || epoch) from eval_results")
        assert runs == 1 and distinct.fetchone()[0] == n
    assert openai_env.count("/v1/chat/completions") - requests_before == n - kept


@pytest.mark.parametrize(
    ("tty", "extra", "shown"), [(True, (), True), (False, (), False), (True, ("--json",), False)]
)
def test_progress_bar_only_on_a_terminal(
    tmp_path: Path,
    llmlab_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tty: bool,
    extra: tuple[str, ...],
    shown: bool,
) -> None:
    import llmlab.cli._eval as eval_cli
    from llmlab.models import scripted

    scripted("bar", function=lambda request: "echo: " + request.messages[-1].content)
    asked: list[bool] = []
    updates: list[int] = []
    real = eval_cli._progress_bar

    @contextmanager
    def spy(enabled: bool) -> Iterator[Any]:
        asked.append(enabled)
        with real(enabled) as update:
            if update is None:
                yield None
                return

            def counted(state: Any) -> None:
                updates.append(state.done)
                update(state)

            yield counted

    monkeypatch.setattr(eval_cli, "_progress_bar", spy)
    monkeypatch.setattr(eval_cli.sys.stdout, "isatty", lambda: tty)
    suite = write_suite(tmp_path, 5)
    code, _, _ = cli(capsys, "eval", "run", str(suite), "--model", "scripted/bar", *extra)
    assert code == 0 and asked == [shown]
    assert sorted(updates) == ([0, 1, 2, 3, 4, 5] if shown else [])  # the start, each result
