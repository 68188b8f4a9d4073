"""Synthetic call records for the monitoring tests."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

from llmlab.monitor import CallRecord, new_call_id

MODELS = [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5"), ("openai", "gpt-4o")]


def make_calls(n: int, *, start: datetime, span: timedelta, seed: int = 7) -> list[CallRecord]:
    """``n`` varied calls spread over [start, start + span)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        provider, model = MODELS[i % len(MODELS)]
        status = "error" if rng.random() < 0.1 else "ok"
        duration = rng.lognormvariate(-0.5, 0.8)
        out.append(
            CallRecord(
                id=new_call_id(),
                started_at=start + span * rng.random(),
                provider=provider,
                requested_model=model,
                duration_s=duration,
                ttft_s=duration * 0.3 if i % 2 else None,
                input_tokens=100 + i % 50,
                output_tokens=20 + i % 30,
                cache_read_tokens=40 if i % 4 == 0 else 0,
                cost=None if model == "gpt-4o" else Decimal("0.000123") * (1 + i % 3),
                cost_status="unpriced" if model == "gpt-4o" else "priced",
                status=status,  # type: ignore[arg-type]
                error_type="provider_error" if status == "error" else None,
                tags={"user": f"u{i % 3}"} if i % 2 else {},
                prompt_name="summarize" if i % 5 == 0 else None,
                prompt_version=2 if i % 5 == 0 else None,
            )
        )
    return out


def nearest_rank(values: list[float], q: float) -> float:
    """Exact nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]
