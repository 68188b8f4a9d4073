"""Which prompt version made the support app slow and expensive this week?

Group by prompt version, leave out the calls with no version, and compare what a user
feels (the p95 latency, which a few timeouts do not move) and what a call costs (per
call, not the total: the busiest version has the biggest bill without being costly).
"""

from decimal import Decimal
from typing import TypedDict

from llmlab.monitor import call_stats
from llmlab.store import Store


class Culprit(TypedDict):
    """What the check reads: the version to blame and the two figures that convict it."""

    prompt: str
    p95_latency_s: float | None
    cost_per_call: Decimal | None


def slow_and_costly(store: Store) -> Culprit:
    """The slow and costly prompt version (``name@version``), its p95 latency in seconds
    and its cost per call in dollars."""
    versions = [g for g in call_stats(by="prompt", store=store).groups if g.key != "(none)"]
    slowest = max(versions, key=lambda g: g.latency_p95_s or 0.0)
    costliest = max(versions, key=lambda g: g.cost_per_call or 0)
    assert slowest.key == costliest.key, "no single version is both the slowest and costliest"
    return {
        "prompt": slowest.key,
        "p95_latency_s": slowest.latency_p95_s,
        "cost_per_call": slowest.cost_per_call,
    }
