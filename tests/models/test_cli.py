"""``llmlab run`` and ``llmlab models list``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llmlab.cli._app import app
from llmlab.cli._main import main
from llmlab.store import Store, recent_calls
from llmlab.testing import WireServer

from .models_support import FAKE_OPENAI_KEY

Calls = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def compatible(server: WireServer, monkeypatch: pytest.MonkeyPatch) -> WireServer:
    monkeypatch.setenv("LLMLAB_OPENAI_COMPATIBLE_BASE_URL", server.openai_base_url)
    return server


def test_run_streams_the_reply_and_records_it(compatible: WireServer, calls: Calls) -> None:
    compatible.config.chunk_delay_ms = 5
    result = CliRunner().invoke(
        app,
        [
            "run",
            "hello world",
            "-m",
            "openai-compatible/tiny",
            "--system",
            "be brief",
            "--temperature",
            "0.3",
            "--max-tokens",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "echo: hello world\n"
    assert "openai-compatible/tiny" in result.stderr and "unpriced" in result.stderr
    sent = compatible.requests[-1].body
    assert sent["stream"] is True and sent["temperature"] == 0.3 and sent["max_tokens"] == 20
    (row,) = calls()
    assert row["streamed"] and row["ttft_s"] is not None and row["status"] == "ok"


def test_run_json(compatible: WireServer, calls: Calls) -> None:
    result = CliRunner().invoke(app, ["run", "hi", "-m", "openai-compatible/tiny", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    (row,) = calls()
    assert out["call_id"] == row["id"]
    assert out["text"] == "echo: hi"
    assert out["usage"]["input_tokens"] == 1 and out["usage"]["output_tokens"] == 2
    assert out["cost"] is None and out["cost_status"] == "unpriced"
    assert out["ttft_s"] is not None and out["duration_s"] > 0


def test_run_uses_the_default_model(
    compatible: WireServer, calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMLAB_MODEL", "openai-compatible/default-one")
    result = CliRunner().invoke(app, ["run", "hi", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == "openai-compatible/default-one"


def test_run_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], calls: Calls
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "hi", "-m", "gpt-4o"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "openai/gpt-4o" in err and "Traceback" not in err


def test_run_failure_is_recorded(compatible: WireServer, calls: Calls) -> None:
    compatible.faults.add("400", count=1)
    result = CliRunner().invoke(app, ["run", "hi", "-m", "openai-compatible/tiny"])
    assert result.exit_code != 0
    (row,) = calls()
    assert row["status"] == "error" and row["error_type"] == "bad_request"


def test_models_list_json_says_which_keys_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    result = CliRunner().invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["default_model"] == "local/smollm2"
    rows = {r["provider"]: r for r in out["providers"]}
    assert rows["openai"]["key"] == "set"
    assert rows["anthropic"]["key"] == "missing"
    assert rows["scripted"]["key"] == "not needed"
    assert "openai/gpt-4o-mini" in rows["openai"]["example_models"]
    assert FAKE_OPENAI_KEY not in result.output


def test_models_list_table() -> None:
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "openai-compatible" in result.stdout and "OPENAI_API_KEY" in result.stdout
    assert FAKE_OPENAI_KEY not in result.stdout


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real entry point; (exit code, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_malformed_price_file_stops_run_before_the_call(
    server: WireServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    calls: Calls,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    prices = tmp_path / "prices.yaml"
    monkeypatch.setenv("LLMLAB_PRICES", str(prices))
    for text, where in [
        ("openai/gpt-4o-mini:\n  input: cheap\n  output: 1\n", "'openai/gpt-4o-mini'.input"),
        ("openai/gpt-4o-mini: {input: 1,\n", "prices.yaml:2: not valid YAML"),
    ]:
        prices.write_text(text)
        code, err = _main(capsys, "run", "hi", "-m", "openai/gpt-4o-mini")
        assert code == 2
        line = _one_line(err)
        assert str(prices) in line and where in line
    assert server.count() == 0  # nothing was spent
    assert calls() == []


def test_bad_llmlab_db_is_one_line_and_exit_2(
    server: WireServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for db in (str(blocker / "x.db"), "nosuchdialect://x"):
        monkeypatch.setenv("LLMLAB_DB", db)
        # (``monitor calls`` is checked with the monitor's CLI, which owns its store edge.)
        code, err = _main(capsys, "run", "hi", "-m", "openai/gpt-4o-mini")
        assert code == 2, err
        assert "cannot open database" in _one_line(err)
    assert server.count() == 0  # the store is checked before anything is spent


def test_unknown_provider_and_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], calls: Calls
) -> None:
    code, err = _main(capsys, "run", "hi", "-m", "nosuch/model")
    assert code == 2
    line = _one_line(err)
    assert "unknown provider 'nosuch'" in line and "openai" in line  # lists known ones
    code, err = _main(capsys, "run", "hi", "--max-tokens", "0")
    assert code == 2 and "Traceback" not in err
    assert calls() == []


def test_ctrl_c_during_run_records_the_cancelled_call(
    server: WireServer, llmlab_store: Store
) -> None:
    server.faults.add("hang", count=1)
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.openai_base_url,
        "LLMLAB_DB": llmlab_store.url,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from llmlab.cli import main; main()",
            "run",
            "hi",
            "-m",
            "openai/gpt-4o-mini",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Started from a shell's background job, SIGINT may be ignored: undo that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while server.count("/v1/chat/completions") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.count("/v1/chat/completions") == 1, "the call never reached the server"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    (row,) = recent_calls(llmlab_store)
    assert (row.status, row.error_type) == ("error", "cancelled")
    assert row.requested_model == "gpt-4o-mini" and row.streamed


def test_run_json_cost_is_exact_and_plain(
    server: WireServer, monkeypatch: pytest.MonkeyPatch, calls: Calls
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    result = CliRunner().invoke(app, ["run", "hi", "-m", "openai/gpt-4.1-nano", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    (row,) = calls()
    # 1 input token at $0.10/MTok and 2 output tokens at $0.40/MTok; no "9E-7".
    assert out["cost"] == "0.0000009" and out["cost_status"] == "priced"
    assert row["cost"] == Decimal("0.0000009")
