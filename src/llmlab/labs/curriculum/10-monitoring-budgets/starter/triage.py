"""Which prompt version made the support app slow and expensive this week?

The check builds a store with a fresh week of traffic (a new one on every check, the
culprit dealt at random) and calls ``slow_and_costly(store)``. Explore a week first:

    python traffic.py
    LLMLAB_DB=traffic.db llmlab monitor stats --by prompt

This first attempt, written in a hurry during the incident, picks the wrong thing.
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
    report = call_stats(by="model", store=store)
    top = report.groups[0]  # the first row of `llmlab monitor stats`
    return {
        "prompt": top.key,
        "p95_latency_s": top.latency_mean_s,
        "cost_per_call": top.cost,
    }
