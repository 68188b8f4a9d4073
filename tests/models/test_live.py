"""Live calls to the real APIs: run only with ``-m live`` and a real key.

The keys are read from LLMLAB_LIVE_OPENAI_KEY / LLMLAB_LIVE_ANTHROPIC_KEY (the other tests
replace the usual variables with fakes).
"""

from __future__ import annotations

import os

import pytest

from llmlab.models import Request, get_model

pytestmark = pytest.mark.live

CASES = [
    ("openai/gpt-4o-mini", "LLMLAB_LIVE_OPENAI_KEY"),
    ("anthropic/claude-haiku-4-5", "LLMLAB_LIVE_ANTHROPIC_KEY"),
]


@pytest.mark.parametrize(("name", "key_var"), CASES)
async def test_live_call_is_priced(name: str, key_var: str) -> None:
    key = os.environ.get(key_var)
    if not key:
        pytest.skip(f"{key_var} not set")
    model = get_model(name, api_key=key, base_url=None)
    try:
        response = await model.generate(Request.of("Say OK.", max_tokens=5))
    finally:
        await model.aclose()
    assert response.text
    assert response.usage.input_tokens > 0 and response.usage_reported
    assert response.cost_status == "priced" and response.cost is not None
