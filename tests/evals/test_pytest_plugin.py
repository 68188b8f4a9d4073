"""The ``assert_eval`` fixture gates a test on an eval suite's pass rate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmlab.models import scripted

from .conftest import write_suite


def test_assert_eval_passes_and_fails_with_the_failed_cases(
    assert_eval: Callable[..., Any], tmp_path: Path
) -> None:
    scripted("plugin", function=lambda request: "echo: " + request.messages[-1].content)
    suite = write_suite(tmp_path, 10, fail_every=5)
    run = assert_eval(suite, min_pass_rate=0.8, model="scripted/plugin")
    assert run.summary["passed"] == 8
    with pytest.raises(AssertionError) as info:
        assert_eval(suite, min_pass_rate=0.9, model="scripted/plugin", epochs=2)
    message = str(info.value)
    assert "passed 8/10 cases = 80.0%, below the required 90.0%" in message
    assert "case 0#1: score 0.00; input 'say w0'; output 'echo: say w0'" in message
