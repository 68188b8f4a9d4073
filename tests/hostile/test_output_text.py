"""Numbers and messages as people read them: plain decimals, lines of their own."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from llmlab.monitor import CallRecord, flush, record
from llmlab.pricing import plain_number
from llmlab.store import Store

from ._cli import run_cli


@pytest.mark.parametrize(
    ("value", "digits", "sign", "text"),
    [
        (7.5e-06, 2, False, "0.0000075"),
        (123456.7, 3, False, "123000"),
        (-2.1e-7, 3, True, "-0.00000021"),
        (0.5, 3, True, "+0.5"),
        (0.0, 3, False, "0"),
        (float("inf"), 3, False, "inf"),
    ],
)
def test_plain_number(value: float, digits: int, sign: bool, text: str) -> None:
    assert plain_number(value, digits, sign=sign) == text


def test_prompts_show_prints_tiny_costs_as_plain_decimals(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "prompts", "add", "p", "-t", "hi {{ x }}")
    assert code == 0, err
    for n in range(3):
        record(
            CallRecord(
                id=f"c{n}",
                started_at=datetime.now(UTC),
                provider="openai",
                requested_model="gpt-4o-mini",
                input_tokens=10,
                output_tokens=10,
                cost=Decimal("0.0000075"),
                cost_status="priced",
                duration_s=0.25,
                prompt_name="p",
                prompt_version=1,
            ),
            store=llmlab_store,
        )
    assert flush(llmlab_store)
    code, out, err = run_cli(capsys, "prompts", "show", "p")
    assert code == 0, err
    assert "0.0000075" in out
    assert "e-0" not in out
    # Version metrics come from the rollups: latency as percentiles, with no interval.
    assert "latency s p50/p95" in out
    found = re.findall(r"(\d+\.\d+)/(\d+\.\d+)\s*│?\s*$", out, re.M)
    assert found, out
    p50, p95 = (float(x) for x in found[-1])
    assert abs(p50 - 0.25) < 0.01 and abs(p95 - 0.25) < 0.01


_STREAM_THEN_WARN = """
import logging, sys
from llmlab.cli._console import stream_text
from llmlab.cli._main import _LineHandler
logging.getLogger("llmlab").addHandler(_LineHandler(logging.WARNING))
stream_text("partial reply")
logging.getLogger("llmlab.monitor").warning("llmlab alert: budget reached 80%")
stream_text(" continues\\n")
"""


def test_alert_during_a_streamed_reply_starts_a_new_line() -> None:
    # stdout and stderr into one pipe, as on a terminal.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _STREAM_THEN_WARN],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "partial reply"
    assert lines[1] == "warning: llmlab alert: budget reached 80%"


def test_warning_handler_is_removed_after_main(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    before = list(logging.getLogger("llmlab").handlers)
    run_cli(capsys, "prompts", "list")
    assert logging.getLogger("llmlab").handlers == before
