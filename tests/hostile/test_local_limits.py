"""The embedded model never reports more output tokens than ``--max-tokens``."""

from __future__ import annotations

import json
import re

import pytest

from llmlab.store import Store

from ._cli import run_cli

pytest.importorskip("llama_cpp")


@pytest.mark.slow
@pytest.mark.parametrize("prompt", ["Count from 1 to 100.", "hi", "Say yes"])
@pytest.mark.parametrize("max_tokens", [1, 5, 20])
def test_output_tokens_within_max_tokens(
    llmlab_store: Store, capsys: pytest.CaptureFixture[str], prompt: str, max_tokens: int
) -> None:
    args = ["run", prompt, "-m", "local/smollm2", "--max-tokens", str(max_tokens)]
    code, out, err = run_cli(capsys, *args, "--json")
    assert code == 0, err
    assert json.loads(out)["usage"]["output_tokens"] <= max_tokens
    code, _, err = run_cli(capsys, *args)  # streamed
    assert code == 0, err
    match = re.search(r"(\d+) out", err)
    assert match is not None and int(match.group(1)) <= max_tokens
